// A whole backtrace: CFI step by step, frame pointers where there is no FDE, and an honest reason
// for where the walk ended.
import { unwindFramePointer } from './frame-pointer.js';
import { FormatError } from '../reader.js';
import type { CfiTable } from './table.js';
import { unwindStep, type MemoryReader, type RegisterReader } from './unwind.js';
import { X86_64 } from '../x86_64-registers.js';

export interface StackFrame {
  pc: bigint;
  /** How this frame's registers were found: the stop itself, or unwinding its callee by CFI or frame pointer. */
  method: 'innermost' | 'cfi' | 'frame-pointer';
  /** This frame's registers (the innermost frame's are the target's). */
  registers: RegisterReader;
  /** This frame's CFA, once it has been unwound. */
  cfa?: bigint;
  /** This frame's pc is a return address (its callee was a normal call, not an interrupt). */
  pcIsReturnAddress: boolean;
}

export type WalkEnd = 'outermost' | 'no-unwind-info' | 'loop' | 'max-frames' | 'error';

export interface StackWalk {
  frames: StackFrame[];
  end: WalkEnd;
  error?: Error;
}

export interface WalkOptions {
  maxFrames?: number;
  /** Try the rbp chain where no FDE covers a pc (default true). */
  framePointerFallback?: boolean;
}

export async function unwindStack(
  table: CfiTable,
  pc: bigint,
  regs: RegisterReader,
  mem: MemoryReader,
  opts: WalkOptions = {},
): Promise<StackWalk> {
  const maxFrames = opts.maxFrames ?? 256;
  const frames: StackFrame[] = [{ pc, method: 'innermost', registers: regs, pcIsReturnAddress: false }];
  const seen = new Set<string>();
  for (;;) {
    const frame = frames.at(-1)!;
    if (frames.length >= maxFrames) return { frames, end: 'max-frames' };
    let method: StackFrame['method'] = 'cfi';
    let step;
    try {
      step = await unwindStep(table, frame.pc, frame.registers, mem, { pcIsReturnAddress: frame.pcIsReturnAddress }).catch((e: unknown) => {
        // Damaged call frame information for this pc: the frame pointer may still know the way.
        if (e instanceof FormatError && opts.framePointerFallback !== false) return undefined;
        throw e;
      });
      if (!step && opts.framePointerFallback !== false) {
        method = 'frame-pointer';
        step = await unwindFramePointer(frame.registers, mem);
      }
    } catch (e) {
      return { frames, end: 'error', error: e instanceof Error ? e : new Error(String(e)) };
    }
    if (!step) return { frames, end: 'no-unwind-info' };
    frame.cfa = step.cfa;
    const next = step.registers.get(X86_64.rip);
    if (step.returnAddressUndefined || next === undefined || next === 0n) return { frames, end: 'outermost' };
    // The same pc with the same CFA again would repeat forever (gdb: "previous frame identical").
    const key = `${frame.pc}:${step.cfa}`;
    if (seen.has(key)) return { frames, end: 'loop' };
    seen.add(key);
    const callerRegs = step.registers;
    frames.push({ pc: next, method, registers: async (reg) => callerRegs.get(reg), pcIsReturnAddress: !step.isSignalFrame });
  }
}
