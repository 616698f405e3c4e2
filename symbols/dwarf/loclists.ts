// Location lists: .debug_loc (DWARF 2-4) and .debug_loclists (DWARF 5, with GNU location views).
import { ByteReader } from '../reader.js';
import { DW_FORM } from './constants.js';
import type { Attr } from './die.js';
import { DwarfError } from './errors.js';
import { listOffsetByIndex } from './ranges.js';
import type { Unit } from './unit.js';

interface LocationEntry {
  /** [start, end); undefined for DW_LLE_default_location. */
  start?: bigint;
  end?: bigint;
  expr: Uint8Array;
}

const enum DW_LLE {
  end_of_list = 0,
  base_addressx = 1,
  startx_endx = 2,
  startx_length = 3,
  offset_pair = 4,
  default_location = 5,
  base_address = 6,
  start_end = 7,
  start_length = 8,
  GNU_view_pair = 9,
}
const MAX_ENTRIES = 1 << 20;

/** Is `attr` (DW_AT_location, DW_AT_frame_base, ...) a location list rather than one expression? */
export function isLocationList(attr: Attr | undefined): boolean {
  if (!attr) return false;
  return (
    attr.form === DW_FORM.sec_offset ||
    attr.form === DW_FORM.loclistx ||
    ((attr.form === DW_FORM.data4 || attr.form === DW_FORM.data8) && typeof attr.value === 'number')
  );
}

/** The entries of a location list, read from the bytes of that list alone (a kernel's .debug_loclists is 23 MB). */
export function readLocationList(unit: Unit, attr: Attr): LocationEntry[] {
  const dwarf = unit.dwarf;
  if (unit.version >= 5) {
    const offset =
      attr.form === DW_FORM.loclistx
        ? listOffsetByIndex(dwarf, '.debug_loclists', unit.loclistsBase, attr.value as number, unit.offsetSize)
        : (attr.value as number);
    return dwarf.readSized('.debug_loclists', offset, (bytes, pos, origin) =>
      readLoclists(unit, new ByteReader(bytes, '.debug_loclists', pos, origin)),
    );
  }
  return dwarf.readSized('.debug_loc', attr.value as number, (bytes, pos, origin) =>
    readDebugLoc(unit, new ByteReader(bytes, '.debug_loc', pos, origin)),
  );
}

function readLoclists(unit: Unit, r: ByteReader): LocationEntry[] {
  const S = '.debug_loclists';
  const offset = r.origin + r.pos;
  const size = unit.addressSize;
  let base = unit.baseAddress;
  const out: LocationEntry[] = [];
  const expr = () => r.bytesN(r.uleb128());
  for (let n = 0; n < MAX_ENTRIES; n++) {
    const at = r.origin + r.pos;
    const kind = r.u8();
    switch (kind) {
      case DW_LLE.end_of_list:
        return out;
      case DW_LLE.base_addressx:
        base = unit.indexedAddress(r.uleb128());
        break;
      case DW_LLE.startx_endx: {
        const start = unit.indexedAddress(r.uleb128());
        out.push({ start, end: unit.indexedAddress(r.uleb128()), expr: expr() });
        break;
      }
      case DW_LLE.startx_length: {
        const start = unit.indexedAddress(r.uleb128());
        out.push({ start, end: start + r.uleb128Big(), expr: expr() });
        break;
      }
      case DW_LLE.offset_pair: {
        const start = base + r.uleb128Big();
        out.push({ start, end: base + r.uleb128Big(), expr: expr() });
        break;
      }
      case DW_LLE.default_location:
        out.push({ expr: expr() });
        break;
      case DW_LLE.base_address:
        base = r.addr(size);
        break;
      case DW_LLE.start_end: {
        const start = r.addr(size);
        out.push({ start, end: r.addr(size), expr: expr() });
        break;
      }
      case DW_LLE.start_length: {
        const start = r.addr(size);
        out.push({ start, end: start + r.uleb128Big(), expr: expr() });
        break;
      }
      // GCC's location views qualify the next entry; addresses alone decide for us.
      case DW_LLE.GNU_view_pair:
        r.uleb128();
        r.uleb128();
        break;
      default:
        throw new DwarfError(S, at, `unknown location list entry kind ${kind}`);
    }
  }
  throw new DwarfError(S, offset, 'location list does not end');
}

function readDebugLoc(unit: Unit, r: ByteReader): LocationEntry[] {
  const offset = r.origin + r.pos;
  const size = unit.addressSize;
  const max = size === 8 ? 0xffffffffffffffffn : (1n << BigInt(size * 8)) - 1n;
  let base = unit.baseAddress;
  const out: LocationEntry[] = [];
  for (let n = 0; n < MAX_ENTRIES; n++) {
    const s = r.addr(size);
    const e = r.addr(size);
    if (s === 0n && e === 0n) return out;
    if (s === max) {
      base = e;
      continue;
    }
    out.push({ start: base + s, end: base + e, expr: r.bytesN(r.u16()) });
  }
  throw new DwarfError('.debug_loc', offset, 'location list does not end');
}

/** The entry in force at pc: the one whose range holds it, else the default location. */
export function locationAt(entries: LocationEntry[], pc: bigint): LocationEntry | undefined {
  for (const e of entries) if (e.start !== undefined && e.end !== undefined && pc >= e.start && pc < e.end) return e;
  return entries.find((e) => e.start === undefined);
}
