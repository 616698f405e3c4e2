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

/** Address of the first row after `ref` that starts at a higher address (the end of ref's row), or the sequence end. */
export function rowEnd(prog: LineRows, ref: RowRef): bigint {
  const { seq, row } = ref;
  for (let j = row + 1; j < prog.seqLast[seq]!; j++) if (prog.offs[j]! > prog.offs[row]!) return prog.address(seq, j);
  return prog.keys.toBigint(prog.seqEnd[seq]!);
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
 * The rows gdb's line reader keeps (gdb 13: lnp_state_machine::record_line and buildsym's
 * record_line), per row of the table. gdb files rows by source file; switching files at an address
 * ends the previous file's rows there, which deletes that file's rows at that very address (they
 * cover no code in it); a non-statement row at an address that already had a statement row is
 * dropped when it switches files; a row repeating the file and line just recorded is dropped when
 * that line has had a non-zero discriminator; line 0 rows are dropped.
 */
export function gdbKept(t: LineRows): Uint8Array {
  let kept = keptCache.get(t);
  if (kept) return kept;
  kept = new Uint8Array(t.offs.length);
  for (let s = 0; s < t.sequenceCount; s++) {
    // The rows kept so far at the current address, per file (the tail an end marker would delete).
    const atAddress = new Map<number, number[]>();
    let lastFile = -1;
    let lastLine = -1;
    let lastAddress = NaN;
    let stmtAtAddress = false;
    let discriminated = false;
    const end = (file: number) => {
      for (const i of atAddress.get(file) ?? []) kept[i] = 0;
      atAddress.delete(file);
    };
    for (let i = t.seqFirst[s]!; i < t.seqLast[s]!; i++) {
      const address = t.offs[i]!;
      const file = t.file[i]!;
      const line = t.line[i]!;
      const stmt = (t.flags[i]! & ROW_STMT) !== 0;
      if (address !== lastAddress) atAddress.clear();
      // gdb's "has this line had a non-zero discriminator" (reset when the line or the file changes).
      discriminated =
        (i > t.seqFirst[s]! && line === t.line[i - 1] && file === t.file[i - 1] ? discriminated : false) || t.discriminator[i] !== 0;
      const fileChanged = file !== lastFile;
      const ignore = (fileChanged && address === lastAddress && !stmt && stmtAtAddress) || line === 0;
      if (fileChanged && !ignore) end(lastFile);
      if (!ignore && (fileChanged || line !== lastLine || !discriminated)) {
        kept[i] = 1;
        const list = atAddress.get(file);
        if (list) list.push(i);
        else atAddress.set(file, [i]);
        lastFile = file;
        lastLine = line;
      }
      if (address !== lastAddress) {
        stmtAtAddress = false;
        lastAddress = address;
      }
      stmtAtAddress ||= stmt;
    }
    // The end of the sequence ends its last file's rows at the end address (an empty last row).
    if (t.seqStart[s]! + lastAddress === t.seqEnd[s]) end(lastFile);
  }
  keptCache.set(t, kept);
  return kept;
}

const keptCache = new WeakMap<LineRows, Uint8Array>();

/** The row gdb reports for the address group ending at row `last`: the last kept row, or a statement row at the same address before it. */
function gdbRow(t: LineRows, first: number, last: number): number {
  const kept = gdbKept(t);
  let i = last;
  while (i > first && !kept[i]) i--;
  const at = t.offs[i];
  for (let j = i; j >= first && t.offs[j] === at; j--) if (t.flags[j]! & ROW_STMT && kept[j]) return j;
  return i;
}

/** Address of the first row gdb keeps after row i's address (or the end of its sequence s, whose rows end at `end`). */
function keptRowAfter(t: LineRows, s: number, end: number, i: number): bigint {
  const kept = gdbKept(t);
  for (let j = i + 1; j < end; j++) if (t.offs[j]! > t.offs[i]! && kept[j]) return t.address(s, j);
  return t.keys.toBigint(t.seqEnd[s]!);
}

/** Index of the last row of the address group containing row i (`end`: its sequence's end). */
function groupEnd(t: LineRows, end: number, i: number): number {
  while (i + 1 < end && t.offs[i + 1] === t.offs[i]) i++;
  return i;
}

export function stepLineOf(t: LineRows, ref: RowRef, pc: bigint): StepLine {
  const s = ref.seq;
  const seqFirst = t.seqFirst[s]!;
  const seqEnd = t.seqLast[s]!;
  const last = groupEnd(t, seqEnd, ref.row);
  const row = gdbRow(t, seqFirst, last);
  const same = (k: number) => t.line[k] === t.line[row] && t.file[k] === t.file[row];
  const off = t.keys.fromBigint(pc) - t.seqStart[s]!;
  let first = last;
  while (first > seqFirst && t.offs[first - 1] === t.offs[last]) first--;
  let atRowStart = false;
  const kept = gdbKept(t);
  for (let j = first; j <= last; j++) if (kept[j]) atRowStart ||= t.offs[j] === off;
  // Extend over neighbouring address groups that gdb reads as the same line.
  while (first > seqFirst && same(gdbRow(t, seqFirst, first - 1))) {
    first--;
    while (first > seqFirst && t.offs[first - 1] === t.offs[first]) first--;
  }
  let next = last + 1;
  while (next < seqEnd && same(gdbRow(t, seqFirst, groupEnd(t, seqEnd, next)))) next = groupEnd(t, seqEnd, next) + 1;
  return {
    start: t.address(s, first),
    end: next < seqEnd ? t.address(s, next) : t.keys.toBigint(t.seqEnd[s]!),
    file: t.filePath(t.file[row]!) ?? '??',
    line: t.line[row]!,
    isStmt: (t.flags[row]! & ROW_STMT) !== 0,
    atRowStart,
    row: { start: t.address(s, row), end: keptRowAfter(t, s, seqEnd, row) },
  };
}
