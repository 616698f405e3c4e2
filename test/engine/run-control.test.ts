// RunControl against a scripted target. A vCPU is stepped off its breakpoint before a continue,
// and that step, like any single step, is asked again when the stub answers it with another
// vCPU's pending breakpoint stop (QEMU keeps one per vCPU). Seen in CI as a breakpoint's command
// list running twice for one hit, and as a `step` that stopped on the line it started from.
import { describe, expect, it } from 'vitest';
import { Sites } from '../../src/engine/breakpoints.js';
import { RunControl } from '../../src/engine/run-control.js';
import type { ResumeAction, StopReason, Target } from '../../src/targets/index.js';

const BP = 0x100d1bn;

/** Two vCPUs, both on the breakpoint; `steps` is what each step request is answered with. */
function scripted(steps: StopReason[]) {
  const pcs = new Map([
    [1, BP],
    [2, BP],
  ]);
  const log: string[] = [];
  const target = {
    insertBreakpoint: async (_k: string, a: bigint) => void log.push(`Z ${a.toString(16)}`),
    removeBreakpoint: async (_k: string, a: bigint) => void log.push(`z ${a.toString(16)}`),
    readRegisters: async (t: number) => new Map([['rip', pcs.get(t)!]]),
    resume: async (a: ResumeAction): Promise<StopReason> => {
      if (a.kind === 'step') {
        log.push(`step ${a.thread}`);
        const r = steps.shift()!;
        if (r.kind === 'trap' && r.thread === a.thread) pcs.set(a.thread, BP + 1n);
        return r;
      }
      log.push('continue');
      return { kind: 'interrupt', thread: 1 };
    },
  } as unknown as Target;
  return { target, log };
}

describe('RunControl', () => {
  it('steps the stopped vCPU off its breakpoint, then continues', async () => {
    const { target, log } = scripted([{ kind: 'trap', thread: 1 }]);
    const sites = new Sites(target);
    await sites.add('sw', BP);
    const rc = new RunControl(target, sites);
    rc.setPosition(1, BP);
    await rc.resumeOnce({ kind: 'continue' });
    expect(log).toEqual(['Z 100d1b', 'z 100d1b', 'step 1', 'Z 100d1b', 'continue']);
  });

  it("tries the step again when another vCPU's pending breakpoint stop comes in its place", async () => {
    const { target, log } = scripted([
      { kind: 'trap', thread: 2 },
      { kind: 'trap', thread: 1 },
    ]);
    const sites = new Sites(target);
    await sites.add('sw', BP);
    const rc = new RunControl(target, sites);
    rc.setPosition(1, BP);
    await rc.resumeOnce({ kind: 'continue' });
    expect(log).toEqual(['Z 100d1b', 'z 100d1b', 'step 1', 'step 1', 'Z 100d1b', 'continue']);
  });

  it('a single step answered by another vCPU is asked again, and ends where this vCPU went', async () => {
    const { target, log } = scripted([
      { kind: 'trap', thread: 2 },
      { kind: 'trap', thread: 1 },
    ]);
    const sites = new Sites(target);
    const rc = new RunControl(target, sites);
    rc.setPosition(1, BP + 0x10n);
    const stop = await rc.resumeOnce({ kind: 'step', thread: 1 });
    expect(log).toEqual(['step 1', 'step 1']);
    expect(stop).toMatchObject({ reason: { kind: 'trap', thread: 1 }, pc: BP + 1n });
  });
});
