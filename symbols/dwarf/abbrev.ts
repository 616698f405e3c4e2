// .debug_abbrev: one table per unit, parsed once per table offset into flat typed arrays (a
// kernel's 1,400 tables of a few hundred abbreviations stay a few MB), and compiled, per unit
// format, into the value sizes raw scans skip by.
import { Column, uint32, uint8 } from '../column.js';
import { ByteReader } from '../reader.js';
import { DW_AT, DW_FORM } from './constants.js';
import { DwarfError } from './errors.js';
import type { UnitHeader } from './unit.js';

/** An abbreviation table compiled for one unit format (address size, offset size, version). */
export interface ScanPlan {
  /** Per attribute spec: the value's size in bytes, -1 when it varies (LEB128, strings, blocks). */
  sizes: Int32Array;
  /** Per abbreviation: the total size of its values when none varies, else -1. */
  fixedSize: Int32Array;
  /** Per abbreviation: where DW_AT_sibling's value starts, from the first value, when it and every value before it have fixed sizes; else -1. */
  siblingAt: Int32Array;
  siblingForm: Uint32Array;
  /**
   * Per abbreviation, how a raw scan skips a DIE of it: SKIP_FIXED or more, its size (no children,
   * fixed-size values); SKIP_BY_SIBLING4, to its DW_AT_ref4 sibling; SKIP_SLOW, value by value.
   */
  skip: Int32Array;
}

export const SKIP_FIXED = 0;
const SKIP_SLOW = -1;
export const SKIP_BY_SIBLING4 = -2;

export class AbbrevTable {
  private readonly plans = new Map<number, ScanPlan>();

  constructor(
    /** Per abbreviation (by index): its tag, whether it has children, and its specs [first, first + count). */
    readonly tag: Uint32Array,
    readonly hasChildren: Uint8Array,
    readonly first: Uint32Array,
    readonly count: Uint32Array,
    /** Per attribute spec: its name and form. */
    readonly names: Uint32Array,
    readonly forms: Uint32Array,
    /** DW_FORM_implicit_const values by spec index (stored in the abbreviation). */
    private readonly implicits: Map<number, number | bigint>,
    /** Abbreviation index by code: dense when the codes are, else a map. */
    private readonly byCode: Int32Array | Map<number, number>,
  ) {}

  /** The index of the abbreviation with `code`, or -1. */
  index(code: number): number {
    const c = this.byCode;
    return c instanceof Int32Array ? (code < c.length ? c[code]! : -1) : (c.get(code) ?? -1);
  }

  implicit(spec: number): number | bigint {
    return this.implicits.get(spec) ?? 0;
  }

  plan(unit: UnitHeader): ScanPlan {
    const key = unit.addressSize * 100 + unit.offsetSize * 10 + unit.version;
    let p = this.plans.get(key);
    if (!p) {
      p = this.compile(unit);
      this.plans.set(key, p);
    }
    return p;
  }

  private compile(unit: UnitHeader): ScanPlan {
    const sizes = new Int32Array(this.forms.length);
    const small = smallFormSizes(unit);
    for (let s = 0; s < sizes.length; s++) {
      const form = this.forms[s]!;
      sizes[s] = form < small.length ? small[form]! : formSize(form, unit);
    }
    const n = this.tag.length;
    const fixedSize = new Int32Array(n);
    const siblingAt = new Int32Array(n).fill(-1);
    const siblingForm = new Uint32Array(n);
    const skip = new Int32Array(n);
    for (let a = 0; a < n; a++) {
      let at = 0;
      for (let s = this.first[a]!, end = s + this.count[a]!; s < end; s++) {
        const form = this.forms[s]!;
        if (
          this.names[s] === DW_AT.sibling &&
          at >= 0 &&
          (form === DW_FORM.ref1 || form === DW_FORM.ref2 || form === DW_FORM.ref4 || form === DW_FORM.ref8)
        ) {
          siblingAt[a] = at;
          siblingForm[a] = form;
        }
        at = at >= 0 && sizes[s]! >= 0 ? at + sizes[s]! : -1;
      }
      fixedSize[a] = at;
      skip[a] =
        !this.hasChildren[a] && at >= 0
          ? at
          : this.hasChildren[a] && siblingAt[a]! >= 0 && siblingForm[a] === DW_FORM.ref4
            ? SKIP_BY_SIBLING4
            : SKIP_SLOW;
    }
    return { sizes, fixedSize, siblingAt, siblingForm, skip };
  }
}

export function parseAbbrevTable(bytes: Uint8Array, offset: number): AbbrevTable {
  const S = '.debug_abbrev';
  if (offset >= bytes.length) throw new DwarfError(S, offset, 'abbreviation table offset past the end of the section');
  const r = new ByteReader(bytes, S, offset);
  // ULEB128s here are nearly always one byte: read those inline, the rest through r.
  const leb = (): number => {
    const v = bytes[r.pos]!;
    if (v < 0x80) {
      r.pos++;
      return v;
    }
    return r.uleb128();
  };
  const { codes, tags, children, first, count, names, forms } = scratch;
  for (const col of Object.values(scratch)) col.length = 0;
  const implicits = new Map<number, number | bigint>();
  for (;;) {
    if (r.pos >= bytes.length) throw new DwarfError(S, r.pos, 'abbreviation table runs past the end of the section');
    const code = leb();
    if (code === 0) break;
    const at = r.pos;
    codes.push(code);
    tags.push(leb());
    const hasChildren = r.u8();
    if (hasChildren > 1) throw new DwarfError(S, at, `abbreviation ${code}: bad children flag ${hasChildren}`);
    children.push(hasChildren);
    first.push(names.length);
    for (;;) {
      if (r.pos + 2 > bytes.length) throw new DwarfError(S, r.pos, 'abbreviation table runs past the end of the section');
      const name = leb();
      const form = leb();
      if (name === 0 && form === 0) break;
      if (name === 0 || form === 0)
        throw new DwarfError(S, r.pos, `abbreviation ${code}: attribute 0x${name.toString(16)} with form 0x${form.toString(16)}`);
      if (form === DW_FORM.implicit_const) implicits.set(names.length, implicitConst(r));
      names.push(name);
      forms.push(form);
    }
    count.push(names.length - first.values[first.length - 1]!);
  }
  const code = codes.values;
  let maxCode = 0;
  for (let i = 0; i < codes.length; i++) if (code[i]! > maxCode) maxCode = code[i]!;
  let byCode: Int32Array | Map<number, number>;
  if (maxCode <= 4 * codes.length + 64) {
    const dense = new Int32Array(maxCode + 1).fill(-1);
    for (let i = 0; i < codes.length; i++) {
      if (dense[code[i]!] !== -1) throw new DwarfError(S, offset, `duplicate abbreviation code ${code[i]}`);
      dense[code[i]!] = i;
    }
    byCode = dense;
  } else {
    byCode = new Map();
    for (let i = 0; i < codes.length; i++) {
      if (byCode.has(code[i]!)) throw new DwarfError(S, offset, `duplicate abbreviation code ${code[i]}`);
      byCode.set(code[i]!, i);
    }
  }
  return new AbbrevTable(tags.take(), children.take(), first.take(), count.take(), names.take(), forms.take(), implicits, byCode);
}

/** The parse's columns, reset per table (parsing is synchronous). */
const scratch = {
  codes: new Column(uint32),
  tags: new Column(uint32),
  children: new Column(uint8),
  first: new Column(uint32),
  count: new Column(uint32),
  names: new Column(uint32),
  forms: new Column(uint32),
};

/** Kernels store 64-bit enumerator values as implicit constants: keep a number only when exact. */
function implicitConst(r: ByteReader): number | bigint {
  // Up to 7 bytes hold 49 bits: a number; longer ones go through bigint.
  let len = 1;
  while (len <= 7 && (r.bytes[r.pos + len - 1] ?? 0) >= 0x80) len++;
  if (len <= 7) return r.sleb128();
  const v = r.sleb128Big();
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** formSize of the DWARF 5 forms (codes below 0x2d) in a unit format, by code. */
function smallFormSizes(u: UnitHeader): Int8Array {
  const key = u.addressSize * 100 + u.offsetSize * 10 + u.version;
  let t = smallSizes.get(key);
  if (!t) {
    t = new Int8Array(0x2d);
    for (let form = 0; form < t.length; form++) t[form] = formSize(form, u);
    smallSizes.set(key, t);
  }
  return t;
}

const smallSizes = new Map<number, Int8Array>();

/** Size of a value of `form` in this unit, or -1 when it is not fixed. */
export function formSize(form: number, u: UnitHeader): number {
  switch (form) {
    case DW_FORM.addr:
      return u.addressSize;
    case DW_FORM.data1:
    case DW_FORM.ref1:
    case DW_FORM.flag:
    case DW_FORM.strx1:
    case DW_FORM.addrx1:
      return 1;
    case DW_FORM.data2:
    case DW_FORM.ref2:
    case DW_FORM.strx2:
    case DW_FORM.addrx2:
      return 2;
    case DW_FORM.strx3:
    case DW_FORM.addrx3:
      return 3;
    case DW_FORM.data4:
    case DW_FORM.ref4:
    case DW_FORM.strx4:
    case DW_FORM.addrx4:
    case DW_FORM.ref_sup4:
      return 4;
    case DW_FORM.data8:
    case DW_FORM.ref8:
    case DW_FORM.ref_sig8:
    case DW_FORM.ref_sup8:
      return 8;
    case DW_FORM.data16:
      return 16;
    case DW_FORM.strp:
    case DW_FORM.line_strp:
    case DW_FORM.sec_offset:
    case DW_FORM.strp_sup:
    case DW_FORM.GNU_ref_alt:
    case DW_FORM.GNU_strp_alt:
      return u.offsetSize;
    case DW_FORM.ref_addr:
      return u.version <= 2 ? u.addressSize : u.offsetSize;
    case DW_FORM.flag_present:
    case DW_FORM.implicit_const:
      return 0;
    default:
      return -1;
  }
}

/**
 * Does any abbreviation in .debug_abbrev (`bytes`, every table in turn) give one of `attrs` a
 * value of one of `forms`? Read straight through without building tables; true also when the
 * section does not read as tables end to end (the caller then assumes the worst).
 */
export function anyAbbrevUses(bytes: Uint8Array, attrs: readonly number[], forms: readonly number[]): boolean {
  const r = new LebCursor(bytes);
  const wanted = new Uint8Array(0x100);
  for (const a of attrs) wanted[a & 0xff] = 1;
  while (r.p < bytes.length) {
    if (r.leb() === 0) continue;
    r.leb();
    r.p++;
    for (;;) {
      const name = r.leb();
      const form = r.leb();
      if (!(r.p <= bytes.length)) return true;
      if (name === 0 && form === 0) break;
      if (wanted[name & 0xff] && attrs.includes(name) && (forms.includes(form) || form === DW_FORM.indirect)) return true;
      // Its value, which may be any size: skipped.
      if (form === DW_FORM.implicit_const) while (bytes[r.p++]! >= 0x80);
    }
  }
  return false;
}

/** ULEB128s of attribute names and forms, which fit 32 bits (past the end: NaN and p past it). */
class LebCursor {
  p = 0;

  constructor(private readonly b: Uint8Array) {}

  leb(): number {
    const b = this.b;
    let byte = b[this.p++]!;
    if (byte < 0x80) return byte;
    let v = byte & 0x7f;
    for (let shift = 7; shift < 35; shift += 7) {
      byte = b[this.p++]!;
      v += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return v;
    }
    return NaN;
  }
}
