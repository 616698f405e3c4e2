// Integration: the engine's run control against QEMU running the reference unikernel: breakpoints
// with hit counts and temporary ones, stepping off breakpoints, stepi/nexti, write watchpoints with
// old and new values, and a detach that leaves the guest as it was found.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Session } from '../../src/engine/session.js';
import { LiveTarget } from '../../src/targets/index.js';
import { attachGuest, detachGuest, referenceKernel, type AttachedGuest } from '../support/guest.js';

const kernel = referenceKernel();

function symbols(): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const line of execFileSync('nm', [kernel], { encoding: 'utf8' }).split('\n')) {
    const [addr, , name] = line.split(' ');
    if (name) out.set(name, BigInt(`0x${addr}`));
  }
  return out;
}

describe('Session run control against QEMU (integration)', () => {
  let guest: AttachedGuest;
  let target: LiveTarget;
  let session: Session;
  let sym: Map<string, bigint>;
  /** The vCPU the session last stopped on. */
  const stopped = () => {
    const stop = session.stop!;
    if (stop.kind === 'exited') throw new Error('the guest exited');
    return stop.thread;
  };

  beforeAll(async () => {
    guest = await attachGuest({ symbols: false, os: false });
    ({ target, session } = guest);
    sym = symbols();
  });
  afterAll(() => detachGuest(guest));

  it('stops at a breakpoint three times, stepping off it each time', async () => {
    const tick = sym.get('counter_tick')!;
    const bp = await session.addBreakpoint({ kind: 'address', address: tick });
    for (let i = 1; i <= 3; i++) {
      const stop = await session.continue();
      expect(stop).toMatchObject({ kind: 'breakpoint', pc: tick });
      expect(bp.hits).toBe(i);
    }
    await session.deletePoint(bp.id);
    expect(session.sites.size).toBe(0);
  });

  it('honours ignore counts and deletes temporary breakpoints after their hit', async () => {
    const step = sym.get('worker_step')!;
    const bp = await session.addBreakpoint({ kind: 'address', address: step }, { temporary: true, ignoreCount: 2 });
    const stop = await session.continue();
    expect(stop).toMatchObject({ kind: 'breakpoint', pc: step });
    expect(bp.hits).toBe(3);
    expect(session.breakpoints()).toHaveLength(0);
    expect(session.sites.size).toBe(0);
  });

  it('stepi moves one instruction; nexti runs a call to its return in the same frame', async () => {
    const before = (await target.readRegisters(stopped())).get('rip')!;
    const s1 = await session.stepInstruction(stopped());
    if (s1.kind !== 'step') throw new Error(`stepi stopped with ${s1.kind}`);
    expect(s1.pc).not.toBe(before);
    // Walk worker_step with nexti until just past its first call; rsp must match before and after.
    for (let i = 0; i < 200; i++) {
      const regs = await target.readRegisters(stopped());
      const code = await target.readMemory(regs.get('rip')!, 1);
      if (code[0] === 0xe8) {
        const after = await session.stepInstruction(stopped(), true);
        if (after.kind !== 'step') throw new Error(`nexti stopped with ${after.kind}`);
        expect(after.pc).toBe(regs.get('rip')! + 5n);
        expect((await target.readRegisters(after.thread)).get('rsp')).toBe(regs.get('rsp'));
        return;
      }
      await session.stepInstruction(stopped());
    }
    throw new Error('no call found within 200 instructions of worker_step');
  });

  it('catches writes to demo_counter with old and new values', async () => {
    const counter = sym.get('demo_counter')!;
    const wp = await session.addWatchpoint({ expression: 'demo_counter', address: counter, length: 8, access: 'write' });
    const stop = await session.continue();
    if (stop.kind !== 'watchpoint') throw new Error(`continue stopped with ${stop.kind}`);
    const old = Buffer.from(stop.watch.old!).readBigUInt64LE();
    const now = Buffer.from(stop.watch.value).readBigUInt64LE();
    expect(now).toBe(old + 1n);
    await session.deletePoint(wp.id);
  });

  it('detaches leaving no breakpoint behind and the guest running', async () => {
    const text = [sym.get('counter_tick')!, sym.get('worker_step')!];
    const before = await Promise.all(text.map((a) => target.readMemory(a, 16)));
    for (const a of text) await session.addBreakpoint({ kind: 'address', address: a });
    await session.detach();
    const seen = guest.qemu.serialText.length;
    await guest.qemu.waitForSerial(/counter: demo_counter=\d+/, 10_000, seen);
    // A fresh connection sees the original bytes and no stop at the old breakpoints.
    target = guest.target = await LiveTarget.connect(guest.qemu.gdbAddress!);
    const after = await Promise.all(text.map((a) => target.readMemory(a, 16)));
    expect(after).toEqual(before);
  });
});
