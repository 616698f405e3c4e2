// The line-number state machine as a cursor: step() runs opcodes up to the next row or the end of
// a sequence, so one decoder serves the unit's first pass (sequences and checkpoints), a lookup
// resumed from a checkpoint, and the full row table. Rows that go backwards within a sequence,
// or leave 32 bits of offset from its start, or have no address key, are dropped.
import { ByteReader } from '../reader.js';
import type { AddressKeys } from './address-keys.js';
import { DwarfError } from './errors.js';

export const ROW_STMT = 1;
export const ROW_PROLOGUE_END = 2;

/** step() results. */
export const END = 0;
export const ROW = 1;
const END_SEQUENCE = 2;

/** What the program header fixes. */
export interface LineParams {
  minInst: number;
  defaultIsStmt: boolean;
  opcodeBase: number;
  stdLengths: number[];
  /** Special opcodes' address and line advances. */
  addrStep: Float64Array;
  lineStep: Int32Array;
  /** DW_LNE_define_file (DWARF 2-4): adds a file to the table. */
  defineFile(name: string, dir: number): void;
}

const enum DW_LNS {
  copy = 1,
  advance_pc = 2,
  advance_line = 3,
  set_file = 4,
  set_column = 5,
  negate_stmt = 6,
  set_basic_block = 7,
  const_add_pc = 8,
  fixed_advance_pc = 9,
  set_prologue_end = 10,
  set_epilogue_begin = 11,
  set_isa = 12,
}
const enum DW_LNE {
  end_sequence = 1,
  set_address = 2,
  define_file = 3,
  set_discriminator = 4,
}

export class LineCursor {
  /** Position in the opcodes. */
  p = 0;
  /** After ROW: the row. */
  address = 0;
  file = 1;
  line = 1;
  column = 0;
  isStmt = false;
  /** ROW_STMT | ROW_PROLOGUE_END of the row. */
  flags = 0;
  discriminator = 0;
  /** The address of the sequence's first row; after END_SEQUENCE, its end (exclusive). */
  seqStart = 0;
  seqEnd = 0;
  /** After END_SEQUENCE: false when the sequence is dropped (no rows, or it ends before it starts). */
  valid = false;
  private prologueEnd = false;
  private pendingDiscriminator = 0;
  private rowsInSeq = 0;
  private lastOff = 0;
  private readonly r: ByteReader;

  constructor(
    /** The program's opcodes (bytes[0] is the first). */
    readonly bytes: Uint8Array,
    /** Offset of bytes[0] in .debug_line, for errors. */
    origin: number,
    private readonly h: LineParams,
    private readonly keys: AddressKeys,
  ) {
    this.r = new ByteReader(bytes, '.debug_line', 0, origin);
    this.resetRegisters();
  }

  /** Continues after a row recorded earlier (a checkpoint) of a sequence starting at `seqStart`. */
  resume(p: number, seqStart: number, address: number, file: number, line: number, column: number, flags: number): void {
    this.p = p;
    this.seqStart = seqStart;
    this.address = address;
    this.file = file;
    this.line = line;
    this.column = column;
    this.isStmt = (flags & ROW_STMT) !== 0;
    this.prologueEnd = false;
    this.pendingDiscriminator = 0;
    this.rowsInSeq = 1;
    this.lastOff = address - seqStart;
  }

  /** Runs to the `rows`-th next row (ROW), or to the end of a sequence or of the program on the way. */
  step(rows = 1): number {
    const b = this.bytes;
    const end = b.length;
    const { opcodeBase, addrStep, lineStep } = this.h;
    while (this.p < end) {
      const op = b[this.p++]!;
      if (op >= opcodeBase) {
        this.address += addrStep[op]!;
        this.line += lineStep[op]!;
      } else if (op === DW_LNS.set_column && b[this.p]! < 0x80) {
        this.column = b[this.p++]!;
        continue;
      } else if (op === 0) {
        if (this.extended()) return END_SEQUENCE;
        continue;
      } else if (op !== DW_LNS.copy) {
        this.standard(op);
        continue;
      }
      if (this.rowsInSeq === 0) {
        this.seqStart = this.address;
        this.lastOff = 0;
      }
      const off = this.address - this.seqStart;
      if (!(off >= this.lastOff && off <= 0xffffffff)) continue;
      this.lastOff = off;
      this.rowsInSeq++;
      this.flags = (this.isStmt ? ROW_STMT : 0) | (this.prologueEnd ? ROW_PROLOGUE_END : 0);
      this.discriminator = this.pendingDiscriminator;
      this.prologueEnd = false;
      this.pendingDiscriminator = 0;
      if (--rows === 0) return ROW;
    }
    return END;
  }

  private standard(op: number): void {
    const r = this.r;
    r.pos = this.p;
    switch (op) {
      case DW_LNS.advance_pc:
        this.address += this.h.minInst * r.uleb128();
        break;
      case DW_LNS.advance_line:
        this.line += r.sleb128();
        break;
      case DW_LNS.set_file:
        this.file = r.uleb128();
        break;
      case DW_LNS.set_column:
        this.column = r.uleb128();
        break;
      case DW_LNS.negate_stmt:
        this.isStmt = !this.isStmt;
        break;
      case DW_LNS.set_basic_block:
        break;
      case DW_LNS.const_add_pc:
        this.address += this.h.addrStep[255]!;
        break;
      case DW_LNS.fixed_advance_pc:
        this.address += r.u16();
        break;
      case DW_LNS.set_prologue_end:
        this.prologueEnd = true;
        break;
      case DW_LNS.set_epilogue_begin:
        break;
      case DW_LNS.set_isa:
        r.uleb128();
        break;
      default:
        for (let i = 0; i < this.h.stdLengths[op]!; i++) r.uleb128();
    }
    this.p = r.pos;
  }

  /** An extended opcode; true at the end of a sequence. */
  private extended(): boolean {
    const r = this.r;
    const at = this.p - 1;
    r.pos = this.p;
    const len = r.uleb128();
    if (len === 0) throw new DwarfError('.debug_line', r.origin + at, 'extended opcode of length 0');
    const next = r.pos + len;
    if (next > this.bytes.length) throw new DwarfError('.debug_line', r.origin + at, 'extended opcode runs past the line table');
    const sub = this.bytes[r.pos++]!;
    let ended = false;
    if (sub === DW_LNE.end_sequence) {
      this.valid = this.rowsInSeq > 0 && this.address >= this.seqStart;
      this.seqEnd = this.address;
      ended = true;
    } else if (sub === DW_LNE.set_address) {
      const size = next - r.pos;
      if (size !== 1 && size !== 2 && size !== 4 && size !== 8)
        throw new DwarfError('.debug_line', r.origin + at, `DW_LNE_set_address of ${size} bytes`);
      this.address = this.keys.read(this.bytes, r.pos, size);
    } else if (sub === DW_LNE.set_discriminator) {
      this.pendingDiscriminator = r.uleb128();
    } else if (sub === DW_LNE.define_file) {
      this.h.defineFile(r.cstr(), r.uleb128());
    }
    this.p = next;
    if (ended) this.resetRegisters();
    return ended;
  }

  private resetRegisters(): void {
    this.address = 0;
    this.file = 1;
    this.line = 1;
    this.column = 0;
    this.isStmt = this.h.defaultIsStmt;
    this.prologueEnd = false;
    this.pendingDiscriminator = 0;
    this.rowsInSeq = 0;
    this.lastOff = 0;
  }
}
