// .debug_aranges: address ranges per unit, without decoding the units.
import { ByteReader, FormatError } from '../reader.js';
import { u32, type AddressKeys } from './address-keys.js';
import { DwarfError } from './errors.js';

/**
 * [start, end) address key pairs by .debug_info offset of the unit. With `damaged`, a set that does not parse is reported and left out (its unit's ranges then come
 * from the unit itself); the sets after it still count when its length says where they start.
 */
export function parseAranges(
  bytes: Uint8Array,
  keys: AddressKeys,
  damaged?: (offset: number, message: string) => void,
): Map<number, number[]> {
  const S = '.debug_aranges';
  const out = new Map<number, number[]>();
  const top = new ByteReader(bytes, S);
  while (top.remaining > 0) {
    const setAt = top.pos;
    const { length, offsetSize } = top.initialLength();
    if (damaged && length > top.remaining) {
      damaged(setAt, `address ranges from here on skipped: set length 0x${length.toString(16)} runs past the end of the section`);
      break;
    }
    const r = top.sub(length);
    if (damaged) {
      try {
        readSet(r, setAt, offsetSize, keys, out);
      } catch (e) {
        if (!(e instanceof FormatError)) throw e;
        damaged(setAt, `address range set skipped: ${e.message}`);
      }
      continue;
    }
    readSet(r, setAt, offsetSize, keys, out);
  }
  return out;
}

/** One set's tuples into `out` (by unit offset). */
function readSet(r: ByteReader, setAt: number, offsetSize: number, keys: AddressKeys, out: Map<number, number[]>): void {
  const S = '.debug_aranges';
  const version = r.u16();
  if (version !== 2 && version !== 3) throw new DwarfError(S, setAt, `unsupported version ${version}`);
  const unit = r.offset(offsetSize);
  const addressSize = r.u8();
  if (addressSize !== 2 && addressSize !== 4 && addressSize !== 8) throw new DwarfError(S, setAt, `bad address size ${addressSize}`);
  if (r.u8() !== 0) throw new DwarfError(S, setAt, 'segmented addresses are not supported');
  // Tuples start at a multiple of twice the address size from the start of the set.
  const lengthField = offsetSize === 8 ? 12 : 4;
  const tupleSize = 2 * addressSize;
  r.seek(Math.min(r.length, Math.ceil((lengthField + r.pos) / tupleSize) * tupleSize - lengthField));
  const list = out.get(unit) ?? [];
  const b = r.bytes;
  for (; r.remaining >= tupleSize; r.pos += tupleSize) {
    const p = r.pos;
    const len =
      addressSize === 8 ? u32(b, p + 8) + u32(b, p + 12) * 4294967296 : addressSize === 4 ? u32(b, p + 4) : b[p + 2]! | (b[p + 3]! << 8);
    if (len === 0 && isZero(b, p, addressSize)) break;
    const start = keys.read(b, p, addressSize);
    if (len > 0) list.push(start, start + len);
  }
  out.set(unit, list);
}

function isZero(b: Uint8Array, p: number, size: number): boolean {
  for (let i = 0; i < size; i++) if (b[p + i] !== 0) return false;
  return true;
}
