// Address ranges: DW_AT_ranges into .debug_ranges (DWARF 2-4) or .debug_rnglists (DWARF 5), read
// as [start, end) address key pairs (see address-keys.ts) so whole-unit scans stay on numbers.
// Offsets from a base address are added in 64 bits (as 32-bit halves): with a unit base of 0 they
// are whole kernel addresses.
import { ByteReader } from '../reader.js';
import { u32 } from './address-keys.js';
import { DW_FORM } from './constants.js';
import { DwarfError } from './errors.js';
import type { Dwarf } from './dwarf.js';
import type { Unit } from './unit.js';

/** [start, end) */
export interface Range {
  start: bigint;
  end: bigint;
}

const enum DW_RLE {
  end_of_list = 0,
  base_addressx = 1,
  startx_endx = 2,
  startx_length = 3,
  offset_pair = 4,
  base_address = 5,
  start_end = 6,
  start_length = 7,
}

/** Upper bound on entries in one list: corrupt input must not make us loop for long. */
const MAX_ENTRIES = 1 << 20;
const TWO32 = 4294967296;

/** Where key pairs are appended: an array, or a Column. */
interface KeySink {
  push(key: number): unknown;
}

/** Appends the non-empty ranges of a DW_AT_ranges value (`form`, `value`) to `out` as key pairs. */
export function readRangeList(unit: Unit, form: number, value: number, out: KeySink): void {
  if (unit.version < 5) return readDebugRanges(unit, value, out);
  const section = unit.dwarf.section('.debug_rnglists');
  const offset =
    form === DW_FORM.rnglistx ? listOffsetByIndex(unit.dwarf, '.debug_rnglists', unit.rnglistsBase, value, unit.offsetSize) : value;
  readRnglist(unit, section, offset, out);
}

/** Entry `index` of the offsets table at `base` of a DWARF 5 list section, as a section offset. */
export function listOffsetByIndex(dwarf: Dwarf, name: string, base: number, index: number, offsetSize: number): number {
  const at = base + index * offsetSize;
  if (!(at >= 0 && at + offsetSize <= dwarf.sectionSize(name))) throw new DwarfError(name, at, `list index ${index} out of range`);
  return base + new ByteReader(dwarf.read(name, at, offsetSize), name, 0, at).offset(offsetSize);
}

function readRnglist(unit: Unit, section: Uint8Array, offset: number, out: KeySink): void {
  const c = cursor;
  c.b = section;
  c.p = offset;
  const keys = unit.dwarf.keys;
  const size = unit.addressSize;
  const base = unit.baseHalves;
  let baseLo = base[0];
  let baseHi = base[1];
  for (let n = 0; n < MAX_ENTRIES; n++) {
    const at = c.p;
    const kind = c.u8();
    switch (kind) {
      case DW_RLE.end_of_list:
        return;
      case DW_RLE.base_addressx: {
        const h = unit.indexedAddressHalves(c.uleb());
        baseLo = h[0];
        baseHi = h[1];
        break;
      }
      case DW_RLE.startx_endx:
        push(out, unit.indexedAddressKey(c.uleb()), unit.indexedAddressKey(c.uleb()));
        break;
      case DW_RLE.startx_length: {
        const s = unit.indexedAddressKey(c.uleb());
        push(out, s, s + c.uleb());
        break;
      }
      case DW_RLE.offset_pair: {
        c.uleb();
        const s = keys.sum(baseLo, baseHi, c.lo, c.hi);
        c.uleb();
        push(out, s, keys.sum(baseLo, baseHi, c.lo, c.hi));
        break;
      }
      case DW_RLE.base_address:
        c.addr(size);
        baseLo = c.lo;
        baseHi = c.hi;
        break;
      case DW_RLE.start_end: {
        const s = keys.fromHalves(c.addr(size), c.hi);
        push(out, s, keys.fromHalves(c.addr(size), c.hi));
        break;
      }
      case DW_RLE.start_length: {
        const s = keys.fromHalves(c.addr(size), c.hi);
        push(out, s, s + c.uleb());
        break;
      }
      default:
        throw new DwarfError('.debug_rnglists', at, `unknown range list entry kind ${kind}`);
    }
    if (!(c.p <= section.length)) throw new DwarfError('.debug_rnglists', at, 'range list runs past the end of the section');
  }
  throw new DwarfError('.debug_rnglists', offset, 'range list does not end');
}

/** Reads list entries; the last address or ULEB128 read is also left in `lo` and `hi` (32-bit halves). */
class ListCursor {
  b: Uint8Array = new Uint8Array(0);
  p = 0;
  lo = 0;
  hi = 0;

  u8(): number {
    if (!(this.p < this.b.length)) throw new DwarfError('.debug_rnglists', this.p, 'range list runs past the end of the section');
    return this.b[this.p++]!;
  }

  /** The low half of an address of `size` bytes (the high half in `hi`). */
  addr(size: number): number {
    const { b, p } = this;
    this.lo = size >= 4 ? u32(b, p) : size === 2 ? b[p]! | (b[p + 1]! << 8) : b[p]!;
    this.hi = size === 8 ? u32(b, p + 4) : 0;
    this.p += size;
    return this.lo;
  }

  /** A ULEB128 of up to 64 bits: as a number (inexact past 2^53) and exactly in lo/hi. */
  uleb(): number {
    const b = this.b;
    let byte = b[this.p++]!;
    let lo = byte & 0x7f;
    let hi = 0;
    for (let shift = 7; byte >= 0x80; shift += 7) {
      byte = b[this.p++]!;
      const v = byte & 0x7f;
      if (shift < 28) lo |= v << shift;
      else if (shift === 28) {
        lo = (lo | (v << 28)) >>> 0;
        hi = v >>> 4;
      } else if (shift < 64) hi = (hi + v * 2 ** (shift - 32)) % TWO32;
    }
    this.lo = lo >>> 0;
    this.hi = hi;
    return hi * TWO32 + this.lo;
  }
}

function readDebugRanges(unit: Unit, offset: number, out: KeySink): void {
  const section = unit.dwarf.section('.debug_ranges');
  const keys = unit.dwarf.keys;
  const size = unit.addressSize;
  const max = size === 8 ? 0xffffffff : 2 ** (size * 8) - 1;
  const lo = (p: number) => (size >= 4 ? u32(section, p) : size === 2 ? section[p]! | (section[p + 1]! << 8) : section[p]!);
  const hi = (p: number) => (size === 8 ? u32(section, p + 4) : 0);
  const base = unit.baseHalves;
  let baseLo = base[0];
  let baseHi = base[1];
  for (let n = 0, at = offset; n < MAX_ENTRIES; n++, at += 2 * size) {
    if (!(at >= 0 && at + 2 * size <= section.length))
      throw new DwarfError('.debug_ranges', at, 'range list runs past the end of the section');
    const s0 = lo(at),
      s1 = hi(at),
      e0 = lo(at + size),
      e1 = hi(at + size);
    if (s0 === 0 && s1 === 0 && e0 === 0 && e1 === 0) return;
    // A base address selection entry: the largest address, then the new base.
    if (s0 === max && (size !== 8 || s1 === max)) {
      baseLo = e0;
      baseHi = e1;
    } else push(out, keys.sum(baseLo, baseHi, s0, s1), keys.sum(baseLo, baseHi, e0, e1));
  }
  throw new DwarfError('.debug_ranges', offset, 'range list does not end');
}

function push(out: KeySink, start: number, end: number): void {
  if (end > start) {
    out.push(start);
    out.push(end);
  }
}

/** One cursor serves every list (reading one is synchronous and never nests). */
const cursor = new ListCursor();
