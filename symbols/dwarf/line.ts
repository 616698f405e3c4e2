// Line number programs (.debug_line, versions 2-5): header, file table, and the rows the state
// machine emits, grouped into sequences, in typed arrays. A unit's program is read on its own
// (one positioned read), not with the whole section.
import { ByteReader, cstrAt } from '../reader.js';
import type { AddressKeys } from './address-keys.js';
import { DW_FORM } from './constants.js';
import type { Dwarf } from './dwarf.js';
import { DwarfError } from './errors.js';
import type { Unit } from './unit.js';

export const ROW_STMT = 1;
export const ROW_PROLOGUE_END = 2;

/**
 * A unit's line table in typed arrays: sequences sorted by start address, each a run of rows
 * [seqFirst[s], seqLast[s]) of the row arrays. Addresses are keys (see AddressKeys): row i of
 * sequence s is at seqStart[s] + offs[i]. File paths are built when first asked for.
 */
export class LineProgram {
  private readonly paths: (string | undefined)[] = [];

  constructor(
    readonly offset: number,
    readonly version: number,
    private readonly table: FileTable,
    readonly keys: AddressKeys,
    readonly seqStart: Float64Array,
    /** Address of each sequence's end_sequence row (exclusive end). */
    readonly seqEnd: Float64Array,
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

  get sequenceCount(): number {
    return this.seqStart.length;
  }

  /** Entries of the file table, indexed as the file register counts (entry 0 is empty before DWARF 5). */
  get fileCount(): number {
    return this.table.names.length;
  }

  /** Path of file `index` as addr2line prints it: its directory joined with its name, under comp_dir if relative. */
  filePath(index: number): string | undefined {
    if (!(index >= 0 && index < this.table.names.length)) return undefined;
    let p = this.paths[index];
    if (p === undefined) {
      const t = this.table;
      const dir = t.dirs[t.dirOf[index]!];
      const name = t.text(t.names[index]!, t.nameForm);
      p = name === '' ? '' : joinPath(joinPath(t.compDir, dir === undefined ? '' : t.text(dir, t.dirForm)), name);
      this.paths[index] = p;
    }
    return p;
  }

  /** Address of row `i` of sequence `s`. */
  address(s: number, i: number): bigint {
    return this.keys.toBigint(this.seqStart[s]! + this.offs[i]!);
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

const DW_LNS = { copy: 1, advance_pc: 2, advance_line: 3, set_file: 4, set_column: 5, negate_stmt: 6, set_basic_block: 7, const_add_pc: 8, fixed_advance_pc: 9, set_prologue_end: 10, set_epilogue_begin: 11, set_isa: 12 } as const;
const DW_LNE = { end_sequence: 1, set_address: 2, define_file: 3, set_discriminator: 4 } as const;
const DW_LNCT = { path: 1, directory_index: 2 } as const;

export function parseLineProgram(dwarf: Dwarf, offset: number, unit: Unit): LineProgram {
  const S = '.debug_line';
  const size = dwarf.sectionSize(S);
  if (!(offset >= 0 && offset < size)) throw new DwarfError(S, offset, 'line table offset past the end of the section');
  const head = new ByteReader(dwarf.read(S, offset, Math.min(12, size - offset)), S, 0, offset);
  const { length, offsetSize } = head.initialLength();
  if (length > size - offset - head.pos) throw new DwarfError(S, offset, `line table length 0x${length.toString(16)} runs past the end of the section`);
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
  const table = readFileTable(r, dwarf, unit, version, offsetSize);

  r.seek(programStart);
  const keys = dwarf.keys;
  // Special opcodes' address and line advances, precomputed.
  const addrStep: number[] = [];
  const lineStep: number[] = [];
  for (let op = opcodeBase; op < 256; op++) {
    addrStep[op] = minInst * Math.floor((op - opcodeBase) / lineRange);
    lineStep[op] = lineBase + ((op - opcodeBase) % lineRange);
  }
  const seqs: { start: number; end: number; first: number; last: number }[] = [];
  const rows = scratch;
  rows.n = 0;
  let seqFirst = 0;
  let seqStart = 0;
  let address = 0;
  let file = 1;
  let line = 1;
  let column = 0;
  let isStmt = defaultIsStmt;
  let prologueEnd = false;
  let discriminator = 0;
  const b = r.bytes;
  while (r.pos < b.length) {
    const opAt = r.pos;
    const op = b[r.pos++]!;
    // Special opcodes and DW_LNS_copy append a row (below the switch); the rest only change registers.
    if (op >= opcodeBase) {
      address += addrStep[op]!;
      line += lineStep[op]!;
    } else switch (op) {
      case 0: {
        const len = r.uleb128();
        if (len === 0) throw new DwarfError(S, r.origin + opAt, 'extended opcode of length 0');
        const end = r.pos + len;
        if (end > b.length) throw new DwarfError(S, r.origin + opAt, 'extended opcode runs past the line table');
        const sub = b[r.pos++]!;
        if (sub === DW_LNE.end_sequence) {
          if (rows.n > seqFirst && address >= seqStart) seqs.push({ start: seqStart, end: address, first: seqFirst, last: rows.n });
          else rows.n = seqFirst;
          seqFirst = rows.n;
          address = 0;
          file = 1;
          line = 1;
          column = 0;
          isStmt = defaultIsStmt;
          prologueEnd = false;
          discriminator = 0;
        } else if (sub === DW_LNE.set_address) {
          const n = end - r.pos;
          if (n !== 1 && n !== 2 && n !== 4 && n !== 8) throw new DwarfError(S, r.origin + opAt, `DW_LNE_set_address of ${n} bytes`);
          address = keys.read(b, r.pos, n);
        } else if (sub === DW_LNE.set_discriminator) {
          discriminator = r.uleb128();
        } else if (sub === DW_LNE.define_file) {
          table.names.push(r.cstr());
          table.dirOf.push(r.uleb128());
        }
        r.seek(end);
        break;
      }
      case DW_LNS.copy: break;
      case DW_LNS.advance_pc: address += minInst * r.uleb128(); break;
      case DW_LNS.advance_line: line += r.sleb128(); break;
      case DW_LNS.set_file: file = r.uleb128(); break;
      case DW_LNS.set_column: column = r.uleb128(); break;
      case DW_LNS.negate_stmt: isStmt = !isStmt; break;
      case DW_LNS.set_basic_block: break;
      case DW_LNS.const_add_pc: address += addrStep[255]!; break;
      case DW_LNS.fixed_advance_pc: address += r.u16(); break;
      case DW_LNS.set_prologue_end: prologueEnd = true; break;
      case DW_LNS.set_epilogue_begin: break;
      case DW_LNS.set_isa: r.uleb128(); break;
      default:
        for (let i = 0; i < stdLengths[op]!; i++) r.uleb128();
    }
    if (op < opcodeBase && op !== DW_LNS.copy) continue;
    if (rows.n === seqFirst) seqStart = address;
    const off = address - seqStart;
    // Rows may not go backwards within a sequence (nor leave 32 bits of offset, nor be NaN): such a row is dropped.
    if (!(off >= 0 && off <= 0xffffffff) || (rows.n > seqFirst && off < rows.offs[rows.n - 1]!)) continue;
    rows.push(off, file, line, column, (isStmt ? ROW_STMT : 0) | (prologueEnd ? ROW_PROLOGUE_END : 0), discriminator);
    prologueEnd = false;
    discriminator = 0;
  }
  // Rows of an unfinished last sequence have no end: dropped.
  const n = seqFirst;
  seqs.sort((x, y) => x.start - y.start);
  return new LineProgram(
    offset, version, table, keys,
    new Float64Array(seqs.map((q) => q.start)), new Float64Array(seqs.map((q) => q.end)),
    new Uint32Array(seqs.map((q) => q.first)), new Uint32Array(seqs.map((q) => q.last)),
    rows.offs.slice(0, n), rows.file.slice(0, n), rows.line.slice(0, n), rows.column.slice(0, n), rows.flags.slice(0, n), rows.discriminator.slice(0, n),
  );
}

/** Rows as the state machine emits them, in typed arrays that grow by doubling; one instance serves every parse (parsing is synchronous). */
class RowBuffer {
  n = 0;
  offs = new Uint32Array(1024);
  file = new Uint32Array(1024);
  line = new Uint32Array(1024);
  column = new Uint32Array(1024);
  flags = new Uint8Array(1024);
  discriminator = new Uint32Array(1024);

  push(off: number, file: number, line: number, column: number, flags: number, discriminator: number): void {
    if (this.n === this.offs.length) this.grow();
    const i = this.n++;
    this.offs[i] = off;
    this.file[i] = file;
    this.line[i] = line;
    this.column[i] = column;
    this.flags[i] = flags;
    this.discriminator[i] = discriminator;
  }

  private grow(): void {
    const cap = this.offs.length * 2;
    const more = <T extends Uint32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.offs = more(this.offs, (k) => new Uint32Array(k));
    this.file = more(this.file, (k) => new Uint32Array(k));
    this.line = more(this.line, (k) => new Uint32Array(k));
    this.column = more(this.column, (k) => new Uint32Array(k));
    this.flags = more(this.flags, (k) => new Uint8Array(k));
    this.discriminator = more(this.discriminator, (k) => new Uint32Array(k));
  }
}

const scratch = new RowBuffer();

function readFileTable(r: ByteReader, dwarf: Dwarf, unit: Unit, version: number, offsetSize: number): FileTable {
  const text = (v: number | string, form: number): string => {
    if (typeof v === 'string') return v;
    if (form === DW_FORM.line_strp) return cstrAt(dwarf.section('.debug_line_str'), v, '.debug_line_str');
    if (form === DW_FORM.strp) return cstrAt(dwarf.section('.debug_str'), v, '.debug_str');
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
  for (let i = 0; i < count; i++) {
    let path: number | string = '';
    let dir = 0;
    for (const [type, form] of format) {
      const v = readForm(r, form, offsetSize);
      if (type === DW_LNCT.path && (typeof v === 'number' || typeof v === 'string')) {
        path = v;
        pathForm = form;
      } else if (type === DW_LNCT.directory_index && typeof v === 'number') dir = v;
    }
    paths.push(path);
    dirs.push(dir);
  }
  return { paths, pathForm, dirs };
}

function readForm(r: ByteReader, form: number, offsetSize: number): number | bigint | string | Uint8Array {
  switch (form) {
    case DW_FORM.string: return r.cstr();
    case DW_FORM.line_strp: case DW_FORM.strp: case DW_FORM.sec_offset: return r.offset(offsetSize);
    case DW_FORM.strx: case DW_FORM.udata: return r.uleb128();
    case DW_FORM.strx1: case DW_FORM.data1: return r.u8();
    case DW_FORM.strx2: case DW_FORM.data2: return r.u16();
    case DW_FORM.strx3: return r.u24();
    case DW_FORM.strx4: case DW_FORM.data4: return r.u32();
    case DW_FORM.data8: return r.u64();
    case DW_FORM.data16: return r.bytesN(16);
    case DW_FORM.block: return r.bytesN(r.uleb128());
    default: throw new DwarfError('.debug_line', r.origin + r.pos, `unsupported form 0x${form.toString(16)} in the file table`);
  }
}
