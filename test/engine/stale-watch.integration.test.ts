// Integration: QEMU's stale watchpoint reports. When two vCPUs trigger a watchpoint at the same
// moment QEMU reports one of them; the other vCPU keeps a record of its hit that outlives the
// watchpoint and rides on its next stop reply with a garbage address (seen in 2 of 40 rounds of
// read-watch / delete / break / continue on the reference unikernel). A proxy in front of a real
// QEMU adds such a record to the stop reply of a breakpoint hit and of a single step: the engine
// must report the breakpoint and the step, not an unexplained SIGTRAP. When the freed memory has
// been reused for a new watchpoint the record names that one: a hit the instruction just run
// cannot have made is refuted. Real watchpoints still report as watchpoints.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Program } from '../../src/engine/program.js';
import { Session } from '../../src/engine/session.js';
import { type QemuInstance } from '../../src/qemu/index.js';
import { bootGuest } from '../support/guest.js';
import { LiveTarget } from '../../src/targets/index.js';
import { RspProxy } from '../support/rsp-proxy.js';

const root = path.resolve(import.meta.dirname, '../../fixtures/unikernel');
const kernel = path.join(root, 'build/gcc-O0/kernel.elf');

/** What QEMU 7.2 sent: `awatch:` and a host heap address of the freed watchpoint. */
const GARBAGE = 'awatch:559e4a11402a;';

/** Adds a stale record to the first T05 stop reply in a chunk, with its checksum redone. */
function addStaleWatch(chunk: Buffer, record: string): Buffer | undefined {
  const s = chunk.toString('latin1');
  const m = /\$(T05[^#]*)#[0-9a-f]{2}/.exec(s);
  if (!m || m[1]!.includes('watch:')) return undefined;
  const payload = m[1] + record;
  const sum = [...payload].reduce((a, c) => (a + c.charCodeAt(0)) & 0xff, 0);
  return Buffer.from(s.replace(m[0], `$${payload}#${sum.toString(16).padStart(2, '0')}`), 'latin1');
}

describe('stale watchpoint reports from QEMU (integration)', () => {
  let q: QemuInstance;
  let proxy: RspProxy;
  let target: LiveTarget;
  let session: Session;
  /** Set to the record to add to the next stop reply. */
  let inject: string | undefined;
  let injected = 0;

  beforeAll(async () => {
    execFileSync('make', ['-s', '-C', root]);
    q = await bootGuest({ image: kernel, smp: 2, append: 'app=demo', gdb: 'unix', paused: true });
    proxy = await RspProxy.start(q.gdbAddress!);
    proxy.fault = (dir, chunk) => {
      const out = inject && dir === 's2c' ? addStaleWatch(chunk, inject) : undefined;
      if (!out) return chunk;
      inject = undefined;
      injected++;
      return out;
    };
    target = await LiveTarget.connect(proxy.address);
    session = new Session(target);
    await session.loadProgram(await Program.load(kernel));
    await session.start();
  });
  afterAll(async () => {
    await target?.close();
    await proxy?.close();
    await q?.kill();
  });

  it('reports a breakpoint hit whose stop reply carries a stale watch', async () => {
    const bp = await session.addBreakpoint({ kind: 'function', name: 'ring_put' });
    inject = GARBAGE;
    const stop = await session.continue();
    expect(injected).toBe(1);
    expect(stop).toMatchObject({ kind: 'breakpoint', pc: bp.locations[0]!.address, breakpoints: [bp] });
    await session.deletePoint(bp.id);
  });

  it('reports a single step whose stop reply carries a stale watch', async () => {
    const at = session.stop!.kind === 'exited' ? 1 : session.stop!.thread;
    const before = (await target.readRegisters(at)).get('rip')!;
    inject = GARBAGE;
    const stop = await session.stepInstruction(at);
    expect(injected).toBe(2);
    if (stop.kind !== 'step') throw new Error(`stepi stopped with ${stop.kind}`);
    expect(stop.pc).not.toBe(before);
  });

  it('reports a breakpoint hit whose stop reply names a live watchpoint the code there never touches', async () => {
    // The freed watchpoint's memory reused for a new one: the stale record then names it. `origin`
    // is a global nothing reads, so the only stop is the breakpoint.
    const { address, size } = await session.watchTarget('origin.x', { thread: 1, level: 0 });
    const wp = await session.addWatchpoint({ expression: 'origin.x', address, length: size, access: 'access' });
    const bp = await session.addBreakpoint({ kind: 'function', name: 'ring_put' });
    inject = `awatch:${address.toString(16)};`;
    const stop = await session.continue();
    expect(injected).toBe(3);
    expect(stop).toMatchObject({ kind: 'breakpoint', breakpoints: [bp] });
    expect(wp.hits).toBe(0);
    await session.deletePoint(bp.id);
    await session.deletePoint(wp.id);
  });

  it('still reports a real watchpoint hit as one', async () => {
    const { address, size } = await session.watchTarget('demo_counter', { thread: 1, level: 0 });
    const wp = await session.addWatchpoint({ expression: 'demo_counter', address, length: size, access: 'write' });
    const stop = await session.continue();
    expect(stop).toMatchObject({ kind: 'watchpoint', watch: { point: wp } });
    await session.deletePoint(wp.id);
  });
});
