// Inlined calls at a stop, as gdb presents them. A stop at the first instruction of an inlined
// call is shown at the call site: the call has not "happened" yet, so its frames are hidden, and
// `step` enters them one at a time without running the guest. A user breakpoint set inside the
// inlined function is the exception: there the user asked to see it.
import type { FunctionInfo, SymbolFile } from '../../symbols/index.js';

/** One frame of the inline chain at a pc, innermost first; the last is the concrete function. */
interface ChainFrame {
  /** Identifies the block (the DIE's offset): an inlined call, or the function itself. */
  key: number;
  name?: string;
  inlined: boolean;
  /** Where this frame stands: pc's line for the innermost, the call site of the frame inside it for the others. */
  file?: string;
  line: number;
}

export interface InlineView {
  frames: ChainFrame[];
  /** How many of the innermost frames gdb hides at this pc. */
  hidden: number;
}

/**
 * The inline chain at pc and how many of its frames a stop there hides. `breakpointFunctions` are
 * the functions of the user breakpoint locations that stopped here (undefined: a location with
 * no function, which keeps every frame).
 */
export function inlineView(symbols: SymbolFile, pc: bigint, breakpointFunctions: ReadonlyArray<string | undefined> = []): InlineView {
  const blocks = symbols.inlineChainAt(pc);
  // Without a function here there is no chain to show lines for.
  const lines = blocks.length ? symbols.symbolize(pc, { gdb: true }) : [];
  const frames = blocks.map((b, i): ChainFrame => ({
    key: b.die.offset,
    inlined: b.inlined,
    line: lines[i]?.line ?? 0,
    ...(b.name !== undefined && { name: b.name }),
    ...(lines[i]?.file !== undefined && { file: lines[i]!.file }),
  }));
  let hidden = 0;
  if (!breakpointFunctions.includes(undefined)) {
    for (const b of blocks) {
      if (!b.inlined || !startsAt(b, pc) || (b.name !== undefined && breakpointFunctions.includes(b.name))) break;
      hidden++;
    }
  }
  return { frames, hidden };
}

/** gdb's test for entering a block at pc: its entry (first range) starts there, or a range does and pc - 1 is outside the block. */
function startsAt(b: FunctionInfo, pc: bigint): boolean {
  const ranges = b.ranges;
  if (ranges[0]?.start === pc) return true;
  return ranges.some((r) => r.start === pc) && !ranges.some((r) => pc - 1n >= r.start && pc - 1n < r.end);
}
