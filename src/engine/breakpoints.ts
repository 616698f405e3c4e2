// User breakpoints and watchpoints, and the target "sites" they occupy. Several breakpoints (and the
// engine's own temporary stops for stepping) can share one address: a site is inserted once and
// removed when its last user goes, so the guest never keeps a byte of ours after detach.
import type { BreakpointKind, Target, WatchAccess } from '../targets/index.js';
import type { LocationSpec } from './location.js';

export interface BreakpointLocation {
  address: bigint;
  /** Where it is in the source, when symbols know (file as gdb shows it). */
  function?: string;
  file?: string;
  line?: number;
  /**
   * The function the location was asked for (gdb's location symbol): the one a function
   * breakpoint names, else the innermost one at the address. A stop here shows its frame even
   * when inlined calls begin at the same address.
   */
  inFunction?: string;
}

export interface Breakpoint {
  id: number;
  type: 'breakpoint';
  spec: LocationSpec;
  /** Empty while pending (the location names nothing the symbols know yet). */
  locations: BreakpointLocation[];
  hardware: boolean;
  enabled: boolean;
  temporary: boolean;
  condition?: string;
  /** Stop only after this many more hits (gdb's `ignore`). */
  ignoreCount: number;
  /** DAP hit condition (`>= 3`, `% 2`, `5`). */
  hitCondition?: string;
  /** A logpoint prints this (with `{expr}` interpolated) and does not stop. */
  logMessage?: string;
  /** Only stop in this vCPU. */
  thread?: number;
  /** Only stop while this guest thread runs (`address`: what the current-thread pointer holds). */
  guestThread?: { address: bigint; id: number };
  hits: number;
}

export interface Watchpoint {
  id: number;
  type: 'watchpoint';
  /** What is evaluated for the watched value's type and display. */
  expression: string;
  /** How it is shown, when not the expression (gdb's `-location EXPR`). */
  label?: string;
  access: WatchAccess;
  address: bigint;
  length: number;
  enabled: boolean;
  condition?: string;
  hits: number;
  /** Last value seen (for old/new reports), as raw bytes. */
  last?: Uint8Array;
}

export type UserPoint = Breakpoint | Watchpoint;

interface Site {
  kind: BreakpointKind;
  address: bigint;
  length: number;
  users: number;
  /** No user left, but still on the target (see Sites.drop's `park`). */
  parked?: true;
}

const siteKey = (kind: BreakpointKind, address: bigint, length: number) => `${kind}:${address.toString(16)}:${length}`;

export class Sites {
  private readonly sites = new Map<string, Site>();

  constructor(private readonly target: Target) {}

  async add(kind: BreakpointKind, address: bigint, length = 1): Promise<void> {
    const key = siteKey(kind, address, length);
    const site = this.sites.get(key);
    if (site) {
      site.users++;
      delete site.parked;
      return;
    }
    await this.target.insertBreakpoint(kind, address, length);
    this.sites.set(key, { kind, address, length, users: 1 });
  }

  /**
   * One user less; the last one removes the site, unless it asks to `park` it: an engine stop
   * that the next step will likely plant again (consecutive `next`s through a loop plant the same
   * few) stays on the target, each insert and removal sparing a packet and, under QEMU's TCG, a
   * flush of its translated code. Only where the breakpoint is not a byte in guest memory (reads
   * would see it). Parked sites go at the first resume that is no step (unpark) and at detach.
   */
  async drop(kind: BreakpointKind, address: bigint, length = 1, park = false): Promise<void> {
    const key = siteKey(kind, address, length);
    const site = this.sites.get(key);
    if (!site || site.parked) return;
    if (--site.users > 0) return;
    if (park && kind === 'sw' && this.target.kind === 'live' && !this.target.breakpointInMemory?.(address)) {
      site.parked = true;
      return;
    }
    this.sites.delete(key);
    await this.target.removeBreakpoint(kind, address, length);
  }

  /** A parked site (no user) is at this address. */
  parkedAt(address: bigint): boolean {
    return this.sites.get(siteKey('sw', address, 1))?.parked === true;
  }

  /** Removes every parked site (`keep`: those to leave planted). */
  async unpark(keep?: (address: bigint) => boolean): Promise<void> {
    for (const [key, s] of this.sites) {
      if (!s.parked || keep?.(s.address)) continue;
      this.sites.delete(key);
      await this.target.removeBreakpoint(s.kind, s.address, s.length);
    }
  }

  /** Sites with users (parked ones are not counted). */
  get planted(): number {
    let n = 0;
    for (const s of this.sites.values()) if (!s.parked) n++;
    return n;
  }

  get parkedCount(): number {
    return this.sites.size - this.planted;
  }

  /** A code breakpoint (sw or hw) sits at `address`. */
  codeAt(address: bigint): Site | undefined {
    return this.sites.get(siteKey('sw', address, 1)) ?? this.sites.get(siteKey('hw', address, 1));
  }

  /** Some watch site of ours covers `address`. */
  watches(address: bigint): boolean {
    for (const s of this.sites.values())
      if (s.kind !== 'sw' && s.kind !== 'hw' && address >= s.address && address < s.address + BigInt(s.length)) return true;
    return false;
  }

  /** Lifts a code site for a moment (stepping off it) and returns how to put it back. */
  async lift(address: bigint): Promise<(() => Promise<void>) | undefined> {
    const site = this.codeAt(address);
    if (!site) return undefined;
    await this.target.removeBreakpoint(site.kind, site.address, site.length);
    // A parked site is not put back: nobody needs it (a user's hardware breakpoint there is lifted next).
    if (site.parked) {
      this.sites.delete(siteKey(site.kind, site.address, site.length));
      return this.lift(address);
    }
    return () => this.target.insertBreakpoint(site.kind, site.address, site.length);
  }

  /** Removes every site from the target (detach, kill): errors are collected, not stopping the rest. */
  async clear(): Promise<Error[]> {
    const errors: Error[] = [];
    for (const s of this.sites.values()) {
      await this.target.removeBreakpoint(s.kind, s.address, s.length).catch((e: Error) => errors.push(e));
    }
    this.sites.clear();
    return errors;
  }

  get size(): number {
    return this.sites.size;
  }
}

/** Parses a DAP/gdb hit condition and says whether hit number `hits` (1-based) should stop. */
export function hitConditionMet(condition: string, hits: number): boolean {
  const m = /^\s*(>=|<=|==|>|<|%|=)?\s*(\d+)\s*$/.exec(condition);
  if (!m) throw new Error(`bad hit condition '${condition}' (want N, >= N, > N, == N, % N)`);
  const n = Number(m[2]);
  switch (m[1]) {
    case '>=':
      return hits >= n;
    case '<=':
      return hits <= n;
    case '>':
      return hits > n;
    case '<':
      return hits < n;
    case '%':
      return n > 0 && hits % n === 0;
    default:
      return hits === n || (m[1] === undefined && hits >= n);
  }
}
