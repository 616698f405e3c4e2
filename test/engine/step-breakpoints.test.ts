// A single step that lands on a user breakpoint's address is that breakpoint's hit, as in gdb (a
// line step ending with a single step out of a function or out of an inlined call went past a
// breakpoint at the return address: issue 18), over a scripted machine.
import { describe, expect, it } from 'vitest';
import { Session } from '../../src/engine/session.js';
import { ScriptedTarget } from '../support/scripted-target.js';

const A = 0x10_0040n;
const B = 0x10_0080n;

async function started() {
  const target = new ScriptedTarget({ 1: { rip: 0x10_0000n, rsp: 0x8000n } });
  const session = new Session(target);
  await session.start('interrupt');
  return { target, session };
}

const arrive = (pc: bigint) => ({ set: { 1: { rip: pc, rsp: 0x8000n } }, stop: { kind: 'trap' as const, thread: 1 } });

describe('Stepper: a single step that lands on a user breakpoint', () => {
  it('is that breakpoint hit, its count moving, and its condition deciding', async () => {
    const { target, session } = await started();
    const bp = await session.addBreakpoint({ kind: 'address', address: A });
    target.script = [arrive(A)];
    expect(await session.stepInstruction(1)).toMatchObject({ kind: 'breakpoint', thread: 1, pc: A, breakpoints: [bp] });
    expect(bp.hits).toBe(1);
    // An ignored hit counts, and the step ends there as a plain step.
    bp.ignoreCount = 1;
    target.script = [arrive(B), arrive(A)];
    await session.stepInstruction(1);
    expect(await session.stepInstruction(1)).toMatchObject({ kind: 'step', pc: A });
    expect(bp.hits).toBe(2);
  });
});
