// The session facade and its runner over a scripted machine: one `running` and one `stopped` event
// per operation however many resumes it takes, runs to an address that decline other frames' hits,
// an interrupt that ends an operation between two of its resumes, detach without a trace, and the
// errors a session in the wrong state gives.
import { describe, expect, it } from 'vitest';
import { Session } from '../../src/engine/session.js';
import type { StopEvent } from '../../src/engine/stop-event.js';
import { ScriptedTarget } from '../support/scripted-target.js';

const RET = 0x10_0040n;

async function started(
  vcpus: Record<number, Record<string, bigint>> = { 1: { rip: 0x10_0000n, rsp: 0x8000n }, 2: { rip: 0x20_0000n, rsp: 0x9000n } },
) {
  const target = new ScriptedTarget(vcpus);
  const session = new Session(target);
  const events: string[] = [];
  session.on('running', () => events.push('running'));
  session.on('stopped', (s: StopEvent) => events.push(`stopped ${s.kind}`));
  await session.start('interrupt');
  events.length = 0;
  return { target, session, events };
}

describe('Session over a scripted target', () => {
  it('runs to an address in one frame: hits in other frames are declined, and the front ends hear once', async () => {
    const { target, session, events } = await started();
    target.script = [
      // vCPU 2 passes by the address with another stack pointer: not this frame.
      { set: { 2: { rip: RET, rsp: 0x9100n } }, stop: { kind: 'trap', thread: 2 } },
      // ...and is stepped off it before the next continue.
      { set: { 2: { rip: RET + 1n } }, stop: { kind: 'trap', thread: 2 } },
      { set: { 1: { rip: RET, rsp: 0x8008n } }, stop: { kind: 'trap', thread: 1 } },
    ];
    const stop = await session.runTo(RET, 0x8008n, 1);
    expect(stop).toEqual({ kind: 'step', thread: 1, pc: RET, hiddenInline: 0 });
    expect(events).toEqual(['running', 'stopped step']);
    // Planted once, resumed twice (vCPU 2 stood on it and was stepped off it first), lifted at the end.
    expect(target.log).toEqual(['Z sw 100040', 'continue', 'z sw 100040', 'step 2', 'Z sw 100040', 'continue', 'z sw 100040']);
    expect(session.sites.size).toBe(0);
  });

  it('a user breakpoint at the address of a run keeps its say', async () => {
    const { target, session } = await started();
    const bp = await session.addBreakpoint({ kind: 'address', address: RET }, { ignoreCount: 1 });
    target.script = [
      { set: { 2: { rip: RET, rsp: 0x9100n } }, stop: { kind: 'trap', thread: 2 } },
      { set: { 2: { rip: RET + 1n } }, stop: { kind: 'trap', thread: 2 } },
      { set: { 2: { rip: RET, rsp: 0x9100n } }, stop: { kind: 'trap', thread: 2 } },
    ];
    // The first hit is ignored (its count), the second stops, though in another frame than the run's.
    const stop = await session.runTo(RET, 0x8008n, 1);
    expect(stop).toMatchObject({ kind: 'breakpoint', thread: 2, breakpoints: [bp] });
    expect(bp.hits).toBe(2);
  });

  it('an interrupt ends an operation that keeps resuming', async () => {
    const { target, session, events } = await started();
    // Every hit is declined; then nothing is scripted and the guest runs until interrupted.
    target.script = [{ set: { 2: { rip: RET, rsp: 0x9100n } }, stop: { kind: 'trap', thread: 2 } }];
    const run = session.runTo(RET, 0x1n, 1);
    while (!target.running) await new Promise((r) => setTimeout(r, 1));
    await session.interrupt();
    expect(await run).toMatchObject({ kind: 'interrupt' });
    expect(events).toEqual(['running', 'stopped interrupt']);
    expect(session.isRunning).toBe(false);
  });

  it('refuses what the state does not allow, with one line naming why', async () => {
    const { target, session } = await started();
    const run = session.continue();
    while (!target.running) await new Promise((r) => setTimeout(r, 1));
    await expect(session.addBreakpoint({ kind: 'address', address: RET })).rejects.toThrow(
      'cannot set a breakpoint while the guest is running (interrupt it first)',
    );
    await session.interrupt();
    await run;
    target.script = [{ stop: { kind: 'exited', code: 3 } }];
    expect(await session.continue()).toEqual({ kind: 'exited', exitCode: 3 });
    await expect(session.stepInstruction(1)).rejects.toThrow('cannot step: the guest has exited');
  });

  it('detach removes every site and leaves the session unusable with a clear error', async () => {
    const { target, session } = await started();
    await session.addBreakpoint({ kind: 'address', address: RET });
    await session.addBreakpoint({ kind: 'address', address: RET }, { hardware: true });
    await session.detach();
    expect(target.log).toEqual(['Z sw 100040', 'Z hw 100040', 'z sw 100040', 'z hw 100040', 'D']);
    await expect(session.continue()).rejects.toThrow('cannot resume: detached from the guest');
  });

  it('a connection that closes leaves the session saying so', async () => {
    const { target, session } = await started();
    await target.close();
    expect(session.isAlive).toBe(false);
    await expect(session.stepInstruction(1)).rejects.toThrow('cannot step: the connection to the guest is closed');
  });

  it('a crash dump never runs', async () => {
    const { target, session } = await started();
    target.kind = 'dump';
    await expect(session.continue()).rejects.toThrow('cannot resume: a crash dump is read-only');
    expect(() => session.ensureResumable('step')).toThrow('cannot step: a crash dump is read-only');
  });
});
