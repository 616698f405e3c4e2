// The stopped-guest model front ends display: frames, scopes and values. Plain data with bigint
// addresses; children of a value are fetched lazily through its `ref`.

/** One frame of a backtrace; inlined calls are frames of their own that share a PC. */
export interface Frame {
  /** 0 = innermost. */
  level: number;
  pc: bigint;
  /** Canonical frame address: identifies the frame across stops (stepping, finish). */
  cfa?: bigint;
  function?: string;
  /** Source file as the compiler recorded it (absolute when it could be made so). */
  file?: string;
  line?: number;
  column?: number;
  /** The frame is an inlined call inside the next outer frame. */
  inlined: boolean;
  /**
   * How this frame was found: 'cfi', 'frame-pointer', 'signal' (trap frame), 'innermost', or
   * 'tail-call' (a function that jumped to its callee: no frame of its own, known from call sites).
   */
  unwoundBy: 'innermost' | 'cfi' | 'frame-pointer' | 'signal' | 'tail-call';
}

/** A frame as the engine names it: a vCPU (or bound context) and a level, 0 innermost. */
export interface FramePosition {
  thread: number;
  level: number;
}

export interface Scope {
  name: 'Locals' | 'Arguments' | 'Registers' | 'Globals';
  /** Pass to `Session.children` to list the scope's variables. */
  ref: number;
  /** Number of variables (known up front, for paging). */
  count: number;
  expensive: boolean;
}

/** A value as front ends show it. */
export interface ValueView {
  name: string;
  /** C type name as gdb prints it (`struct point`, `int [3][4]`, `char *`). */
  type: string;
  /** gdb's `print` text for the value (`{x = 1, y = 2}`, `0x1234 <buf> "abc"`, `<optimized out>`). */
  text: string;
  /** Non-zero when the value has children (struct members, array elements, pointee). */
  ref: number;
  childCount: number;
  /** Address of the value in guest memory, when it has one. */
  address?: bigint;
  /** A C expression that names this value from the frame (for watch/setExpression). */
  expression?: string;
}

export type ValueFormat = 'natural' | 'hex';
