// The one interface the engine debugs through. A live gdbstub connection and a crash dump both
// implement it; the engine never asks which it has, only whether it may write or run.

/** A vCPU as the target numbers it (QEMU: cpu_index+1; gdbsx and dumps are mapped to the same). */
export interface TargetThread {
  id: number;
  /** The guest's own 0-based index of this CPU: what it prints as its cpu number, QEMU's cpu_index. */
  cpu: number;
  /** `CPU 0`, with the stub's state of it when it tells one (`CPU 0 [running]`). */
  description: string;
}

/** How every front end names a vCPU: by the guest's own index, as the guest prints it. */
export function cpuLabel(cpu: number): string {
  return `CPU ${cpu}`;
}

export interface RegisterInfo {
  name: string;
  bits: number;
  /** target.xml group ("general", "float", "vector", "system", ...). */
  group: string;
}

/**
 * Why the guest stopped. A `trap` is a breakpoint hit or a finished step: only the engine, which
 * knows what it inserted and what it asked for, can tell which.
 */
export type StopReason =
  | { kind: 'trap'; thread: number; watch?: { access: WatchAccess; address: bigint } }
  | { kind: 'interrupt'; thread: number }
  | { kind: 'signal'; thread: number; signal: number }
  | { kind: 'exited'; code: number }
  | { kind: 'dump'; thread: number };

export type WatchAccess = 'write' | 'read' | 'access';
export type BreakpointKind = 'sw' | 'hw' | WatchAccess;

/**
 * A step may ask for `count` instructions, ending early at any stop but a finished step of that
 * vCPU; only while no code breakpoint is planted, since each step from one would need the
 * breakpoint lifted first.
 */
export type ResumeAction = { kind: 'continue' } | { kind: 'step'; thread: number; count?: number };

export interface MemoryRange {
  address: bigint;
  size: number;
}

export class TargetError extends Error {
  override name = 'TargetError';
}

export class ReadOnlyTargetError extends TargetError {
  override name = 'ReadOnlyTargetError';
  constructor(what: string) {
    super(`${what}: a crash dump is read-only`);
  }
}

export interface TargetEvents {
  /** Text the stub printed (`O` packets, monitor output). */
  console: [string];
  /** The connection is gone; every later call fails. */
  close: [Error];
  /** A continue went out: the guest runs until its stop, for as long as it takes. */
  running: [];
}

export interface Target {
  /** 'live' targets run and write; 'dump' targets are frozen. */
  readonly kind: 'live' | 'dump';
  /** Registers this target knows, in display order. */
  readonly registers: readonly RegisterInfo[];
  /** True while the guest runs (between resume and its stop). */
  readonly running: boolean;

  /**
   * The vCPU ids, first to last; with `atLeast`, possibly only the first that many (as many as
   * there are, when fewer). Cheap: vCPUs only change when they are plugged in.
   */
  threadIds(atLeast?: number): Promise<readonly number[]>;
  /** The vCPUs with the target's description of each, as of this stop. */
  threads(): Promise<TargetThread[]>;
  /** All registers of a vCPU by name (values the target cannot provide are absent). */
  readRegisters(thread: number): Promise<Map<string, bigint>>;
  /**
   * The vCPU's code segment base when the target knows it beyond the selector (what real-mode
   * code runs at: CS base + IP); undefined when it does not.
   */
  codeSegmentBase?(thread: number): Promise<bigint | undefined>;
  writeRegister(thread: number, name: string, value: bigint): Promise<void>;
  /**
   * Reads exactly `size` bytes or throws a TargetError naming the unreadable address. Addresses
   * are virtual in vCPU `thread`'s view (its page tables, its per-CPU mappings); without one, in
   * the view of the vCPU of the last stop.
   */
  readMemory(address: bigint, size: number, thread?: number): Promise<Uint8Array>;
  writeMemory(address: bigint, data: Uint8Array, thread?: number): Promise<void>;

  insertBreakpoint(kind: BreakpointKind, address: bigint, length: number): Promise<void>;
  /** The code breakpoint at `address` is an int3 written into guest memory (reads see it), not the stub's own. */
  breakpointInMemory?(address: bigint): boolean;
  removeBreakpoint(kind: BreakpointKind, address: bigint, length: number): Promise<void>;
  /**
   * Resumes (all-stop: every vCPU on continue, one vCPU on step) and resolves with the next stop.
   * `readAtStop` is memory the caller will read first when the guest stops: a live target reads it
   * along with the stopped vCPU's registers, all in one round trip.
   */
  resume(action: ResumeAction, readAtStop?: readonly MemoryRange[]): Promise<StopReason>;
  /** Stops a running guest; the pending `resume` resolves with an interrupt stop. */
  interrupt(): Promise<void>;
  /** Leaves the guest running. The engine removes its breakpoints first. */
  detach(): Promise<void>;
  close(): Promise<void>;

  on<E extends keyof TargetEvents>(event: E, listener: (...args: TargetEvents[E]) => void): unknown;
  off<E extends keyof TargetEvents>(event: E, listener: (...args: TargetEvents[E]) => void): unknown;
}
