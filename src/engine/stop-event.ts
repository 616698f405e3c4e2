// What a stop means, decided once by the engine for every front end: the vCPU it belongs to, why it
// happened, and what goes with it (the breakpoints hit, a watch's old and new value, the guest's
// panic record, what a finished function returned).
import type { Breakpoint, Watchpoint } from './breakpoints.js';
import type { Value } from './values.js';

/** Where a stop is: the vCPU (or saved context) and its pc, with the inlined frames the stop hides. */
export interface StopPlace {
  thread: number;
  pc: bigint;
  /** Innermost inlined frames hidden here: the stop is at their call's first instruction (gdb's presentation). */
  hiddenInline: number;
}

interface WatchHit {
  point: Watchpoint;
  /** The value before (undefined when it was never read: a read watch's first hit). */
  old?: Uint8Array;
  value: Uint8Array;
}

/** The guest's own account of its panic, when its description says where to read one. */
export interface GuestPanic {
  /** The guest's CPU number (0-based, as it prints it). */
  cpu: number;
  pc: bigint;
  reason?: string;
  message?: string;
  /** `function at file:line` of pc. */
  location?: string;
  instruction?: string;
  /** The crash site duster stopped the guest at (a panic caught on its way, not reported by pvpanic). */
  caughtAt?: string;
  /** The level of the faulting frame in the panicking vCPU's backtrace (what a front end selects). */
  frame?: number;
}

/** The value a finished function returned (`finish`, DAP stepOut). */
export interface ReturnedValue {
  function: string;
  value: Value;
}

export type StopEvent =
  | (StopPlace & { kind: 'entry' })
  | (StopPlace & { kind: 'interrupt' })
  | (StopPlace & { kind: 'breakpoint'; breakpoints: Breakpoint[] })
  | (StopPlace & { kind: 'watchpoint'; watch: WatchHit })
  | (StopPlace & { kind: 'step'; returned?: ReturnedValue })
  | (StopPlace & { kind: 'signal'; signal: number; name: string })
  /** The guest panicked: thread is the vCPU that panicked when the guest says which, `panic` its record. */
  | (StopPlace & { kind: 'panic'; panic?: GuestPanic })
  /** A crash dump opened with no panic recorded in it. */
  | (StopPlace & { kind: 'dump' })
  | { kind: 'exited'; exitCode: number };

/** A stop that has a place (every kind but exited). */
export type PlacedStop = Exclude<StopEvent, { kind: 'exited' }>;

const SIGNAL_NAMES: Record<number, string> = {
  2: 'SIGINT',
  4: 'SIGILL',
  5: 'SIGTRAP',
  6: 'SIGABRT',
  7: 'SIGBUS',
  8: 'SIGFPE',
  11: 'SIGSEGV',
};

export function signalName(signal: number): string {
  return SIGNAL_NAMES[signal] ?? `signal ${signal}`;
}
