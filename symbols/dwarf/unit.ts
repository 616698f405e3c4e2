// Units of .debug_info: headers read up front, a unit's bytes read when it is first needed (the
// unit DIE and single DIEs from a small read, the whole DIE tree on demand), and the per-unit
// context (string/address/list bases, base address) attribute values are resolved against.
import { ByteReader, FormatError } from '../reader.js';
import { u32 } from './address-keys.js';
import { DW_AT, DW_FORM, DW_UT } from './constants.js';
import { parseDies, readDie, type Attr, type Die } from './die.js';
import type { Dwarf } from './dwarf.js';
import { DwarfError } from './errors.js';
import { parseLineProgram, type LineProgram } from './line.js';
import { readRangeList, type Range } from './ranges.js';
import { partitionPoint } from '../search.js';

export interface UnitHeader {
  /** Offset of the unit header in .debug_info. */
  offset: number;
  /** Offset just past the unit. */
  end: number;
  version: number;
  unitType: number;
  addressSize: number;
  /** 4 for 32-bit DWARF, 8 for 64-bit. */
  offsetSize: number;
  abbrevOffset: number;
  /** Offset of the unit DIE. */
  firstDie: number;
  typeSignature?: bigint;
  /** .debug_info offset of the type a type unit describes. */
  typeOffset?: number;
}

/** Longest unit header: 64-bit initial length, version, type, sizes, abbreviation offset, signature, type offset. */
const MAX_HEADER = 40;

/** The unit headers of a section, each read on its own (`read` returns section bytes), so the units' contents stay unread. */
/**
 * The unit headers of a section. With `damaged`, a header that does not parse is reported and
 * skipped when its length still says where the next unit starts; the section's units stop there
 * when it does not. Without it, the first bad header throws.
 */
export function readUnitHeaders(
  read: (offset: number, length: number) => Uint8Array,
  size: number,
  section: string,
  damaged?: (offset: number, message: string) => void,
): UnitHeader[] {
  const out: UnitHeader[] = [];
  for (let offset = 0; offset < size;) {
    const r = new ByteReader(read(offset, Math.min(MAX_HEADER, size - offset)), section, 0, offset);
    try {
      const h = parseUnitHeader(r, size, section);
      out.push(h);
      offset = h.end;
    } catch (e) {
      if (!damaged || !(e instanceof FormatError)) throw e;
      const next = nextUnitOffset(read, offset, size, section);
      damaged(offset, `unit skipped${next === undefined ? ', and the units after it' : ''}: ${e.message}`);
      if (next === undefined) break;
      offset = next;
    }
  }
  return out;
}

/** Where the unit after the one at `offset` starts, when its length field says so sensibly. */
function nextUnitOffset(
  read: (offset: number, length: number) => Uint8Array,
  offset: number,
  size: number,
  section: string,
): number | undefined {
  try {
    const r = new ByteReader(read(offset, Math.min(12, size - offset)), section, 0, offset);
    const { length } = r.initialLength();
    const end = offset + r.pos + length;
    return end > offset && end <= size ? end : undefined;
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    return undefined;
  }
}

function parseUnitHeader(r: ByteReader, sectionSize: number, section: string): UnitHeader {
  const offset = r.origin;
  const { length, offsetSize } = r.initialLength();
  const end = offset + r.pos + length;
  if (end > sectionSize) throw new DwarfError(section, offset, `unit length 0x${length.toString(16)} runs past the end of the section`);
  const version = r.u16();
  if (version < 2 || version > 5) throw new DwarfError(section, offset, `unsupported DWARF version ${version}`);
  let unitType: number = DW_UT.compile;
  let addressSize: number;
  let abbrevOffset: number;
  let typeSignature: bigint | undefined;
  let typeOffset: number | undefined;
  if (version >= 5) {
    unitType = r.u8();
    addressSize = r.u8();
    abbrevOffset = r.offset(offsetSize);
    if (unitType === DW_UT.skeleton || unitType === DW_UT.split_compile) r.u64();
    else if (unitType === DW_UT.type || unitType === DW_UT.split_type) {
      typeSignature = r.u64();
      typeOffset = offset + r.offset(offsetSize);
    } else if (unitType !== DW_UT.compile && unitType !== DW_UT.partial) {
      throw new DwarfError(section, offset, `unknown unit type ${unitType}`);
    }
  } else {
    abbrevOffset = r.offset(offsetSize);
    addressSize = r.u8();
    if (section === '.debug_types') {
      unitType = DW_UT.type;
      typeSignature = r.u64();
      typeOffset = offset + r.offset(offsetSize);
    }
  }
  if (addressSize !== 4 && addressSize !== 8 && addressSize !== 2)
    throw new DwarfError(section, offset, `unsupported address size ${addressSize}`);
  const firstDie = offset + r.pos;
  if (firstDie > end) throw new DwarfError(section, offset, 'unit header longer than the unit');
  return { offset, end, version, unitType, addressSize, offsetSize, abbrevOffset, firstDie, typeSignature, typeOffset };
}

/** A DIE that is not the unit DIE is read from this many bytes, or from the rest of the unit when it is longer. */
const DIE_WINDOW = 512;

export class Unit implements UnitHeader {
  readonly offset: number;
  readonly end: number;
  readonly version: number;
  readonly unitType: number;
  readonly addressSize: number;
  readonly offsetSize: number;
  readonly abbrevOffset: number;
  readonly firstDie: number;
  readonly typeSignature?: bigint;
  readonly typeOffset?: number;
  private head: Die | undefined;
  private all: Die[] | undefined;
  private lines: LineProgram | null | undefined;
  private bases:
    { addr: number; strOffsets: number; rnglists: number; loclists: number; lowPc: bigint; lowHalves: [number, number] } | undefined;

  constructor(
    readonly dwarf: Dwarf,
    h: UnitHeader,
    readonly section: string,
  ) {
    this.offset = h.offset;
    this.end = h.end;
    this.version = h.version;
    this.unitType = h.unitType;
    this.addressSize = h.addressSize;
    this.offsetSize = h.offsetSize;
    this.abbrevOffset = h.abbrevOffset;
    this.firstDie = h.firstDie;
    this.typeSignature = h.typeSignature;
    this.typeOffset = h.typeOffset;
  }

  /** The unit's bytes, header included: one positioned read per call (nothing is kept here). */
  bytes(): Uint8Array {
    return this.dwarf.read(this.section, this.offset, this.end - this.offset);
  }

  /** The unit DIE with its attributes only (cheap: no children decoded). Use `root` for the tree. */
  get unitDie(): Die {
    if (this.all) return this.all[0]!;
    this.head ??= this.dieHeader(this.firstDie);
    if (!this.head) throw new DwarfError(this.section, this.offset, 'unit has no DIEs');
    return this.head;
  }

  /**
   * The DIE at section offset `offset` with its attributes only, read from a few hundred bytes
   * there (from the tree when the unit's DIEs are decoded); undefined for a null entry.
   */
  dieHeader(offset: number): Die | undefined {
    if (this.all) return this.dieAt(offset);
    if (offset < this.firstDie || offset >= this.end) return undefined;
    const abbrevs = this.dwarf.abbrevs(this.abbrevOffset);
    const rest = this.end - offset;
    const read = (len: number) =>
      readDie(new ByteReader(this.dwarf.read(this.section, offset, len), this.section, 0, offset), this, abbrevs) ?? undefined;
    if (rest <= DIE_WINDOW) return read(rest);
    try {
      return read(DIE_WINDOW);
    } catch (e) {
      if (!(e instanceof FormatError)) throw e;
      return read(rest);
    }
  }

  /** The unit DIE with its whole subtree, decoded on first use and cached. */
  get root(): Die {
    return this.dies[0]!;
  }

  /** Every DIE of the unit in offset order. */
  get dies(): readonly Die[] {
    if (!this.all) {
      const dies = parseDies(this, this.bytes(), this.dwarf.abbrevs(this.abbrevOffset));
      if (dies.length === 0) throw new DwarfError(this.section, this.offset, 'unit has no DIEs');
      this.all = dies;
      this.head = undefined;
    }
    return this.all;
  }

  /** The DIE at .debug_info offset `offset` in this unit. */
  dieAt(offset: number): Die | undefined {
    const dies = this.dies;
    const d = dies[partitionPoint(dies.length, (i) => dies[i]!.offset < offset)];
    return d && d.offset === offset ? d : undefined;
  }

  get name(): string | undefined {
    return this.unitDie.name;
  }

  get compDir(): string | undefined {
    return this.unitDie.string(DW_AT.comp_dir);
  }

  get producer(): string | undefined {
    return this.unitDie.string(DW_AT.producer);
  }

  /** The unit has preprocessor macro information (DWARF 5 .debug_macro, GNU's, or DWARF 2-4 .debug_macinfo). */
  get hasMacros(): boolean {
    const d = this.unitDie;
    return d.has(DW_AT.macros) || d.has(DW_AT.GNU_macros) || d.has(DW_AT.macro_info);
  }

  /** DW_LANG_* of the unit (0x8001 is gas's vendor code for assembly). */
  get language(): number | undefined {
    return this.unitDie.udata(DW_AT.language);
  }

  /** Offset of this unit's table in .debug_addr (DW_AT_addr_base), 0 if none. */
  get addrBase(): number {
    return this.contextBases().addr;
  }

  /** The base address for range and location lists: the unit's DW_AT_low_pc. */
  get baseAddress(): bigint {
    return this.contextBases().lowPc;
  }

  /** baseAddress as its low and high 32-bit halves (range lists add offsets to it in 64 bits). */
  get baseHalves(): [number, number] {
    return this.contextBases().lowHalves;
  }

  get loclistsBase(): number {
    return this.contextBases().loclists;
  }

  get rnglistsBase(): number {
    return this.contextBases().rnglists;
  }

  /** The unit's line program (DW_AT_stmt_list), parsed on first use; undefined if it has none. */
  get lineProgram(): LineProgram | undefined {
    if (this.lines === undefined) {
      const a = this.dwarf.guardUnit(this, 'line table reference', () => this.unitDie.attr(DW_AT.stmt_list), undefined);
      const at = a && typeof a.value === 'number' ? a.value : undefined;
      // A damaged line program costs this unit its lines (named once), not the lookup.
      this.lines =
        at === undefined
          ? null
          : this.dwarf.damage.guard('.debug_line', at, 'line program', () => parseLineProgram(this.dwarf, at, this), null);
    }
    return this.lines ?? undefined;
  }

  /** The address ranges of a DIE (low_pc/high_pc or DW_AT_ranges); empty if it has none. */
  ranges(die: Die): Range[] {
    const keys = this.dwarf.keys;
    const pairs = this.rangeKeys(die);
    const out: Range[] = [];
    for (let i = 0; i < pairs.length; i += 2) out.push({ start: keys.toBigint(pairs[i]!), end: keys.toBigint(pairs[i + 1]!) });
    return out;
  }

  /** The same as [start, end) address key pairs. */
  rangeKeys(die: Die): number[] {
    const out: number[] = [];
    const rangesAttr = die.attr(DW_AT.ranges);
    if (rangesAttr) {
      readRangeList(this, rangesAttr.form, rangesAttr.value as number, out);
      return out;
    }
    const lowAttr = die.attr(DW_AT.low_pc);
    const high = die.attr(DW_AT.high_pc);
    const low = lowAttr && this.attrAddressKey(lowAttr);
    if (low === undefined || !high) return out;
    const end = high.form === DW_FORM.addr || isAddrx(high.form) ? this.attrAddressKey(high)! : low + Number(high.value as number | bigint);
    if (end > low) out.push(low, end);
    return out;
  }

  attrString(a: Attr): string | undefined {
    const v = a.value;
    switch (a.form) {
      case DW_FORM.string:
        return v as string;
      case DW_FORM.strp:
        return this.dwarf.string('.debug_str', v as number);
      case DW_FORM.line_strp:
        return this.dwarf.string('.debug_line_str', v as number);
      case DW_FORM.strx:
      case DW_FORM.strx1:
      case DW_FORM.strx2:
      case DW_FORM.strx3:
      case DW_FORM.strx4:
      case DW_FORM.GNU_str_index:
        return this.indexedString(v as number);
      default:
        return undefined;
    }
  }

  /** DW_FORM_strx*: an entry of this unit's .debug_str_offsets table. */
  indexedString(index: number): string {
    return this.dwarf.string('.debug_str', this.indexedStringOffset(index));
  }

  /** The .debug_str offset that entry holds. */
  indexedStringOffset(index: number): number {
    const table = this.dwarf.section('.debug_str_offsets');
    const at = this.contextBases().strOffsets + index * this.offsetSize;
    if (at + this.offsetSize > table.length) throw new DwarfError('.debug_str_offsets', at, `string index ${index} out of range`);
    return new ByteReader(table, '.debug_str_offsets', at).offset(this.offsetSize);
  }

  /** Offset of this unit's entries in .debug_str_offsets (DW_AT_str_offsets_base). */
  get strOffsetsBase(): number {
    return this.contextBases().strOffsets;
  }

  attrAddress(a: Attr): bigint | undefined {
    if (a.form === DW_FORM.addr) return a.value as bigint;
    if (isAddrx(a.form)) return this.indexedAddress(a.value as number);
    return undefined;
  }

  private attrAddressKey(a: Attr): number | undefined {
    if (a.form === DW_FORM.addr) return this.dwarf.keys.fromBigint(a.value as bigint);
    if (isAddrx(a.form)) return this.indexedAddressKey(a.value as number);
    return undefined;
  }

  /** Entry `index` of this unit's .debug_addr table. */
  indexedAddress(index: number): bigint {
    return new ByteReader(this.dwarf.section('.debug_addr'), '.debug_addr', this.addrEntry(index)).addr(this.addressSize);
  }

  /** The same as an address key. */
  indexedAddressKey(index: number): number {
    return this.dwarf.keys.read(this.dwarf.section('.debug_addr'), this.addrEntry(index), this.addressSize);
  }

  /** The same as its low and high 32-bit halves. */
  indexedAddressHalves(index: number): [number, number] {
    const at = this.addrEntry(index);
    const t = this.dwarf.section('.debug_addr');
    return this.addressSize === 8 ? [u32(t, at), u32(t, at + 4)] : [Number(new ByteReader(t, '.debug_addr', at).addr(this.addressSize)), 0];
  }

  private addrEntry(index: number): number {
    const at = this.contextBases().addr + index * this.addressSize;
    if (!(at + this.addressSize <= this.dwarf.section('.debug_addr').length))
      throw new DwarfError('.debug_addr', at, `address index ${index} out of range`);
    return at;
  }

  resolveRef(a: Attr): Die | undefined {
    if (a.form === DW_FORM.ref_sig8) return this.dwarf.typeUnitDie(a.value as bigint);
    if (a.form === DW_FORM.GNU_ref_alt || a.form === DW_FORM.ref_sup4 || a.form === DW_FORM.ref_sup8) return undefined;
    if (typeof a.value !== 'number') return undefined;
    if (a.form === DW_FORM.ref_addr || a.value < this.offset || a.value >= this.end) return this.dwarf.dieAt(a.value, this.section);
    return this.dieAt(a.value);
  }

  private contextBases(): NonNullable<Unit['bases']> {
    if (!this.bases) {
      const d = this.unitDie;
      const num = (at: number) => {
        const a = d.attr(at);
        return a && typeof a.value === 'number' ? a.value : undefined;
      };
      // Without a base attribute, the table right after the first header (as LLVM assumes).
      const header = this.offsetSize === 8 ? 16 : 8;
      this.bases = {
        addr: num(DW_AT.addr_base) ?? num(DW_AT.GNU_addr_base) ?? (this.version >= 5 ? header : 0),
        strOffsets: num(DW_AT.str_offsets_base) ?? (this.version >= 5 ? header : 0),
        rnglists: num(DW_AT.rnglists_base) ?? header + 4,
        loclists: num(DW_AT.loclists_base) ?? header + 4,
        lowPc: 0n,
        lowHalves: [0, 0],
      };
      // low_pc may itself be an addrx, which needs addr_base: set after the bases.
      const low = d.address(DW_AT.low_pc) ?? d.address(DW_AT.entry_pc) ?? 0n;
      this.bases.lowPc = low;
      this.bases.lowHalves = [Number(low & 0xffffffffn), Number(low >> 32n)];
    }
    return this.bases;
  }
}

export function isAddrx(form: number): boolean {
  return (
    form === DW_FORM.addrx ||
    form === DW_FORM.addrx1 ||
    form === DW_FORM.addrx2 ||
    form === DW_FORM.addrx3 ||
    form === DW_FORM.addrx4 ||
    form === DW_FORM.GNU_addr_index
  );
}
