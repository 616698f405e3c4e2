// The user's breakpoints and watchpoints by number, and the target sites they occupy: adding,
// deleting, enabling, resolving pending ones when symbols arrive, and which of them stand at a pc.
import type { BreakpointKind, Target, WatchAccess } from '../targets/index.js';
import { hitConditionMet, Sites, type Breakpoint, type BreakpointLocation, type UserPoint, type Watchpoint } from './breakpoints.js';
import { EngineError } from './errors.js';
import { formatLocation, type LocationSpec } from './location.js';

export type BreakpointOptions = Partial<
  Pick<Breakpoint, 'condition' | 'hitCondition' | 'logMessage' | 'temporary' | 'hardware' | 'thread' | 'guestThread' | 'ignoreCount'>
> & {
  /** Keep an unresolvable location as a pending breakpoint instead of failing. */
  pendingOk?: boolean;
};

export interface WatchRequest {
  expression: string;
  address: bigint;
  length: number;
  access: WatchAccess;
  condition?: string;
  /** How it is shown, when not the expression (gdb's `-location EXPR`). */
  label?: string;
}

/** The sizes x86 debug registers watch. */
const WATCH_SIZES: readonly number[] = [1, 2, 4, 8];

/** Why an x86 debug register cannot watch `length` bytes at `address`, or undefined when it can. */
export function watchRangeProblem(address: bigint, length: number): string | undefined {
  if (!WATCH_SIZES.includes(length)) return `cannot watch ${length} bytes: x86 debug registers watch 1, 2, 4 or 8`;
  if (address % BigInt(length) !== 0n) return `cannot watch 0x${address.toString(16)}: not aligned to its size ${length}`;
  return undefined;
}

export class BreakpointTable {
  private readonly points = new Map<number, UserPoint>();
  private nextId = 1;

  constructor(
    private readonly target: Target,
    readonly sites: Sites,
    /** Told when a breakpoint changes on its own (a pending one resolved, a temporary one gone). */
    private readonly changed: (p: UserPoint) => void,
  ) {}

  all(): UserPoint[] {
    return [...this.points.values()];
  }

  get(id: number): UserPoint {
    const p = this.points.get(id);
    if (!p) throw new EngineError(`no breakpoint number ${id}`);
    return p;
  }

  async addBreakpoint(
    spec: LocationSpec,
    resolve: (spec: LocationSpec) => Promise<BreakpointLocation[]>,
    opts: BreakpointOptions = {},
  ): Promise<Breakpoint> {
    let locations: BreakpointLocation[] = [];
    try {
      locations = await resolve(spec);
    } catch (e) {
      if (!opts.pendingOk) throw e;
    }
    if (locations.length === 0 && !opts.pendingOk) throw new EngineError(`no code at ${formatLocation(spec)}`);
    const bp: Breakpoint = {
      id: this.nextId++,
      type: 'breakpoint',
      spec,
      locations,
      hardware: opts.hardware ?? false,
      enabled: true,
      temporary: opts.temporary ?? false,
      ignoreCount: opts.ignoreCount ?? 0,
      hits: 0,
      ...(opts.condition !== undefined && { condition: opts.condition }),
      ...(opts.hitCondition !== undefined && { hitCondition: opts.hitCondition }),
      ...(opts.logMessage !== undefined && { logMessage: opts.logMessage }),
      ...(opts.thread !== undefined && { thread: opts.thread }),
      ...(opts.guestThread !== undefined && { guestThread: opts.guestThread }),
    };
    // A malformed hit condition fails here, not at the first hit.
    if (bp.hitCondition) hitConditionMet(bp.hitCondition, 1);
    await this.insertLocations(bp, bp.locations);
    this.points.set(bp.id, bp);
    return bp;
  }

  /** Resolves pending breakpoints again (after symbols load); returns the ones that now have code. */
  async resolvePending(resolve: (spec: LocationSpec) => Promise<BreakpointLocation[]>): Promise<Breakpoint[]> {
    const resolved: Breakpoint[] = [];
    for (const p of this.points.values()) {
      if (p.type !== 'breakpoint' || p.locations.length) continue;
      const locations = await resolve(p.spec).catch(() => []);
      if (!locations.length) continue;
      p.locations = locations;
      if (p.enabled) await this.insertLocations(p, locations);
      resolved.push(p);
      this.changed(p);
    }
    return resolved;
  }

  async addWatchpoint(w: WatchRequest): Promise<Watchpoint> {
    const problem = watchRangeProblem(w.address, w.length);
    if (problem) throw new EngineError(problem);
    const last = await this.target.readMemory(w.address, w.length);
    await this.sites.add(w.access, w.address, w.length);
    const wp: Watchpoint = {
      id: this.nextId++,
      type: 'watchpoint',
      expression: w.expression,
      access: w.access,
      address: w.address,
      length: w.length,
      enabled: true,
      hits: 0,
      last,
      ...(w.condition !== undefined && { condition: w.condition }),
      ...(w.label !== undefined && { label: w.label }),
    };
    this.points.set(wp.id, wp);
    return wp;
  }

  async delete(id: number): Promise<void> {
    const p = this.get(id);
    if (p.enabled) await this.removeSites(p);
    this.points.delete(id);
  }

  /** Deletes a temporary breakpoint at its hit, telling the front ends (they did not ask for it). */
  async expire(bp: Breakpoint): Promise<void> {
    await this.delete(bp.id);
    this.changed(bp);
  }

  async setEnabled(id: number, enabled: boolean): Promise<void> {
    const p = this.get(id);
    if (p.enabled === enabled) return;
    if (enabled) {
      if (p.type === 'breakpoint') await this.insertLocations(p, p.locations);
      else await this.sites.add(p.access, p.address, p.length);
    } else await this.removeSites(p);
    p.enabled = enabled;
  }

  /** The enabled breakpoints with a location at pc. */
  breakpointsAt(pc: bigint): Breakpoint[] {
    return this.all().filter((p): p is Breakpoint => p.type === 'breakpoint' && p.enabled && p.locations.some((l) => l.address === pc));
  }

  /** The enabled watchpoint covering address, if any. */
  watchpointAt(address: bigint): Watchpoint | undefined {
    return this.all().find(
      (p): p is Watchpoint => p.type === 'watchpoint' && p.enabled && address >= p.address && address < p.address + BigInt(p.length),
    );
  }

  private kindOf(bp: Breakpoint): BreakpointKind {
    return bp.hardware ? 'hw' : 'sw';
  }

  private async insertLocations(bp: Breakpoint, locations: BreakpointLocation[]): Promise<void> {
    const done: BreakpointLocation[] = [];
    try {
      for (const l of locations) {
        await this.sites.add(this.kindOf(bp), l.address);
        done.push(l);
      }
    } catch (e) {
      for (const l of done) await this.sites.drop(this.kindOf(bp), l.address);
      throw e;
    }
  }

  private async removeSites(p: UserPoint): Promise<void> {
    if (p.type === 'watchpoint') return this.sites.drop(p.access, p.address, p.length);
    for (const l of p.locations) await this.sites.drop(this.kindOf(p), l.address);
  }
}
