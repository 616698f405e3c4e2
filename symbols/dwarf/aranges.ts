// .debug_aranges: address ranges per unit, without decoding the units.
import { ByteReader } from '../reader.js';
import { DwarfError } from './errors.js';
import type { Range } from './ranges.js';

export function parseAranges(bytes: Uint8Array): Map<number, Range[]> {
  const S = '.debug_aranges';
  const out = new Map<number, Range[]>();
  const top = new ByteReader(bytes, S);
  while (top.remaining > 0) {
    const setAt = top.pos;
    const { length, offsetSize } = top.initialLength();
    const r = top.sub(length);
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
    while (r.remaining >= tupleSize) {
      const start = r.addr(addressSize);
      const len = r.addr(addressSize);
      if (start === 0n && len === 0n) break;
      if (len > 0n) list.push({ start, end: start + len });
    }
    out.set(unit, list);
  }
  return out;
}
