// Where `break FUNCTION` goes, following gdb 13 on x86-64: a prologue_end row in the function if
// the line table has one; else past `push %rbp; mov %rsp,%rbp` when the function sets up a frame
// (amd64_analyze_prologue), then on to the next line-table row if that lands mid-row
// (skip_prologue_sal). Frameless functions keep their entry address.
import type { LineRows } from './dwarf/line.js';
import { ROW_PROLOGUE_END } from './dwarf/line.js';
import type { Range } from './dwarf/ranges.js';
import { rowEnd, rowRefAt } from './lines.js';

const ENDBR64 = [0xf3, 0x0f, 0x1e, 0xfa];

export function afterPrologue(prog: LineRows | undefined, range: Range, code: Uint8Array | undefined): bigint {
  const { start, end } = range;
  if (!prog) return start;
  const lo = prog.keys.fromBigint(start);
  const hi = prog.keys.fromBigint(end);
  for (let s = 0; s < prog.sequenceCount; s++) {
    if (prog.seqEnd[s]! <= lo || prog.seqStart[s]! >= hi) continue;
    for (let i = prog.seqFirst[s]!; i < prog.seqLast[s]!; i++) {
      const a = prog.seqStart[s]! + prog.offs[i]!;
      if (a >= lo && a < hi && prog.flags[i]! & ROW_PROLOGUE_END) return prog.address(s, i);
    }
  }
  let pc = start + BigInt(frameSetupLength(code));
  if (pc === start) return start;
  const ref = rowRefAt(prog, prog.keys.fromBigint(pc));
  if (ref && prog.address(ref.seq, ref.row) !== pc) {
    const next = rowEnd(prog, ref);
    if (next < end) pc = next;
  }
  return pc;
}

/** Bytes of `[endbr64] push %rbp; mov %rsp,%rbp` at the start of code, or 0 if it does not set up a frame. */
function frameSetupLength(code: Uint8Array | undefined): number {
  if (!code) return 0;
  let i = ENDBR64.every((b, k) => code[k] === b) ? 4 : 0;
  if (code[i] !== 0x55) return 0;
  i++;
  const movq = code[i] === 0x48 && ((code[i + 1] === 0x89 && code[i + 2] === 0xe5) || (code[i + 1] === 0x8b && code[i + 2] === 0xec));
  return movq ? i + 3 : 0;
}
