// Debugging information entries: decoding a unit's DIE tree and reading attribute values.
import { ByteReader } from '../reader.js';
import type { AbbrevTable } from './abbrev.js';
import { DW_AT, DW_FORM } from './constants.js';
import { DwarfError } from './errors.js';
import type { Unit } from './unit.js';

/**
 * A decoded attribute. `value` by form class: addresses bigint (DW_FORM_addr) or an index number
 * (addrx); constants number (data8 bigint, data16 bytes); references the absolute .debug_info
 * offset; strings an offset/index number (resolved on read) or the inline string; blocks bytes.
 */
export interface Attr {
  name: number;
  form: number;
  value: number | bigint | Uint8Array | string;
}

export class Die {
  parent: Die | undefined;
  readonly children: Die[] = [];

  constructor(
    readonly unit: Unit,
    /** Offset in .debug_info (the unit's section). */
    readonly offset: number,
    readonly tag: number,
    readonly attrs: Attr[],
    readonly hasChildren: boolean,
  ) {}

  attr(name: number): Attr | undefined {
    for (const a of this.attrs) if (a.name === name) return a;
    return undefined;
  }

  has(name: number): boolean {
    return this.attr(name) !== undefined;
  }

  get name(): string | undefined {
    return this.string(DW_AT.name);
  }

  string(name: number): string | undefined {
    const a = this.attr(name);
    return a && this.unit.attrString(a);
  }

  /** An unsigned constant (byte_size, decl_line, ...); undefined if absent or not a constant. */
  udata(name: number): number | undefined {
    const a = this.attr(name);
    if (!a) return undefined;
    if (typeof a.value === 'number' && isConstantForm(a.form)) return a.value;
    if (typeof a.value === 'bigint' && a.form === DW_FORM.data8 && a.value <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(a.value);
    return undefined;
  }

  flag(name: number): boolean {
    const a = this.attr(name);
    return a !== undefined && a.value !== 0;
  }

  /** The DIE a reference attribute points to (same unit, another unit, or a type unit by signature). */
  ref(name: number): Die | undefined {
    const a = this.attr(name);
    return a && this.unit.resolveRef(a);
  }

  /** An address attribute (DW_FORM_addr or an index into .debug_addr). */
  address(name: number): bigint | undefined {
    const a = this.attr(name);
    return a && this.unit.attrAddress(a);
  }

  /** The name a function or inlined call is printed with (see Dwarf.functionName). */
  get functionName(): string | undefined {
    return this.unit.dwarf.functionName(this.offset);
  }

  /** The name, following DW_AT_abstract_origin / DW_AT_specification as C compilers split it (variables, parameters). */
  get resolvedName(): string | undefined {
    return this.followOrigin((d) => d.name);
  }

  /** `get` on this DIE, else on the DIE it is a concrete instance or definition of (depth-limited). */
  followOrigin<T>(get: (d: Die) => T | undefined): T | undefined {
    let d: Die | undefined = this;
    for (let depth = 0; d && depth < 8; depth++) {
      const v = get(d);
      if (v !== undefined) return v;
      d = d.ref(DW_AT.abstract_origin) ?? d.ref(DW_AT.specification);
    }
    return undefined;
  }
}

function isConstantForm(form: number): boolean {
  return (
    form === DW_FORM.data1 ||
    form === DW_FORM.data2 ||
    form === DW_FORM.data4 ||
    form === DW_FORM.udata ||
    form === DW_FORM.sdata ||
    form === DW_FORM.implicit_const ||
    form === DW_FORM.data8
  );
}

/** Decodes `unit`'s DIE tree from its bytes (`bytes[0]` is the unit header) and returns the DIEs in offset order. */
export function parseDies(unit: Unit, bytes: Uint8Array, abbrevs: AbbrevTable): Die[] {
  const r = new ByteReader(bytes, unit.section, unit.firstDie - unit.offset, unit.offset);
  const out: Die[] = [];
  const stack: Die[] = [];
  while (!r.atEnd) {
    const die = readDie(r, unit, abbrevs);
    if (!die) {
      stack.pop();
      continue;
    }
    const parent = stack[stack.length - 1];
    if (parent) {
      die.parent = parent;
      parent.children.push(die);
    } else if (out.length > 0) {
      // Only the unit DIE may sit at depth 0; anything else means the tree is broken.
      throw new DwarfError(unit.section, die.offset, `DIE outside the unit DIE in unit at 0x${unit.offset.toString(16)}`);
    }
    out.push(die);
    if (die.hasChildren) stack.push(die);
  }
  return out;
}

/** The DIE at the reader's position with its attributes (its children are not read), or null for a null entry. */
export function readDie(r: ByteReader, unit: Unit, abbrevs: AbbrevTable): Die | null {
  const offset = r.origin + r.pos;
  const code = r.uleb128();
  if (code === 0) return null;
  const a = abbrevs.index(code);
  if (a < 0) throw new DwarfError(unit.section, offset, `unknown abbreviation code ${code} in unit at 0x${unit.offset.toString(16)}`);
  const first = abbrevs.first[a]!;
  const attrs: Attr[] = new Array(abbrevs.count[a]!);
  for (let i = 0; i < attrs.length; i++) {
    const form = abbrevs.forms[first + i]!;
    attrs[i] = { name: abbrevs.names[first + i]!, form, value: 0 };
    readValue(r, form, form === DW_FORM.implicit_const ? abbrevs.implicit(first + i) : 0, unit, attrs[i]!);
  }
  return new Die(unit, offset, abbrevs.tag[a]!, attrs, abbrevs.hasChildren[a] === 1);
}

function readValue(r: ByteReader, form: number, implicit: number | bigint, unit: Unit, into: Attr): void {
  const at = r.origin + r.pos;
  for (let hops = 0; form === DW_FORM.indirect; hops++) {
    if (hops > 4) throw new DwarfError(unit.section, at, 'DW_FORM_indirect chain');
    form = r.uleb128();
    into.form = form;
  }
  switch (form) {
    case DW_FORM.addr:
      into.value = r.addr(unit.addressSize);
      return;
    case DW_FORM.data1:
    case DW_FORM.ref1:
    case DW_FORM.flag:
    case DW_FORM.strx1:
    case DW_FORM.addrx1:
      into.value = r.u8();
      break;
    case DW_FORM.data2:
    case DW_FORM.ref2:
    case DW_FORM.strx2:
    case DW_FORM.addrx2:
      into.value = r.u16();
      break;
    case DW_FORM.strx3:
    case DW_FORM.addrx3:
      into.value = r.u24();
      break;
    case DW_FORM.data4:
    case DW_FORM.ref4:
    case DW_FORM.strx4:
    case DW_FORM.addrx4:
    case DW_FORM.ref_sup4:
      into.value = r.u32();
      break;
    case DW_FORM.data8:
      into.value = r.u64();
      return;
    case DW_FORM.ref8:
    case DW_FORM.ref_sup8:
      into.value = r.u64n();
      break;
    case DW_FORM.ref_sig8:
      into.value = r.u64();
      return;
    case DW_FORM.data16:
      into.value = r.bytesN(16);
      return;
    case DW_FORM.sdata:
      into.value = wide(r, true);
      return;
    case DW_FORM.udata:
      into.value = wide(r, false);
      return;
    case DW_FORM.ref_udata:
    case DW_FORM.strx:
    case DW_FORM.addrx:
    case DW_FORM.loclistx:
    case DW_FORM.rnglistx:
    case DW_FORM.GNU_addr_index:
    case DW_FORM.GNU_str_index:
      into.value = r.uleb128();
      break;
    case DW_FORM.string:
      into.value = r.cstr();
      return;
    case DW_FORM.strp:
    case DW_FORM.line_strp:
    case DW_FORM.sec_offset:
    case DW_FORM.strp_sup:
    case DW_FORM.GNU_ref_alt:
    case DW_FORM.GNU_strp_alt:
      into.value = r.offset(unit.offsetSize);
      return;
    case DW_FORM.ref_addr:
      into.value = r.offset(unit.version <= 2 ? unit.addressSize : unit.offsetSize);
      return;
    case DW_FORM.exprloc:
    case DW_FORM.block:
      into.value = r.bytesN(r.uleb128());
      return;
    case DW_FORM.block1:
      into.value = r.bytesN(r.u8());
      return;
    case DW_FORM.block2:
      into.value = r.bytesN(r.u16());
      return;
    case DW_FORM.block4:
      into.value = r.bytesN(r.u32());
      return;
    case DW_FORM.flag_present:
      into.value = 1;
      return;
    case DW_FORM.implicit_const:
      into.value = implicit;
      return;
    default:
      throw new DwarfError(unit.section, at, `unknown attribute form 0x${form.toString(16)}`);
  }
  // Unit-relative references become .debug_info offsets.
  if (form === DW_FORM.ref1 || form === DW_FORM.ref2 || form === DW_FORM.ref4 || form === DW_FORM.ref8 || form === DW_FORM.ref_udata) {
    into.value = (into.value as number) + unit.offset;
  }
}

/** A LEB128 constant: a number when it fits (the common case, kept off the bigint path), else a bigint. */
function wide(r: ByteReader, signed: boolean): number | bigint {
  const start = r.pos;
  let len = 0;
  while (r.u8() & 0x80) len++;
  r.pos = start;
  if (len < 7) return signed ? r.sleb128() : r.uleb128();
  const v = signed ? r.sleb128Big() : r.uleb128Big();
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}
