// Integration: what the live target sends QEMU, counted by the packet proxy: the vCPU list read
// once per connection and only as far as asked, QEMU's extra info only when a description is
// wanted (once per stop), code breakpoints held until the guest runs and then sent together,
// memory the caller names read with the registers at the stop, resumes sent behind breakpoint
// changes without waiting for their replies, a step of several with no reads
// between its steps, and a detach that leaves QEMU to
// drop what it holds, after which the guest runs on unstopped.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type QemuInstance } from '../../src/qemu/index.js';
import { bootGuest } from '../support/guest.js';
import { LiveTarget } from '../../src/targets/index.js';
import { RspProxy } from '../support/rsp-proxy.js';

const root = path.resolve(import.meta.dirname, '../../fixtures/unikernel');
const kernel = path.join(root, 'build/gcc-O0/kernel.elf');

function symbol(name: string): bigint {
  const line = execFileSync('nm', [kernel], { encoding: 'utf8' })
    .split('\n')
    .find((l) => l.endsWith(` ${name}`));
  return BigInt(`0x${line!.split(' ')[0]}`);
}

describe('live target packets (integration)', () => {
  let q: QemuInstance;
  let proxy: RspProxy;
  let target: LiveTarget;

  /** Requests sent since the last call, without their checksums. */
  const sent = () => {
    const out = proxy.packets.filter((p) => p.dir === 'c2s' && p.data.startsWith('$')).map((p) => p.data.slice(1, -3));
    proxy.reset();
    return out;
  };

  /** Continues to the counter_tick or fib breakpoint: both addresses, the vCPU that stopped and its pc. */
  const stopAtPlanted = async () => {
    const tick = symbol('counter_tick');
    const fib = symbol('fib');
    const stop = await target.resume({ kind: 'continue' });
    expect(stop.kind).toBe('trap');
    const thread = (stop as { thread: number }).thread;
    return { tick, fib, thread, pc: (await target.readRegisters(thread)).get('rip')! };
  };

  beforeAll(async () => {
    execFileSync('make', ['-s', '-C', root]);
    q = await bootGuest({ image: kernel, smp: 2, append: 'app=demo', gdb: 'unix' });
    await q.waitForSerial(/counter: demo_counter=\d+/, 20_000);
    proxy = await RspProxy.start(q.gdbAddress!);
    target = await LiveTarget.connect(proxy.address);
    sent();
  });
  afterAll(async () => {
    await target?.close();
    await proxy?.close();
    await q?.kill();
  });

  it('reads the vCPU list once, as far as asked, and describes vCPUs once per stop', async () => {
    expect(await target.threadIds(1)).toEqual([1]);
    expect(sent()).toEqual(['qfThreadInfo']);
    expect(await target.threadIds(2)).toEqual([1, 2]);
    expect(await target.threadIds()).toEqual([1, 2]);
    expect(sent()).toEqual(['qsThreadInfo', 'qsThreadInfo']);
    const described = await target.threads();
    expect(described.map((t) => t.id)).toEqual([1, 2]);
    expect(described[0]).toMatchObject({ cpu: 0, description: expect.stringMatching(/^CPU 0 \[(running|halted ?)\]$/) });
    expect(described[1]).toMatchObject({ cpu: 1, description: expect.stringMatching(/^CPU 1 \[(running|halted ?)\]$/) });
    await target.threads();
    expect(sent()).toEqual(['qThreadExtraInfo,p1.1', 'qThreadExtraInfo,p1.2']);

    const tick = symbol('counter_tick');
    await target.insertBreakpoint('sw', tick, 1);
    const stop = await target.resume({ kind: 'continue' });
    expect(stop).toMatchObject({ kind: 'trap' });
    await target.removeBreakpoint('sw', tick, 1);
    expect(await target.threadIds()).toEqual([1, 2]);
    await target.threads();
    expect(sent().filter((p) => /Thread/.test(p))).toEqual(['qThreadExtraInfo,p1.1', 'qThreadExtraInfo,p1.2']);
  });

  it('holds code breakpoints until the guest runs, then sends them before the resume', async () => {
    const tick = symbol('counter_tick');
    const fib = symbol('fib');
    // Inserted and removed while stopped: the stub never hears of it; the tick breakpoint removed
    // at the last stop and put back now never left QEMU.
    await target.insertBreakpoint('sw', fib, 1);
    await target.removeBreakpoint('sw', fib, 1);
    await target.insertBreakpoint('sw', tick, 1);
    await target.insertBreakpoint('hw', fib, 1);
    expect(sent()).toEqual([]);
    const stop = await target.resume({ kind: 'continue' });
    // The resume goes out behind the change without waiting for its reply, and the reply's ack
    // only once the guest stopped (any byte stops a running QEMU).
    const wire = proxy.packets.map((p) =>
      p.dir === 'c2s' ? p.data.replace(/^\$(.*)#..$/, '$1') : `<${p.data.replace(/^\$(.*)#..$/, '$1')}`,
    );
    const resumed = wire.indexOf('vCont;c');
    expect(wire.indexOf('<OK')).toBeGreaterThan(resumed);
    expect(wire.slice(resumed + 1).findIndex((w) => w.startsWith('<T'))).toBeLessThan(wire.slice(resumed + 1).indexOf('+'));
    // Then the stopped vCPU's registers, which every stop is looked at through.
    expect(sent()).toEqual([`Z1,${fib.toString(16)},1`, 'vCont;c', 'g']);
    expect(stop.kind).toBe('trap');
  });

  it('reads what the caller names with the registers when the guest stops', async () => {
    const tick = symbol('counter_tick');
    const stop = await target.resume({ kind: 'continue' }, [
      { address: tick, size: 1 },
      { address: tick + 8n, size: 4 },
    ]);
    expect(stop.kind).toBe('trap');
    const block = tick - (tick % 2048n);
    expect(sent()).toEqual(['vCont;c', 'g', `m${block.toString(16)},800`]);
    await target.readMemory(tick, 16);
    await target.readRegisters((stop as { thread: number }).thread);
    expect(sent()).toEqual([]);
  });

  it('stops the guest again and reports it when a change sent ahead of a resume fails', async () => {
    const step = symbol('worker_step');
    await target.insertBreakpoint('sw', step, 1);
    const refused = `$E22#${(['E', '2', '2'].reduce((a, c) => a + c.charCodeAt(0), 0) & 0xff).toString(16)}`;
    let fired = false;
    proxy.fault = (dir, chunk) => {
      const text = chunk.toString('latin1');
      if (dir !== 's2c' || fired || !text.includes('$OK#9a')) return chunk;
      fired = true;
      return Buffer.from(text.replace('$OK#9a', refused), 'latin1');
    };
    try {
      await expect(target.resume({ kind: 'continue' })).rejects.toThrow(/insert sw breakpoint at 0x[0-9a-f]+: .*E22/);
    } finally {
      proxy.fault = undefined;
    }
    expect(fired).toBe(true);
    expect(target.running).toBe(false);
    expect((await target.readRegisters(1)).get('rip')).toBeDefined();
    // Dropped while still pending; QEMU did take it (the proxy made up the refusal), so it goes too.
    await target.removeBreakpoint('sw', step, 1);
    await target.client.removeBreakpoint('sw', step, 1);
    sent();
  });

  it('takes a step of several one step after another, reading registers only at the end', async () => {
    const { tick, fib, thread, pc: from } = await stopAtPlanted();
    await target.removeBreakpoint('sw', tick, 1);
    await target.removeBreakpoint('hw', fib, 1);
    sent();
    const stepped = await target.resume({ kind: 'step', thread, count: 5 });
    expect(stepped).toMatchObject({ kind: 'trap', thread });
    const vcpu = `p1.${thread.toString(16)}`;
    expect(sent()).toEqual([
      `z0,${tick.toString(16)},1`,
      `z1,${fib.toString(16)},1`,
      ...Array.from({ length: 5 }, () => `vCont;s:${vcpu}`),
      'g',
    ]);
    expect((await target.readRegisters(thread)).get('rip')).not.toBe(from);
    await target.insertBreakpoint('sw', tick, 1);
    await target.insertBreakpoint('hw', fib, 1);
  });

  it("before a single step sends only the change at the stepping vCPU's pc", async () => {
    const { tick, fib, thread, pc } = await stopAtPlanted();
    expect([tick, fib]).toContain(pc);
    const other = pc === tick ? fib : tick;
    const kindAt = (a: bigint) => (a === tick ? 'sw' : 'hw');
    await target.removeBreakpoint(kindAt(pc), pc, 1);
    await target.removeBreakpoint(kindAt(other), other, 1);
    sent();
    await target.resume({ kind: 'step', thread });
    const packets = sent();
    expect(packets.filter((p) => /^[Zz]/.test(p))).toEqual([`z${pc === tick ? 0 : 1},${pc.toString(16)},1`]);
    // The other removal waits for a run; a detach leaves it to QEMU, which drops everything at D.
    await target.detach();
    expect(sent()).toEqual(['D;1']);
    const seen = q.serialText.length;
    await q.waitForSerial(/counter: demo_counter=\d+/, 10_000, seen);
    expect(await q.status()).toBe('running');
  });
});
