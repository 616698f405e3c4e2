// .debug_abbrev: one table per unit, parsed once per table offset.
import { ByteReader } from '../reader.js';
import { DW_FORM } from './constants.js';
import { DwarfError } from './errors.js';

export interface AttrSpec {
  name: number;
  form: number;
  /** DW_FORM_implicit_const's value, stored in the abbreviation. */
  implicit: number | bigint;
}

export interface Abbrev {
  code: number;
  tag: number;
  hasChildren: boolean;
  specs: AttrSpec[];
}

export function parseAbbrevTable(bytes: Uint8Array, offset: number): Map<number, Abbrev> {
  if (offset >= bytes.length) throw new DwarfError('.debug_abbrev', offset, 'abbreviation table offset past the end of the section');
  const r = new ByteReader(bytes, '.debug_abbrev', offset);
  const table = new Map<number, Abbrev>();
  for (;;) {
    const code = r.uleb128();
    if (code === 0) break;
    const at = r.pos;
    const tag = r.uleb128();
    const children = r.u8();
    if (children > 1) throw new DwarfError('.debug_abbrev', at, `abbreviation ${code}: bad children flag ${children}`);
    const specs: AttrSpec[] = [];
    for (;;) {
      const name = r.uleb128();
      const form = r.uleb128();
      if (name === 0 && form === 0) break;
      if (name === 0 || form === 0) throw new DwarfError('.debug_abbrev', r.pos, `abbreviation ${code}: attribute 0x${name.toString(16)} with form 0x${form.toString(16)}`);
      specs.push({ name, form, implicit: form === DW_FORM.implicit_const ? implicitConst(r.sleb128Big()) : 0 });
    }
    if (table.has(code)) throw new DwarfError('.debug_abbrev', at, `duplicate abbreviation code ${code}`);
    table.set(code, { code, tag, hasChildren: children === 1, specs });
  }
  return table;
}

/** Kernels store 64-bit enumerator values as implicit constants: keep a number only when exact. */
function implicitConst(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}
