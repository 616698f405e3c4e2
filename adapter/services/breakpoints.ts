// The DAP side of breakpoints. DAP replaces a whole set at a time (all breakpoints of one source
// file, all function breakpoints, ...); the engine adds and deletes single points. This registry
// diffs each new set against the last one so that unchanged breakpoints keep their engine point
// (and hit count) and only real changes reach the target.
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { UserPoint } from '../../src/engine/breakpoints.js';
import type { Session } from '../../src/engine/session.js';
import { errorLine } from '../../src/engine/errors.js';

type BreakpointKind = 'source' | 'function' | 'instruction' | 'data';

/** One breakpoint of a requested set. */
export interface WantedPoint {
  /** Equal keys mean an identical breakpoint (same place, condition, hit condition, message). */
  key: string;
  /** Why the request itself is unusable (bad location text); the point is then reported unverified. */
  invalid?: string;
  add(): Promise<UserPoint>;
  /** The DAP view of the engine point (or of the failure when `point` is undefined). */
  show(point: UserPoint | undefined, message?: string): DebugProtocol.Breakpoint;
}

interface Entry {
  key: string;
  id: number;
}

export class BreakpointRegistry {
  private readonly sets = new Map<string, Entry[]>();
  private readonly kinds = new Map<number, BreakpointKind>();

  constructor(private readonly session: Session) {}

  /** Makes the set `name` exactly `wanted`; returns one DAP breakpoint per wanted entry, in order. */
  async replace(name: string, kind: BreakpointKind, wanted: WantedPoint[]): Promise<DebugProtocol.Breakpoint[]> {
    const live = new Map(this.session.breakpoints().map((p) => [p.id, p]));
    // The console may have deleted points behind our back: forget those.
    const unclaimed = (this.sets.get(name) ?? []).filter((e) => live.has(e.id));
    const reused = wanted.map((w) => {
      const i = unclaimed.findIndex((e) => e.key === w.key);
      return i >= 0 ? unclaimed.splice(i, 1)[0] : undefined;
    });
    for (const e of unclaimed) {
      await this.session.deletePoint(e.id);
      this.kinds.delete(e.id);
    }
    const next: Entry[] = [];
    const results: DebugProtocol.Breakpoint[] = [];
    for (const [i, w] of wanted.entries()) {
      const old = reused[i];
      if (old) {
        next.push(old);
        results.push(w.show(live.get(old.id)));
      } else if (w.invalid) {
        results.push(w.show(undefined, w.invalid));
      } else {
        try {
          const p = await w.add();
          this.kinds.set(p.id, kind);
          next.push({ key: w.key, id: p.id });
          results.push(w.show(p));
        } catch (e) {
          results.push(w.show(undefined, errorLine(e)));
        }
      }
    }
    this.sets.set(name, next);
    return results;
  }

  /** The DAP stop reason for a stop at these engine breakpoints. */
  reasonFor(ids: number[]): 'breakpoint' | 'function breakpoint' | 'instruction breakpoint' {
    const kinds = new Set(ids.map((id) => this.kinds.get(id)));
    if (kinds.size === 1 && kinds.has('instruction')) return 'instruction breakpoint';
    if (kinds.size === 1 && kinds.has('function')) return 'function breakpoint';
    return 'breakpoint';
  }
}

/** A stable key for "the same breakpoint" across requests. */
export function pointKey(parts: Record<string, unknown>): string {
  return JSON.stringify(parts, (_k, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v));
}
