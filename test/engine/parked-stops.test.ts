// Parked step stops over a scripted machine: the temporary breakpoints of a stepping operation stay
// on the target for the next one (consecutive `next`s through a loop plant the same few, and each
// insert or removal costs a packet and, under QEMU's TCG, a retranslation), but never outlive
// what needs them: any other resume, a vCPU stepping off one, and detach remove them, and a
// target whose breakpoints are int3s in guest memory never keeps one.
import { describe, expect, it } from 'vitest';
import { Sites } from '../../src/engine/breakpoints.js';
import { Session } from '../../src/engine/session.js';
import { ScriptedTarget } from '../support/scripted-target.js';

const A = 0x10_0040n;
const B = 0x10_0080n;

async function started() {
  const target = new ScriptedTarget({ 1: { rip: 0x10_0000n, rsp: 0x8000n }, 2: { rip: 0x20_0000n, rsp: 0x9000n } });
  const session = new Session(target);
  await session.start('interrupt');
  return { target, session };
}

/** vCPU 1 arrives at `pc` in the frame whose stack pointer is 0x8000. */
const arrive = (pc: bigint) => ({ set: { 1: { rip: pc, rsp: 0x8000n } }, stop: { kind: 'trap' as const, thread: 1 } });

describe('Sites: parking', () => {
  it('a parked site stays on the target, comes back without a packet, and goes at unpark', async () => {
    const target = new ScriptedTarget({ 1: { rip: 0n } });
    const sites = new Sites(target);
    await sites.add('sw', A);
    await sites.drop('sw', A, 1, true);
    expect(sites.parkedAt(A)).toBe(true);
    expect(sites.planted).toBe(0);
    await sites.add('sw', A);
    expect(sites.parkedAt(A)).toBe(false);
    await sites.drop('sw', A, 1, true);
    await sites.unpark();
    expect(target.log).toEqual(['Z sw 100040', 'z sw 100040']);
    expect(sites.size).toBe(0);
  });

  it('a site shared with a user breakpoint is not parked while the user holds it, and a user drop removes it', async () => {
    const target = new ScriptedTarget({ 1: { rip: 0n } });
    const sites = new Sites(target);
    await sites.add('sw', A); // the user's
    await sites.add('sw', A); // a step's
    await sites.drop('sw', A, 1, true);
    expect(sites.parkedAt(A)).toBe(false);
    await sites.drop('sw', A);
    expect(target.log).toEqual(['Z sw 100040', 'z sw 100040']);
  });

  it('stepping a vCPU off a parked site removes it for good (no step first, nothing put back)', async () => {
    const target = new ScriptedTarget({ 1: { rip: 0n } });
    const sites = new Sites(target);
    await sites.add('sw', A);
    await sites.drop('sw', A, 1, true);
    expect(await sites.lift(A)).toBeUndefined();
    expect(sites.size).toBe(0);
    expect(target.log).toEqual(['Z sw 100040', 'z sw 100040']);
  });

  it("a user's hardware breakpoint at a parked site's address is still stepped off after the parked site goes", async () => {
    const target = new ScriptedTarget({ 1: { rip: 0n } });
    const sites = new Sites(target);
    await sites.add('sw', A);
    await sites.drop('sw', A, 1, true);
    await sites.add('hw', A);
    const putBack = await sites.lift(A);
    expect(putBack).toBeDefined();
    await putBack!();
    expect(target.log).toEqual(['Z sw 100040', 'Z hw 100040', 'z sw 100040', 'z hw 100040', 'Z hw 100040']);
  });

  it('never parks where the breakpoint is an int3 in guest memory (gdbsx), nor on a dump', async () => {
    const target = new ScriptedTarget({ 1: { rip: 0n } });
    Object.assign(target, { breakpointInMemory: () => true });
    const sites = new Sites(target);
    await sites.add('sw', A);
    await sites.drop('sw', A, 1, true);
    expect(sites.size).toBe(0);
    expect(target.log).toEqual(['Z sw 100040', 'z sw 100040']);
  });
});

describe('Runner: parked step stops', () => {
  it('consecutive stepping runs keep their stops planted; a continue removes them before it resumes', async () => {
    const { target, session } = await started();
    target.script = [arrive(A), arrive(B), arrive(A)];
    const run = (address: bigint, stops: bigint[]) =>
      session.runner.stepping(async () => {
        const stop = await session.runner.runToAny(stops, async () => true, 1);
        expect(stop).toMatchObject({ kind: 'step', pc: address });
        return stop;
      });
    await run(A, [A, B]);
    await run(B, [B]);
    await run(A, [A]);
    // Planted once each: A comes back without a packet. The vCPU standing on one takes it away
    // (it is not stepped off and put back), and the next step that wants it plants it again.
    expect(target.log).toEqual([
      'Z sw 100040',
      'Z sw 100080',
      'continue',
      'z sw 100040',
      'continue',
      'Z sw 100040',
      'z sw 100080',
      'continue',
    ]);
    expect(session.sites.parkedCount).toBe(1);
    target.log.length = 0;
    target.script = [{ stop: { kind: 'interrupt', thread: 1 } }];
    await session.continue();
    // Nothing of the steps is left for the continue to meet.
    expect(target.log).toEqual(['z sw 100040', 'continue']);
    expect(session.sites.size).toBe(0);
  });

  it("a parked stop reached during another step's run is nobody's stop: the run goes on", async () => {
    const { target, session } = await started();
    target.script = [arrive(A)];
    await session.runner.stepping(() => session.runner.runToAny([A], async () => true, 1));
    expect(session.sites.parkedAt(A)).toBe(true);
    // The next step plants only B; vCPU 2 passes by parked A (which goes as it moves on), then vCPU 1 reaches B.
    target.script = [{ set: { 2: { rip: A } }, stop: { kind: 'trap', thread: 2 } }, arrive(B)];
    target.regs.get(1)!.set('rip', A + 4n);
    session.runner.setPosition(1, A + 4n);
    const stop = await session.runner.stepping(() => session.runner.runToAny([B], async () => true, 1));
    expect(stop).toMatchObject({ kind: 'step', thread: 1, pc: B });
  });

  it('detach removes parked stops with everything else', async () => {
    const { target, session } = await started();
    await session.addBreakpoint({ kind: 'address', address: 0x10_0100n });
    target.script = [arrive(A)];
    await session.runner.stepping(() => session.runner.runToAny([A, B], async () => true, 1));
    expect(session.sites.parkedCount).toBe(2);
    target.log.length = 0;
    await session.detach();
    expect(target.log.filter((l) => l.startsWith('z')).sort()).toEqual(['z sw 100040', 'z sw 100080', 'z sw 100100']);
    expect(target.log.at(-1)).toBe('D');
    expect(session.sites.size).toBe(0);
  });

  it('a run outside a stepping operation (runTo of a front end) removes its stops at once', async () => {
    const { target, session } = await started();
    target.script = [arrive(A)];
    await session.runTo(A, 0x8000n, 1);
    expect(target.log).toEqual(['Z sw 100040', 'continue', 'z sw 100040']);
    expect(session.sites.size).toBe(0);
  });
});
