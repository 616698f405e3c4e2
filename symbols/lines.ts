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

/** [start, end) of the line-table rows around pc that share its file and line. */
export interface LineRange {
  start: bigint;
  end: bigint;
  file: string;
  line: number;
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

export function lineRangeOf(prog: LineProgram, ref: RowRef): LineRange {
  const { seq, index } = ref;
  const same = (j: number) => seq.lines[j] === seq.lines[index] && seq.files[j] === seq.files[index];
  let first = index;
  while (first > 0 && same(first - 1)) first--;
  let next = index + 1;
  while (next < seq.offs.length && (same(next) || seq.offs[next] === seq.offs[index])) next++;
  return {
    start: seq.start + BigInt(seq.offs[first]!),
    end: next < seq.offs.length ? seq.start + BigInt(seq.offs[next]!) : seq.end,
    file: prog.files[seq.files[index]!]?.path ?? '??',
    line: seq.lines[index]!,
  };
}

/** Address of the first row after `ref` that starts at a higher address (the end of ref's row), or the sequence end. */
export function rowEnd(ref: RowRef): bigint {
  const { seq, index } = ref;
  for (let j = index + 1; j < seq.offs.length; j++) if (seq.offs[j]! > seq.offs[index]!) return seq.start + BigInt(seq.offs[j]!);
  return seq.end;
}
