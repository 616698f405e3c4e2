// Line number programs (.debug_line, versions 2-5): header, file table, and the rows the state
// machine emits, grouped into sequences. Row addresses are kept as number offsets from their
// sequence's start so lookups within a sequence stay on numbers.
import { ByteReader, cstrAt } from '../reader.js';
import { DW_FORM } from './constants.js';
import type { Dwarf } from './dwarf.js';
import { DwarfError } from './errors.js';
import type { Unit } from './unit.js';

export interface LineFile {
  /** The path as addr2line prints it: directory joined with the name, under comp_dir if relative. */
  path: string;
  name: string;
  md5?: Uint8Array;
}

export const ROW_STMT = 1;
export const ROW_PROLOGUE_END = 2;

export interface LineSequence {
  start: bigint;
  /** Address of the end_sequence row (exclusive end). */
  end: bigint;
  /** Row i's address is start + offs[i]; the end_sequence row is not stored. */
  offs: number[];
  files: number[];
  lines: number[];
  columns: number[];
  /** ROW_STMT | ROW_PROLOGUE_END */
  flags: number[];
  discriminators: number[];
}

export interface LineProgram {
  offset: number;
  version: number;
  /** Indexed by the file register's value (index 0 unused before DWARF 5). */
  files: LineFile[];
  sequences: LineSequence[];
}

const DW_LNS = { copy: 1, advance_pc: 2, advance_line: 3, set_file: 4, set_column: 5, negate_stmt: 6, set_basic_block: 7, const_add_pc: 8, fixed_advance_pc: 9, set_prologue_end: 10, set_epilogue_begin: 11, set_isa: 12 } as const;
const DW_LNE = { end_sequence: 1, set_address: 2, define_file: 3, set_discriminator: 4 } as const;
const DW_LNCT = { path: 1, directory_index: 2, MD5: 5 } as const;

export function parseLineProgram(dwarf: Dwarf, offset: number, unit: Unit): LineProgram {
  const S = '.debug_line';
  const section = dwarf.section(S);
  const top = new ByteReader(section, S, offset);
  const { length, offsetSize } = top.initialLength();
  const r = top.sub(length);
  const base = offset + (top.pos - length);
  const at = (pos: number) => base + pos;
  const version = r.u16();
  if (version < 2 || version > 5) throw new DwarfError(S, offset, `unsupported line table version ${version}`);
  let addressSize = unit.addressSize;
  if (version >= 5) {
    addressSize = r.u8();
    r.u8();
  }
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

  const compDir = unit.compDir ?? '';
  const dirs: string[] = [];
  const files: LineFile[] = [];
  if (version >= 5) {
    for (const e of readEntries(r, dwarf, unit, offsetSize, at)) dirs.push(e.path);
    for (const e of readEntries(r, dwarf, unit, offsetSize, at)) files.push(makeFile(e.path, dirs[e.dir] ?? '', compDir, e.md5));
  } else {
    dirs.push(compDir);
    for (let d = r.cstr(); d !== ''; d = r.cstr()) dirs.push(d);
    files.push({ path: '', name: '' });
    for (let name = r.cstr(); name !== ''; name = r.cstr()) {
      const dir = r.uleb128();
      r.uleb128();
      r.uleb128();
      files.push(makeFile(name, dirs[dir] ?? '', compDir));
    }
  }

  r.seek(programStart);
  const sequences: LineSequence[] = [];
  let seq = newSequence();
  let address = 0n;
  let file = 1;
  let line = 1;
  let column = 0;
  let isStmt = defaultIsStmt;
  let prologueEnd = false;
  let discriminator = 0;
  const reset = () => {
    address = 0n;
    file = 1;
    line = 1;
    column = 0;
    isStmt = defaultIsStmt;
    prologueEnd = false;
    discriminator = 0;
  };
  const emit = () => {
    if (seq.offs.length === 0) seq.start = address;
    const off = address - seq.start;
    // Rows may not go backwards within a sequence; a row that does is dropped rather than mis-sorted.
    if (off < 0n || off > BigInt(Number.MAX_SAFE_INTEGER) || off < (seq.offs[seq.offs.length - 1] ?? 0)) return;
    seq.offs.push(Number(off));
    seq.files.push(file);
    seq.lines.push(line);
    seq.columns.push(column);
    seq.flags.push((isStmt ? ROW_STMT : 0) | (prologueEnd ? ROW_PROLOGUE_END : 0));
    seq.discriminators.push(discriminator);
    prologueEnd = false;
    discriminator = 0;
  };
  const advance = (opAdvance: number) => {
    address = BigInt.asUintN(addressSize * 8, address + BigInt(minInst * opAdvance));
  };

  while (!r.atEnd) {
    const opAt = r.pos;
    const op = r.u8();
    if (op >= opcodeBase) {
      const adj = op - opcodeBase;
      advance(Math.floor(adj / lineRange));
      line += lineBase + (adj % lineRange);
      emit();
      continue;
    }
    switch (op) {
      case 0: {
        const len = r.uleb128();
        if (len === 0) throw new DwarfError(S, at(opAt), 'extended opcode of length 0');
        const ext = r.sub(len);
        const sub = ext.u8();
        if (sub === DW_LNE.end_sequence) {
          if (seq.offs.length > 0) {
            seq.end = address;
            if (address >= seq.start) sequences.push(seq);
          }
          seq = newSequence();
          reset();
        } else if (sub === DW_LNE.set_address) {
          address = ext.addr(ext.remaining);
        } else if (sub === DW_LNE.set_discriminator) {
          discriminator = ext.uleb128();
        } else if (sub === DW_LNE.define_file) {
          const name = ext.cstr();
          const dir = ext.uleb128();
          files.push(makeFile(name, dirs[dir] ?? '', compDir));
        }
        break;
      }
      case DW_LNS.copy: emit(); break;
      case DW_LNS.advance_pc: advance(r.uleb128()); break;
      case DW_LNS.advance_line: line += r.sleb128(); break;
      case DW_LNS.set_file: file = r.uleb128(); break;
      case DW_LNS.set_column: column = r.uleb128(); break;
      case DW_LNS.negate_stmt: isStmt = !isStmt; break;
      case DW_LNS.set_basic_block: break;
      case DW_LNS.const_add_pc: advance(Math.floor((255 - opcodeBase) / lineRange)); break;
      case DW_LNS.fixed_advance_pc: address = BigInt.asUintN(addressSize * 8, address + BigInt(r.u16())); break;
      case DW_LNS.set_prologue_end: prologueEnd = true; break;
      case DW_LNS.set_epilogue_begin: break;
      case DW_LNS.set_isa: r.uleb128(); break;
      default:
        for (let i = 0; i < stdLengths[op]!; i++) r.uleb128();
    }
  }
  sequences.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  return { offset, version, files, sequences };
}

function newSequence(): LineSequence {
  return { start: 0n, end: 0n, offs: [], files: [], lines: [], columns: [], flags: [], discriminators: [] };
}

function makeFile(name: string, dir: string, compDir: string, md5?: Uint8Array): LineFile {
  return { path: joinPath(joinPath(compDir, dir), name), name, md5 };
}

function joinPath(dir: string, name: string): string {
  if (name.startsWith('/') || dir === '') return name;
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

interface Entry {
  path: string;
  dir: number;
  md5?: Uint8Array;
}

/** A DWARF 5 directory or file name table: a format description, then that many entries. */
function readEntries(r: ByteReader, dwarf: Dwarf, unit: Unit, offsetSize: number, at: (pos: number) => number): Entry[] {
  const formatCount = r.u8();
  const format: [number, number][] = [];
  for (let i = 0; i < formatCount; i++) format.push([r.uleb128(), r.uleb128()]);
  const count = r.uleb128();
  // Each entry takes at least one byte per format field: a count beyond that is corrupt.
  if (count > r.remaining) throw new DwarfError('.debug_line', at(r.pos), `entry count ${count} exceeds the header`);
  const out: Entry[] = [];
  for (let i = 0; i < count; i++) {
    const e: Entry = { path: '', dir: 0 };
    for (const [type, form] of format) {
      const v = readForm(r, form, offsetSize, at);
      if (type === DW_LNCT.path) e.path = stringOf(v, form, dwarf, unit);
      else if (type === DW_LNCT.directory_index && typeof v === 'number') e.dir = v;
      else if (type === DW_LNCT.MD5 && v instanceof Uint8Array) e.md5 = v;
    }
    out.push(e);
  }
  return out;
}

function readForm(r: ByteReader, form: number, offsetSize: number, at: (pos: number) => number): number | bigint | string | Uint8Array {
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
    default: throw new DwarfError('.debug_line', at(r.pos), `unsupported form 0x${form.toString(16)} in the file table`);
  }
}

function stringOf(v: number | bigint | string | Uint8Array, form: number, dwarf: Dwarf, unit: Unit): string {
  if (typeof v === 'string') return v;
  if (typeof v !== 'number') return '';
  if (form === DW_FORM.line_strp) return cstrAt(dwarf.section('.debug_line_str'), v, '.debug_line_str');
  if (form === DW_FORM.strp) return cstrAt(dwarf.section('.debug_str'), v, '.debug_str');
  return unit.indexedString(v);
}
