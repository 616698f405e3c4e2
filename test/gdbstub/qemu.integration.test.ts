// Integration: the RSP client against real QEMU (TCG) running the reference unikernel.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GdbClient, RspClosedError, RspTimeoutError, SIGINT, SIGTRAP, type StopEvent } from '../../gdbstub/index.js';
import { type QemuInstance } from '../../src/qemu/index.js';
import { bootGuest } from '../support/guest.js';

const kernel = path.resolve(import.meta.dirname, '../../fixtures/unikernel/build/gcc-O0/kernel.elf');

function symbol(name: string): bigint {
  const line = execFileSync('nm', [kernel], { encoding: 'utf8' })
    .split('\n')
    .find((l) => l.endsWith(` ${name}`));
  if (!line) throw new Error(`no symbol ${name}`);
  return BigInt(`0x${line.split(' ')[0]}`);
}

function expectSignal(ev: StopEvent): StopEvent & { kind: 'signal' } {
  if (ev.kind !== 'signal') throw new Error(`expected a signal stop, got ${JSON.stringify(ev)}`);
  return ev;
}

describe('GdbClient against QEMU (integration)', () => {
  let q: QemuInstance;
  let client: GdbClient;
  const cpu1 = { pid: 1, tid: 1 };

  beforeAll(async () => {
    q = await bootGuest({ image: kernel, smp: 2, append: 'app=demo', gdb: 'unix', paused: true });
    client = await GdbClient.connect(q.gdbAddress!, { timeoutMs: 3000 });
  });
  afterAll(async () => {
    client?.close();
    await q?.kill();
  });

  it('negotiates QEMU: features, dialect, 66 registers in a 608-byte g', async () => {
    expect(client.features).toMatchObject({ packetSize: 4096, xferFeatures: true, vContSupported: true, multiprocess: true });
    expect(client.quirks.dialect).toBe('qemu');
    expect(client.layout.registers).toHaveLength(66);
    expect(client.layout.gSize).toBe(608);
    expect(expectSignal(await client.haltReason()).thread).toEqual(cpu1);
  });

  it('lists both vCPUs with their extra info', async () => {
    const threads = await client.threads();
    expect(threads).toEqual([cpu1, { pid: 1, tid: 2 }]);
    expect(await client.threadExtraInfo(cpu1)).toMatch(/^CPU#0/);
    expect(await client.currentThread()).toEqual(cpu1);
  });

  it('times out a request QEMU never answers and stays usable', async () => {
    await expect(client.conn.request('qThreadExtraInfo,p1.63', { timeoutMs: 200 })).rejects.toBeInstanceOf(RspTimeoutError);
    expect(await client.threadExtraInfo({ pid: 1, tid: 2 })).toMatch(/^CPU#1/);
  });

  it('stops at a software breakpoint, then a hardware one after stepping off', async () => {
    const tick = symbol('counter_tick');
    await client.insertBreakpoint('sw', tick);
    await client.cont();
    const ev = expectSignal(await client.waitForStop(20_000));
    expect(ev.signal).toBe(SIGTRAP);
    const t = ev.thread!;
    expect(await client.readRegister('rip', t)).toBe(tick);
    expect((await client.readRegisters(t)).get('rip')).toBe(tick);
    await client.removeBreakpoint('sw', tick);
    // QEMU re-reports a breakpoint at the PC we continue from: step off first.
    await client.step(t);
    const stepped = expectSignal(await client.waitForStop(5000));
    expect(stepped.thread).toEqual(t);
    expect(await client.readRegister('rip', t)).not.toBe(tick);
    await client.insertBreakpoint('hw', tick);
    await client.cont();
    const hw = expectSignal(await client.waitForStop(20_000));
    expect(await client.readRegister('rip', hw.thread!)).toBe(tick);
    await client.removeBreakpoint('hw', tick);
  });

  it('reads and writes registers and memory', async () => {
    const rip = await client.readRegister('rip', cpu1);
    // The guest runs on afterwards: rax goes back, or a live pointer in it faults (a GP fault in
    // thread_sleep, seen once, when the stop fell between its load and its use).
    const rax = await client.readRegister('rax', cpu1);
    await client.writeRegister('rax', 0x1122334455667788n, cpu1);
    expect(await client.readRegister('rax', cpu1)).toBe(0x1122334455667788n);
    expect((await client.readRegisters(cpu1)).get('rip')).toBe(rip);
    await client.writeRegister('rax', rax, cpu1);
    expect(await client.readRegister('rax', cpu1)).toBe(rax);
    const cfg = symbol('demo_config');
    const orig = await client.readMemory(cfg, 16);
    await client.writeMemory(cfg, Buffer.from('duster-was-here!'));
    expect((await client.readMemory(cfg, 16)).toString()).toBe('duster-was-here!');
    await client.writeMemory(cfg, orig);
    expect(await client.readMemory(cfg, 16)).toEqual(orig);
  });

  it('reads 1 MiB with and without pipelining', async () => {
    const MiB = 1 << 20;
    const measure = async (window: number) => {
      client.cache.clear();
      const before = client.stats.roundTrips;
      const t0 = performance.now();
      const data = await client.readMemory(0x100000n, MiB, window);
      const ms = performance.now() - t0;
      expect(data.length).toBe(MiB);
      return { window, ms: +ms.toFixed(1), mibPerS: +(1000 / ms).toFixed(1), roundTripWaits: client.stats.roundTrips - before };
    };
    const serial = await measure(1);
    const piped = await measure(16);
    const all = await measure(512);
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) await client.request('g');
    const gRoundTripMs = +((performance.now() - t0) / 200).toFixed(3);
    console.log(JSON.stringify({ serial, piped, all, gRoundTripMs }));
    expect(serial.roundTripWaits).toBe(512);
    expect(piped.roundTripWaits).toBeLessThan(serial.roundTripWaits);
  });

  it('reports write, read and access watchpoints with the address', async () => {
    const counter = symbol('demo_counter');
    for (const kind of ['write', 'read', 'access'] as const) {
      await client.insertBreakpoint(kind, counter, 8);
      await client.cont();
      const ev = expectSignal(await client.waitForStop(20_000));
      await client.removeBreakpoint(kind, counter, 8);
      expect(ev.watch).toEqual({ kind: { write: 'watch', read: 'rwatch', access: 'awatch' }[kind], address: counter });
    }
  });

  it('steps one vCPU and interrupts a running guest', async () => {
    const rip = await client.readRegister('rip', cpu1);
    await client.resume([{ action: 's', thread: cpu1 }]);
    expect(expectSignal(await client.waitForStop(5000)).thread).toEqual(cpu1);
    expect(await client.readRegister('rip', cpu1)).not.toBe(rip);
    await client.cont();
    await new Promise((r) => setTimeout(r, 100));
    client.interrupt();
    expect(expectSignal(await client.waitForStop(5000)).signal).toBe(SIGINT);
  });

  it('runs monitor commands and the QEMU extras', async () => {
    expect(await client.monitor('info status')).toMatch(/VM status: paused/);
    expect(await client.qemuSstepFlags()).toBe(7);
    await client.setQemuSstepFlags(1);
    expect(await client.qemuSstepFlags()).toBe(1);
    await client.setQemuSstepFlags(7);
    await client.setQemuPhysicalMemoryMode(true);
    const phys = await client.readMemory(symbol('kmain'), 8);
    await client.setQemuPhysicalMemoryMode(false);
    expect(await client.readMemory(symbol('kmain'), 8)).toEqual(phys);
  });

  it('detaches leaving the guest running, then sees QEMU killed under it', async () => {
    await client.detach();
    const len = q.serialText.length;
    await q.waitForSerial(/counter: demo_counter=\d+/, 20_000);
    await expect.poll(() => q.serialText.length, { timeout: 20_000 }).toBeGreaterThan(len);
    client = await GdbClient.connect(q.gdbAddress!, { timeoutMs: 3000 });
    // QEMU never answers a bad thread id, so this stays pending until QEMU dies (SIGKILL: no W00).
    const pending = client.threadExtraInfo({ pid: 1, tid: 0x63 });
    q.proc.kill('SIGKILL');
    await expect(pending).rejects.toBeInstanceOf(RspClosedError);
    await expect(client.request('g')).rejects.toBeInstanceOf(RspClosedError);
    expect(() => client.conn.send('g')).toThrow(RspClosedError);
  });

  it('reports W00 when QEMU exits politely', async () => {
    const q2 = await bootGuest({ image: kernel, smp: 2, append: 'app=demo', gdb: 'tcp', paused: true });
    const c2 = await GdbClient.connect(q2.gdbAddress!);
    try {
      await c2.cont();
      const stopped = c2.waitForStop(20_000);
      await q2.kill();
      expect(await stopped).toEqual({ kind: 'exited', code: 0 });
    } finally {
      c2.close();
      await q2.kill();
    }
  });
});
