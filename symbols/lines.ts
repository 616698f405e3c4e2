// Address -> line-table row lookups within one unit's line program (addresses as keys inside).
import { ROW_PROLOGUE_END, ROW_STMT, type LineProgram, type LineRows, type RowValues } from './dwarf/line.js';
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

/** [start, end) of the line-table rows around pc that share its file and line. */
export interface LineRange {
  start: bigint;
  end: bigint;
  file: string;
  line: number;
}

/** Row `row` (an index into the program's row arrays) of sequence `seq`. */
export interface RowRef {
  seq: number;
  row: number;
}

/** The row covering the address with key `pc`: the last row at or before it in its sequence (later rows at one address win, as in addr2line). */
export function rowRefAt(prog: LineRows, pc: number): RowRef | undefined {
  const { seqStart, seqEnd, seqFirst, seqLast, offs } = prog;
  const lo = partitionPoint(seqStart.length, (i) => seqStart[i]! <= pc);
  // Sequences may overlap (discarded COMDAT copies at 0): try the closest few.
  for (let s = lo - 1; s >= 0 && s >= lo - 8; s--) {
    if (pc >= seqEnd[s]!) continue;
    const off = pc - seqStart[s]!;
    const first = seqFirst[s]!;
    const row = first + partitionPoint(seqLast[s]! - first, (j) => offs[first + j]! <= off) - 1;
    return row >= first ? { seq: s, row } : undefined;
  }
  return undefined;
}

/** A row a lookup returned, as the debugger shows it. */
export function lineRow(prog: LineProgram, v: RowValues): LineRow {
  return {
    address: prog.keys.toBigint(v.address),
    file: prog.filePath(v.file) ?? '??',
    line: v.line,
    column: v.column,
    isStmt: (v.flags & ROW_STMT) !== 0,
    prologueEnd: (v.flags & ROW_PROLOGUE_END) !== 0,
    discriminator: v.discriminator,
  };
}

export function lineRangeOf(prog: LineRows, ref: RowRef): LineRange {
  const { seq, row } = ref;
  const { line, file, offs } = prog;
  const same = (j: number) => line[j] === line[row] && file[j] === file[row];
  const first = prog.seqFirst[seq]!;
  const last = prog.seqLast[seq]!;
  let start = row;
  while (start > first && same(start - 1)) start--;
  let next = row + 1;
  while (next < last && (same(next) || offs[next] === offs[row])) next++;
  return {
    start: prog.address(seq, start),
    end: next < last ? prog.address(seq, next) : prog.keys.toBigint(prog.seqEnd[seq]!),
    file: prog.filePath(file[row]!) ?? '??',
    line: line[row]!,
  };
}

/** Address of the first row after `ref` that starts at a higher address (the end of ref's row), or the sequence end. */
export function rowEnd(prog: LineRows, ref: RowRef): bigint {
  const { seq, row } = ref;
  for (let j = row + 1; j < prog.seqLast[seq]!; j++) if (prog.offs[j]! > prog.offs[row]!) return prog.address(seq, j);
  return prog.keys.toBigint(prog.seqEnd[seq]!);
}
