// Integration: a stop's frames are computed at that stop. A logpoint (or a condition) evaluated
// at an earlier internal stop of the same run unwinds the stack there; the stop the user sees must
// not reuse that unwind. One vCPU, so both stops are certainly on the same one.
import { describe, expect, it } from 'vitest';
import { referenceSource, useGuest } from '../support/guest.js';

const demo = referenceSource('app_demo.c');

describe('frames at a stop after internal stops (integration)', () => {
  const guest = useGuest({ smp: 1, os: false });

  it('shows the line of the breakpoint, not of the logpoint evaluated just before', async () => {
    const logs: string[] = [];
    guest.session.on('output', (_c, text) => logs.push(text));
    const log = await guest.session.addBreakpoint({ kind: 'line', file: demo, line: 230 }, { logMessage: 'before {demo_counter}' });
    const bp = await guest.session.addBreakpoint({ kind: 'line', file: demo, line: 231 });
    const stop = await guest.session.continue();
    expect(stop).toMatchObject({ kind: 'breakpoint', breakpoints: [bp] });
    if (stop.kind !== 'breakpoint') throw new Error(`continue stopped with ${stop.kind}`);
    expect(logs.some((l) => /^before \d+\n$/.test(l))).toBe(true);
    const [top] = await guest.session.frames(stop.thread);
    expect(top).toMatchObject({ function: 'counter_tick', line: 231, pc: stop.pc });
    await guest.session.deletePoint(log.id);
    await guest.session.deletePoint(bp.id);
  });
});
