// Address -> line-table row lookups within one unit's line program.
import { ROW_PROLOGUE_END, ROW_STMT, type LineProgram, type LineSequence } from './dwarf/line.js';
import { partitionPoint } from './search.js';

export interface LineRow {
  address: bigint;
  file: string;
  line: number;
  column: number;
  isStmt: boolean;
  prologueEnd: boolean;
  discriminator: number;
}

export interface RowRef {
  seq: LineSequence;
  index: number;
}

/** The row covering pc: the last row at or before pc in its sequence (later rows at one address win, as in addr2line). */
export function rowRefAt(prog: LineProgram, pc: bigint): RowRef | undefined {
  const seqs = prog.sequences;
  const lo = partitionPoint(seqs.length, (i) => seqs[i]!.start <= pc);
  // Sequences may overlap (discarded COMDAT copies at 0): try the closest few.
  for (let i = lo - 1; i >= 0 && i >= lo - 8; i--) {
    const seq = seqs[i]!;
    if (pc >= seq.end) continue;
    const off = Number(pc - seq.start);
    return { seq, index: partitionPoint(seq.offs.length, (j) => seq.offs[j]! <= off) - 1 };
  }
  return undefined;
}

export function rowOf(prog: LineProgram, ref: RowRef): LineRow {
  const { seq, index: i } = ref;
  return {
    address: seq.start + BigInt(seq.offs[i]!),
    file: prog.files[seq.files[i]!]?.path ?? '??',
    line: seq.lines[i]!,
    column: seq.columns[i]!,
    isStmt: (seq.flags[i]! & ROW_STMT) !== 0,
    prologueEnd: (seq.flags[i]! & ROW_PROLOGUE_END) !== 0,
    discriminator: seq.discriminators[i]!,
  };
}

/** Address of the first row after `ref` that starts at a higher address (the end of ref's row), or the sequence end. */
export function rowEnd(ref: RowRef): bigint {
  const { seq, index } = ref;
  for (let j = index + 1; j < seq.offs.length; j++) if (seq.offs[j]! > seq.offs[index]!) return seq.start + BigInt(seq.offs[j]!);
  return seq.end;
}

/** Where a source-line step stands at pc, by gdb's reading of the line table (see gdbRow). */
export interface StepLine {
  /** [start, end): the rows around pc whose gdb line is pc's (same file and line), merged. */
  start: bigint;
  end: bigint;
  file: string;
  line: number;
  /** The row gdb picks at pc's address is a statement. */
  isStmt: boolean;
  /** A row gdb keeps begins exactly at pc (gdb's `stop_pc == sal.pc`). */
  atRowStart: boolean;
  /** The single row gdb reads at pc: from its address to the next row's (gdb's `info line`). */
  row: { start: bigint; end: bigint };
}

/**
 * gdb keeps a row unless it has line 0 (clang's "no line": the previous row goes on), repeats the
 * previous row's file and line while that line has had a non-zero discriminator, or is a
 * non-statement row at the previous row's address in another file (dwarf_record_line_p and the
 * file-switch rule of gdb's line reader).
 */
function gdbKeeps(seq: LineSequence, i: number): boolean {
  if (seq.lines[i] === 0) return false;
  if (i === 0) return true;
  if (seq.files[i] !== seq.files[i - 1]) return !(seq.offs[i] === seq.offs[i - 1] && !(seq.flags[i]! & ROW_STMT));
  if (seq.lines[i] !== seq.lines[i - 1]) return true;
  for (let j = i; j >= 0 && seq.lines[j] === seq.lines[i] && seq.files[j] === seq.files[i]; j--) if (seq.discriminators[j]) return false;
  return true;
}

/** The row gdb reports for the address group ending at row `last`: the last kept row, or a statement row at the same address before it. */
function gdbRow(seq: LineSequence, last: number): number {
  let i = last;
  while (i > 0 && !gdbKeeps(seq, i)) i--;
  const at = seq.offs[i];
  for (let j = i; j >= 0 && seq.offs[j] === at; j--) if (seq.flags[j]! & ROW_STMT && gdbKeeps(seq, j)) return j;
  return i;
}

/** Address of the first row gdb keeps after row i's address (or the end of the sequence). */
function keptRowAfter(seq: LineSequence, i: number): bigint {
  for (let j = i + 1; j < seq.offs.length; j++) if (seq.offs[j]! > seq.offs[i]! && gdbKeeps(seq, j)) return seq.start + BigInt(seq.offs[j]!);
  return seq.end;
}

/** Index of the last row of the address group containing row i. */
function groupEnd(seq: LineSequence, i: number): number {
  while (i + 1 < seq.offs.length && seq.offs[i + 1] === seq.offs[i]) i++;
  return i;
}

export function stepLineOf(prog: LineProgram, ref: RowRef, pc: bigint): StepLine {
  const { seq } = ref;
  const last = groupEnd(seq, ref.index);
  const row = gdbRow(seq, last);
  const same = (k: number) => seq.lines[k] === seq.lines[row] && seq.files[k] === seq.files[row];
  const off = Number(pc - seq.start);
  let first = last;
  while (first > 0 && seq.offs[first - 1] === seq.offs[last]) first--;
  let atRowStart = false;
  for (let j = first; j <= last; j++) if (gdbKeeps(seq, j)) atRowStart ||= seq.offs[j] === off;
  // Extend over neighbouring address groups that gdb reads as the same line.
  while (first > 0 && same(gdbRow(seq, first - 1))) {
    first--;
    while (first > 0 && seq.offs[first - 1] === seq.offs[first]) first--;
  }
  let next = last + 1;
  while (next < seq.offs.length && same(gdbRow(seq, groupEnd(seq, next)))) next = groupEnd(seq, next) + 1;
  return {
    start: seq.start + BigInt(seq.offs[first]!),
    end: next < seq.offs.length ? seq.start + BigInt(seq.offs[next]!) : seq.end,
    file: prog.files[seq.files[row]!]?.path ?? '??',
    line: seq.lines[row]!,
    isStmt: (seq.flags[row]! & ROW_STMT) !== 0,
    atRowStart,
    row: { start: seq.start + BigInt(seq.offs[row]!), end: keptRowAfter(seq, row) },
  };
}
