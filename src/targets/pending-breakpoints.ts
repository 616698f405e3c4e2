// Code breakpoints held back until the guest runs. A breakpoint only matters to a running vCPU, so
// the engine's inserts and removals are kept here and sent together just before a resume, as one
// pipelined batch: a step that plants the same temporary breakpoints round after round sends
// nothing for them, and a breakpoint removed and put back (stepping off it) costs nothing unless
// the guest ran in between. A single step moves one vCPU by one instruction, so before one only
// the change at that vCPU's pc has to be made.
import type { BreakpointKind } from './target.js';

export interface CodeBreakpoint {
  kind: 'sw' | 'hw';
  address: bigint;
  length: number;
}

interface Change extends CodeBreakpoint {
  insert: boolean;
}

export class PendingBreakpoints {
  private readonly changes = new Map<string, Change>();

  static holds(kind: BreakpointKind): kind is 'sw' | 'hw' {
    return kind === 'sw' || kind === 'hw';
  }

  /** Records an insert or a removal; one that undoes a change still pending cancels it. */
  note(bp: CodeBreakpoint, insert: boolean): void {
    const key = `${bp.kind}:${bp.address}:${bp.length}`;
    const pending = this.changes.get(key);
    if (pending && pending.insert !== insert) this.changes.delete(key);
    else this.changes.set(key, { ...bp, insert });
  }

  get size(): number {
    return this.changes.size;
  }

  /**
   * Sends the pending changes (all of them, or those at `only`), removals first, all in flight
   * together. A change that fails stays pending and the first failure is thrown.
   */
  async flush(apply: (bp: CodeBreakpoint, insert: boolean) => Promise<void>, only?: bigint): Promise<void> {
    const due = [...this.changes]
      .filter(([, c]) => only === undefined || c.address === only)
      .sort(([, a], [, b]) => Number(a.insert) - Number(b.insert));
    const results = await Promise.allSettled(due.map(([key, c]) => apply(c, c.insert).then(() => this.changes.delete(key))));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Forgets every pending change (the stub dropped its breakpoints itself). */
  clear(): void {
    this.changes.clear();
  }

  /** Drops pending inserts and returns whether removals remain. */
  dropInserts(): boolean {
    for (const [key, c] of this.changes) if (c.insert) this.changes.delete(key);
    return this.changes.size > 0;
  }
}
