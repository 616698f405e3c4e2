// Line number programs (.debug_line, versions 2-5): header, file table, and the rows, grouped
// into sequences. A unit's program is read on its own (one positioned read) and kept as its
// opcodes plus a checkpoint every CHECKPOINT rows: a lookup decodes a few rows from the nearest
// checkpoint, so symbolizing never holds a whole table's rows. The debugger's line queries
// (stepping ranges, breakpoints by line) use the full row table, decoded on first use.
import { ByteReader } from '../reader.js';
import { Column, Records, uint32, uint8 } from '../column.js';
import type { AddressKeys } from './address-keys.js';
import { DW_FORM } from './constants.js';
import type { Dwarf } from './dwarf.js';
import { DwarfError } from './errors.js';
import { END, LineCursor, ROW, ROW_STMT, type LineParams } from './line-cursor.js';
import type { Unit } from './unit.js';
import { partitionPoint } from '../search.js';

export { ROW_PROLOGUE_END, ROW_STMT } from './line-cursor.js';

const CHECKPOINT = 32;

/** A row as lookups return it: its address key and registers, the file as its table index. */
export interface RowValues {
  seq: number;
  address: number;
  file: number;
  line: number;
  column: number;
  flags: number;
  discriminator: number;
}

export class LineProgram {
  private readonly paths: (string | undefined)[] = [];
  private table: LineRows | undefined;

  constructor(
    readonly offset: number,
    readonly version: number,
    private readonly files: FileTable,
    readonly keys: AddressKeys,
    private readonly ops: Uint8Array,
    private readonly opsOrigin: number,
    private readonly params: LineParams,
    /** Sequences sorted by start: [start, end) keys and their checkpoints [cpFirst, cpLast). */
    readonly seqStart: Float64Array,
    readonly seqEnd: Float64Array,
    private readonly cpFirst: Uint32Array,
    private readonly cpLast: Uint32Array,
    /** Checkpoints: records of CP_FIELDS (the opcode position after a row, and the row). */
    private readonly cp: Float64Array,
  ) {}

  get sequenceCount(): number {
    return this.seqStart.length;
  }

  /** Entries of the file table, indexed as the file register counts (entry 0 is empty before DWARF 5). */
  get fileCount(): number {
    return this.files.names.length;
  }

  /** Path of file `index` as addr2line prints it: its directory joined with its name, under comp_dir if relative. */
  filePath(index: number): string | undefined {
    if (!(index >= 0 && index < this.files.names.length)) return undefined;
    let p = this.paths[index];
    if (p === undefined) {
      const t = this.files;
      const dir = t.dirs[t.dirOf[index]!];
      const name = t.text(t.names[index]!, t.nameForm);
      p = name === '' ? '' : joinPath(joinPath(t.compDir, dir === undefined ? '' : t.text(dir, t.dirForm)), name);
      this.paths[index] = p;
    }
    return p;
  }

  /**
   * The row covering the address with key `pc`: the last row at or before it in its sequence
   * (later rows at one address win, as in addr2line). With `gdb`, a non-statement row gives way
   * to the statement row nearest before it at the same address, as gdb picks.
   */
  rowAt(pc: number, gdb = false): RowValues | undefined {
    const { seqStart, seqEnd } = this;
    const lo = partitionPoint(seqStart.length, (i) => seqStart[i]! <= pc);
    // Sequences may overlap (discarded COMDAT copies at 0): try the closest few.
    for (let s = lo - 1; s >= 0 && s >= lo - 8; s--) {
      if (pc >= seqEnd[s]!) continue;
      const cp = this.cp;
      const first = this.cpFirst[s]!;
      // From the last checkpoint before pc's address, so that every row at that address is seen
      // (a checkpoint may fall among them, and gdb's pick can be a row before it).
      const c = Math.max(first, first + partitionPoint(this.cpLast[s]! - first, (j) => cp[(first + j) * CP_FIELDS + CP_ADDRESS]! < pc) - 1);
      if (cp[c * CP_FIELDS + CP_ADDRESS]! > pc) return undefined;
      const cur = this.cursor(s, c);
      const best = rowValues(s, cur);
      // The statement row nearest before the best at its address.
      let stmt: RowValues | undefined = best.flags & ROW_STMT ? { ...best } : undefined;
      while (cur.step() === ROW && cur.address <= pc) {
        if (cur.address !== best.address) stmt = undefined;
        copyRow(cur, best);
        if (cur.flags & ROW_STMT) stmt = copyRow(cur, stmt ?? { ...best });
      }
      return gdb && !(best.flags & ROW_STMT) && stmt ? stmt : best;
    }
    return undefined;
  }

  /** Every row, in typed arrays (decoded on first use). */
  rows(): LineRows {
    this.table ??= this.decodeAll();
    return this.table;
  }

  private cursor(s: number, c: number): LineCursor {
    const cp = this.cp;
    const at = c * CP_FIELDS;
    const cur = new LineCursor(this.ops, this.opsOrigin, this.params, this.keys);
    cur.resume(
      cp[at + CP_POS]!,
      this.seqStart[s]!,
      cp[at + CP_ADDRESS]!,
      cp[at + CP_FILE]!,
      cp[at + CP_LINE]!,
      cp[at + CP_COLUMN]!,
      cp[at + CP_FLAGS]!,
    );
    cur.flags = cp[at + CP_FLAGS]!;
    cur.discriminator = cp[at + CP_DISCRIMINATOR]!;
    return cur;
  }

  private decodeAll(): LineRows {
    const seqFirst = new Uint32Array(this.sequenceCount);
    const seqLast = new Uint32Array(this.sequenceCount);
    const offs = new Column(uint32);
    const file = new Column(uint32);
    const line = new Column(uint32);
    const column = new Column(uint32);
    const flags = new Column(uint8);
    const discriminator = new Column(uint32);
    for (let s = 0; s < this.sequenceCount; s++) {
      seqFirst[s] = offs.length;
      const cur = this.cursor(s, this.cpFirst[s]!);
      do {
        offs.push(cur.address - this.seqStart[s]!);
        file.push(cur.file);
        line.push(cur.line);
        column.push(cur.column);
        flags.push(cur.flags);
        discriminator.push(cur.discriminator);
      } while (cur.step() === ROW);
      seqLast[s] = offs.length;
    }
    return new LineRows(this, seqFirst, seqLast, offs.take(), file.take(), line.take(), column.take(), flags.take(), discriminator.take());
  }
}

function rowValues(seq: number, cur: LineCursor): RowValues {
  return {
    seq,
    address: cur.address,
    file: cur.file,
    line: cur.line,
    column: cur.column,
    flags: cur.flags,
    discriminator: cur.discriminator,
  };
}

function copyRow(cur: LineCursor, into: RowValues): RowValues {
  into.address = cur.address;
  into.file = cur.file;
  into.line = cur.line;
  into.column = cur.column;
  into.flags = cur.flags;
  into.discriminator = cur.discriminator;
  return into;
}

/**
 * A unit's whole line table in typed arrays: sequence s (as numbered by its program) is the run of
 * rows [seqFirst[s], seqLast[s]); row i of it is at seqStart[s] + offs[i] (address keys).
 */
export class LineRows {
  constructor(
    readonly prog: LineProgram,
    readonly seqFirst: Uint32Array,
    readonly seqLast: Uint32Array,
    readonly offs: Uint32Array,
    /** Indexes into the file table. */
    readonly file: Uint32Array,
    readonly line: Uint32Array,
    readonly column: Uint32Array,
    /** ROW_STMT | ROW_PROLOGUE_END */
    readonly flags: Uint8Array,
    readonly discriminator: Uint32Array,
  ) {}

  get seqStart(): Float64Array {
    return this.prog.seqStart;
  }

  get seqEnd(): Float64Array {
    return this.prog.seqEnd;
  }

  get sequenceCount(): number {
    return this.seqFirst.length;
  }

  get keys(): AddressKeys {
    return this.prog.keys;
  }

  filePath(index: number): string | undefined {
    return this.prog.filePath(index);
  }

  /** Address of row `i` of sequence `s`. */
  address(s: number, i: number): bigint {
    return this.prog.keys.toBigint(this.prog.seqStart[s]! + this.offs[i]!);
  }
}

/** A line table's directories and files as stored: string offsets (or the strings) and directory indices. */
interface FileTable {
  compDir: string;
  dirs: (number | string)[];
  dirForm: number;
  names: (number | string)[];
  nameForm: number;
  dirOf: number[];
  /** The string a stored name or directory stands for. */
  text(v: number | string, form: number): string;
}

/** Fields of a checkpoint record. */
const CP_POS = 0;
const CP_ADDRESS = 1;
const CP_FILE = 2;
const CP_LINE = 3;
const CP_COLUMN = 4;
const CP_FLAGS = 5;
const CP_DISCRIMINATOR = 6;
const CP_FIELDS = 7;

const enum DW_LNCT {
  path = 1,
  directory_index = 2,
}

export function parseLineProgram(dwarf: Dwarf, offset: number, unit: Unit): LineProgram {
  const S = '.debug_line';
  const size = dwarf.sectionSize(S);
  if (!(offset >= 0 && offset < size)) throw new DwarfError(S, offset, 'line table offset past the end of the section');
  const head = new ByteReader(dwarf.read(S, offset, Math.min(12, size - offset)), S, 0, offset);
  const { length, offsetSize } = head.initialLength();
  if (length > size - offset - head.pos)
    throw new DwarfError(S, offset, `line table length 0x${length.toString(16)} runs past the end of the section`);
  const r = new ByteReader(dwarf.readTransient(S, offset + head.pos, length), S, 0, offset + head.pos);
  const version = r.u16();
  if (version < 2 || version > 5) throw new DwarfError(S, offset, `unsupported line table version ${version}`);
  // DWARF 5's address and segment selector sizes: DW_LNE_set_address's length gives the former.
  if (version >= 5) r.skip(2);
  const headerLength = r.offset(offsetSize);
  const programStart = r.pos + headerLength;
  if (programStart > r.length) throw new DwarfError(S, offset, 'header length runs past the line table');
  const minInst = r.u8();
  if (version >= 4) r.u8();
  const defaultIsStmt = r.u8() !== 0;
  const lineBase = r.i8();
  const lineRange = r.u8();
  const opcodeBase = r.u8();
  if (lineRange === 0) throw new DwarfError(S, offset, 'line_range is 0');
  if (opcodeBase === 0) throw new DwarfError(S, offset, 'opcode_base is 0');
  const stdLengths: number[] = [0];
  for (let i = 1; i < opcodeBase; i++) stdLengths.push(r.u8());
  const files = readFileTable(r, dwarf, unit, version, offsetSize);
  const addrStep = new Float64Array(256);
  const lineStep = new Int32Array(256);
  for (let op = opcodeBase; op < 256; op++) {
    addrStep[op] = minInst * Math.floor((op - opcodeBase) / lineRange);
    lineStep[op] = lineBase + ((op - opcodeBase) % lineRange);
  }
  const defineFile = (name: string, dir: number) => {
    files.names.push(name);
    files.dirOf.push(dir);
  };
  const params: LineParams = { minInst, defaultIsStmt, opcodeBase, stdLengths, addrStep, lineStep, defineFile };
  // The opcodes are kept (a copy: the bytes read are a reused buffer).
  const ops = r.bytes.slice(programStart);
  const opsOrigin = r.origin + programStart;
  const cp = checkpoints;
  cp.length = 0;
  const seqs: { start: number; end: number; first: number; last: number }[] = [];
  const cur = new LineCursor(ops, opsOrigin, params, dwarf.keys);
  let first = 0;
  // A checkpoint at each sequence's first row and every CHECKPOINT rows after it.
  for (let ev = cur.step(); ev !== END; ev = cur.step(ev === ROW ? CHECKPOINT : 1)) {
    if (ev === ROW) {
      const at = cp.append();
      const v = cp.values;
      v[at + CP_POS] = cur.p;
      v[at + CP_ADDRESS] = cur.address;
      v[at + CP_FILE] = cur.file;
      v[at + CP_LINE] = cur.line;
      v[at + CP_COLUMN] = cur.column;
      v[at + CP_FLAGS] = cur.flags;
      v[at + CP_DISCRIMINATOR] = cur.discriminator;
    } else {
      if (cur.valid) seqs.push({ start: cur.seqStart, end: cur.seqEnd, first, last: cp.length });
      else cp.length = first;
      first = cp.length;
    }
  }
  // Rows of an unfinished last sequence have no end: dropped.
  cp.length = first;
  seqs.sort((x, y) => x.start - y.start);
  return new LineProgram(
    offset,
    version,
    files,
    dwarf.keys,
    ops,
    opsOrigin,
    params,
    new Float64Array(seqs.map((q) => q.start)),
    new Float64Array(seqs.map((q) => q.end)),
    new Uint32Array(seqs.map((q) => q.first)),
    new Uint32Array(seqs.map((q) => q.last)),
    cp.take(),
  );
}

/** Shared by every first pass (parsing is synchronous). */
const checkpoints = new Records(CP_FIELDS);

function readFileTable(r: ByteReader, dwarf: Dwarf, unit: Unit, version: number, offsetSize: number): FileTable {
  const text = (v: number | string, form: number): string => {
    if (typeof v === 'string') return v;
    if (form === DW_FORM.line_strp) return dwarf.string('.debug_line_str', v);
    if (form === DW_FORM.strp) return dwarf.string('.debug_str', v);
    return unit.indexedString(v);
  };
  const compDir = unit.compDir ?? '';
  if (version >= 5) {
    const dirs = readEntries(r, offsetSize);
    const files = readEntries(r, offsetSize);
    return { compDir, dirs: dirs.paths, dirForm: dirs.pathForm, names: files.paths, nameForm: files.pathForm, dirOf: files.dirs, text };
  }
  const dirs: string[] = [compDir];
  for (let d = r.cstr(); d !== ''; d = r.cstr()) dirs.push(d);
  const names: string[] = [''];
  const dirOf: number[] = [-1];
  for (let name = r.cstr(); name !== ''; name = r.cstr()) {
    names.push(name);
    dirOf.push(r.uleb128());
    r.uleb128();
    r.uleb128();
  }
  return { compDir, dirs, dirForm: DW_FORM.string, names, nameForm: DW_FORM.string, dirOf, text };
}

function joinPath(dir: string, name: string): string {
  if (name.startsWith('/') || dir === '') return name;
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

/** A DWARF 5 directory or file name table: a format description, then that many entries (paths as stored). */
function readEntries(r: ByteReader, offsetSize: number): { paths: (number | string)[]; pathForm: number; dirs: number[] } {
  const formatCount = r.u8();
  const format: [number, number][] = [];
  for (let i = 0; i < formatCount; i++) format.push([r.uleb128(), r.uleb128()]);
  const count = r.uleb128();
  // Each entry takes at least one byte per format field: a count beyond that is corrupt.
  if (count > r.remaining) throw new DwarfError('.debug_line', r.origin + r.pos, `entry count ${count} exceeds the header`);
  const paths: (number | string)[] = [];
  const dirs: number[] = [];
  let pathForm = DW_FORM.string as number;
  const types = format.map((f) => f[0]);
  const forms = format.map((f) => f[1]);
  for (let i = 0; i < count; i++) {
    let path: number | string = '';
    let dir = 0;
    for (let k = 0; k < forms.length; k++) {
      const form = forms[k]!;
      if (form === DW_FORM.string) {
        const str = r.cstr();
        if (types[k] === DW_LNCT.path) {
          path = str;
          pathForm = form;
        }
        continue;
      }
      const v = numberForm(r, form, offsetSize);
      if (types[k] === DW_LNCT.path) {
        path = v;
        pathForm = form;
      } else if (types[k] === DW_LNCT.directory_index) dir = v;
    }
    paths.push(path);
    dirs.push(dir);
  }
  return { paths, pathForm, dirs };
}

/** A file-table field other than an inline string, as a number (string offsets and indices, directory indices); MD5s and blocks are skipped (NaN). */
function numberForm(r: ByteReader, form: number, offsetSize: number): number {
  switch (form) {
    case DW_FORM.line_strp:
    case DW_FORM.strp:
    case DW_FORM.sec_offset:
      return r.offset(offsetSize);
    case DW_FORM.strx:
    case DW_FORM.udata:
      return r.uleb128();
    case DW_FORM.strx1:
    case DW_FORM.data1:
      return r.u8();
    case DW_FORM.strx2:
    case DW_FORM.data2:
      return r.u16();
    case DW_FORM.strx3:
      return r.u24();
    case DW_FORM.strx4:
    case DW_FORM.data4:
      return r.u32();
    case DW_FORM.data8:
      return Number(r.u64());
    case DW_FORM.data16:
      r.skip(16);
      return NaN;
    case DW_FORM.block:
      r.skip(r.uleb128());
      return NaN;
    default:
      throw new DwarfError('.debug_line', r.origin + r.pos, `unsupported form 0x${form.toString(16)} in the file table`);
  }
}
