// Address ranges: DW_AT_ranges into .debug_ranges (DWARF 2-4) or .debug_rnglists (DWARF 5).
import { ByteReader } from '../reader.js';
import { DW_FORM } from './constants.js';
import type { Attr } from './die.js';
import { DwarfError } from './errors.js';
import type { Unit } from './unit.js';

/** [start, end) */
export interface Range {
  start: bigint;
  end: bigint;
}

const DW_RLE = { end_of_list: 0, base_addressx: 1, startx_endx: 2, startx_length: 3, offset_pair: 4, base_address: 5, start_end: 6, start_length: 7 } as const;

/** Upper bound on entries in one list: corrupt input must not make us loop for long. */
const MAX_ENTRIES = 1 << 20;

export function readRanges(unit: Unit, attr: Attr): Range[] {
  if (unit.version >= 5) {
    const section = unit.dwarf.section('.debug_rnglists');
    const offset = attr.form === DW_FORM.rnglistx
      ? listOffsetByIndex(section, '.debug_rnglists', unit.rnglistsBase, attr.value as number, unit.offsetSize)
      : (attr.value as number);
    return readRnglist(unit, section, offset);
  }
  return readDebugRanges(unit, attr.value as number);
}

/** Entry `index` of the offsets table at `base` of a DWARF 5 list section, as a section offset. */
export function listOffsetByIndex(section: Uint8Array, name: string, base: number, index: number, offsetSize: number): number {
  const at = base + index * offsetSize;
  if (at + offsetSize > section.length) throw new DwarfError(name, at, `list index ${index} out of range`);
  return base + new ByteReader(section, name, at).offset(offsetSize);
}

function readRnglist(unit: Unit, section: Uint8Array, offset: number): Range[] {
  const r = new ByteReader(section, '.debug_rnglists', offset);
  const out: Range[] = [];
  let base = unit.baseAddress;
  const size = unit.addressSize;
  for (let n = 0; n < MAX_ENTRIES; n++) {
    const at = r.pos;
    const kind = r.u8();
    switch (kind) {
      case DW_RLE.end_of_list: return out;
      case DW_RLE.base_addressx: base = unit.indexedAddress(r.uleb128()); break;
      case DW_RLE.startx_endx: push(out, unit.indexedAddress(r.uleb128()), unit.indexedAddress(r.uleb128())); break;
      case DW_RLE.startx_length: {
        const s = unit.indexedAddress(r.uleb128());
        push(out, s, s + r.uleb128Big());
        break;
      }
      case DW_RLE.offset_pair: {
        const s = r.uleb128Big();
        push(out, base + s, base + r.uleb128Big());
        break;
      }
      case DW_RLE.base_address: base = r.addr(size); break;
      case DW_RLE.start_end: push(out, r.addr(size), r.addr(size)); break;
      case DW_RLE.start_length: {
        const s = r.addr(size);
        push(out, s, s + r.uleb128Big());
        break;
      }
      default: throw new DwarfError('.debug_rnglists', at, `unknown range list entry kind ${kind}`);
    }
  }
  throw new DwarfError('.debug_rnglists', offset, 'range list does not end');
}

function readDebugRanges(unit: Unit, offset: number): Range[] {
  const r = new ByteReader(unit.dwarf.section('.debug_ranges'), '.debug_ranges', offset);
  const size = unit.addressSize;
  const max = size === 8 ? 0xffffffffffffffffn : (1n << BigInt(size * 8)) - 1n;
  const out: Range[] = [];
  let base = unit.baseAddress;
  for (let n = 0; n < MAX_ENTRIES; n++) {
    const s = r.addr(size);
    const e = r.addr(size);
    if (s === 0n && e === 0n) return out;
    if (s === max) base = e;
    else push(out, base + s, base + e);
  }
  throw new DwarfError('.debug_ranges', offset, 'range list does not end');
}

function push(out: Range[], start: bigint, end: bigint): void {
  if (end > start) out.push({ start, end });
}
