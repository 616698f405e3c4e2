// Code breakpoint changes held until the guest runs: what cancels, what a flush sends and in
// which order, and that a change the stub refused is tried again.
import { describe, expect, it } from 'vitest';
import { PendingBreakpoints, type CodeBreakpoint } from '../../src/targets/pending-breakpoints.js';

const bp = (address: bigint, kind: 'sw' | 'hw' = 'sw'): CodeBreakpoint => ({ kind, address, length: 1 });

function recorder(fail = new Set<string>()) {
  const sent: string[] = [];
  const apply = async (b: CodeBreakpoint, insert: boolean) => {
    const packet = `${insert ? 'Z' : 'z'}${b.kind === 'sw' ? 0 : 1},${b.address.toString(16)}`;
    sent.push(packet);
    if (fail.has(packet)) throw new Error(`${packet} refused`);
  };
  return { sent, apply };
}

describe('pending code breakpoints', () => {
  it('sends nothing for an insert undone before the guest runs, or a removal put back', async () => {
    const p = new PendingBreakpoints();
    p.note(bp(0x10n), true);
    p.note(bp(0x10n), false);
    expect(p.size).toBe(0);
    p.note(bp(0x20n), false);
    p.note(bp(0x20n), true);
    expect(p.size).toBe(0);
    const r = recorder();
    await p.flush(r.apply);
    expect(r.sent).toEqual([]);
  });

  it('keeps a sw and a hw breakpoint at one address apart', () => {
    const p = new PendingBreakpoints();
    p.note(bp(0x10n, 'sw'), true);
    p.note(bp(0x10n, 'hw'), false);
    expect(p.size).toBe(2);
  });

  it('flushes removals before inserts, then holds nothing', async () => {
    const p = new PendingBreakpoints();
    p.note(bp(0x30n), true);
    p.note(bp(0x10n), false);
    p.note(bp(0x20n, 'hw'), true);
    p.note(bp(0x40n), false);
    const r = recorder();
    await p.flush(r.apply);
    expect(r.sent).toEqual(['z0,10', 'z0,40', 'Z0,30', 'Z1,20']);
    expect(p.size).toBe(0);
  });

  it('flushes only the change at a pc before a single step, leaving the rest for the next run', async () => {
    const p = new PendingBreakpoints();
    p.note(bp(0x10n), false);
    p.note(bp(0x20n), true);
    const r = recorder();
    await p.flush(r.apply, 0x10n);
    expect(r.sent).toEqual(['z0,10']);
    expect(p.size).toBe(1);
    await p.flush(r.apply);
    expect(r.sent).toEqual(['z0,10', 'Z0,20']);
  });

  it('throws the first refusal and keeps what was refused for the next flush', async () => {
    const p = new PendingBreakpoints();
    p.note(bp(0x10n), true);
    p.note(bp(0x20n), true);
    const r = recorder(new Set(['Z0,10']));
    await expect(p.flush(r.apply)).rejects.toThrow('Z0,10 refused');
    expect(p.size).toBe(1);
    const again = recorder();
    await p.flush(again.apply);
    expect(again.sent).toEqual(['Z0,10']);
  });

  it('drops inserts that never reached the stub and says whether removals remain', () => {
    const p = new PendingBreakpoints();
    p.note(bp(0x10n), true);
    expect(p.dropInserts()).toBe(false);
    p.note(bp(0x20n), false);
    p.note(bp(0x30n), true);
    expect(p.dropInserts()).toBe(true);
    expect(p.size).toBe(1);
  });
});
