// A raw cursor over one unit's DIEs, for scans of whole units (gimli's EntriesRaw): reads
// abbreviation codes, skips attribute values by their form's size, jumps over subtrees with
// DW_AT_sibling, and decodes only the values asked for. No Die objects are made. Positions index
// `bytes`, which start `base` bytes into the unit (the whole unit from its header, or the children
// of one DIE); unit-relative references are those plus `base`.
import { formSize, SKIP_BY_SIBLING4, SKIP_FIXED, type AbbrevTable, type ScanPlan } from './abbrev.js';
import type { AddressKeys } from './address-keys.js';
import { u32 } from './address-keys.js';
import { DW_AT, DW_FORM } from './constants.js';
import { DwarfError } from './errors.js';
import type { Unit } from './unit.js';

export class EntryCursor {
  pos: number;
  /** Position of the entry `next()` returned last. */
  at = 0;
  /** The form of the value `value()` read last (differs from the abbreviation's for DW_FORM_indirect). */
  form = 0;
  readonly plan: ScanPlan;
  private readonly end: number;

  constructor(
    readonly unit: Unit,
    readonly bytes: Uint8Array,
    readonly table: AbbrevTable,
    readonly keys: AddressKeys,
    /** Where bytes[0] lies in the unit; without it, bytes are the whole unit and reading starts at the unit DIE. */
    readonly base = 0,
  ) {
    this.end = bytes.length;
    this.pos = base === 0 ? unit.firstDie - unit.offset : 0;
    this.plan = table.plan(unit);
  }

  /** Section offset of the entry `next()` returned last. */
  get dieOffset(): number {
    return this.unit.offset + this.base + this.at;
  }

  /** The next entry's abbreviation index; -1 for a null entry (the end of a list of siblings) and at the unit's end. */
  next(): number {
    if (this.pos >= this.end) return -1;
    this.at = this.pos;
    const code = this.uleb();
    if (code === 0) return -1;
    const a = this.table.index(code);
    if (a < 0) this.fail(this.at, `unknown abbreviation code ${code} in unit at 0x${this.unit.offset.toString(16)}`);
    return a;
  }

  /**
   * The next entry of the current list of siblings whose `action` is not 0, skipping (subtrees
   * and all) those whose is; -1 at the list's end. The loop a unit scan spends its time in.
   */
  nextWith(action: Uint8Array): number {
    const b = this.bytes;
    const end = this.end;
    const { skip, siblingAt } = this.plan;
    let p = this.pos;
    while (p < end) {
      const at = p;
      let code = b[p++]!;
      if (code >= 0x80) {
        this.pos = at;
        code = this.uleb();
        p = this.pos;
      }
      if (code === 0) break;
      const a = this.table.index(code);
      if (a < 0) this.fail(at, `unknown abbreviation code ${code} in unit at 0x${this.unit.offset.toString(16)}`);
      this.at = at;
      if (action[a] !== 0) {
        this.pos = p;
        return a;
      }
      const k = skip[a]!;
      if (k >= SKIP_FIXED) p += k;
      else if (k === SKIP_BY_SIBLING4) {
        const to = u32(b, p + siblingAt[a]!) - this.base;
        if (!(to > at && to <= end)) this.fail(at, `DW_AT_sibling 0x${(to + this.base).toString(16)} does not point ahead within the unit`);
        p = to;
      } else {
        this.pos = p;
        this.skipEntry(a);
        p = this.pos;
      }
    }
    this.pos = p;
    this.check();
    return -1;
  }

  /** Skips the attribute values of the entry just read (abbreviation `a`). */
  skipAttributes(a: number): void {
    const fixed = this.plan.fixedSize[a]!;
    if (fixed >= 0) this.pos += fixed;
    else {
      const { forms } = this.table;
      const { sizes } = this.plan;
      for (let s = this.table.first[a]!, end = s + this.table.count[a]!; s < end; s++) this.skipValue(forms[s]!, sizes[s]!);
    }
    this.check();
  }

  /** Skips the entry just read and, if it has children, its whole subtree (by DW_AT_sibling when it has one). */
  skipEntry(a: number): void {
    if (!this.table.hasChildren[a]) return this.skipAttributes(a);
    const at = this.plan.siblingAt[a]!;
    if (at >= 0) return this.jump(this.refAt(this.pos + at, this.plan.siblingForm[a]!));
    const { names, forms } = this.table;
    const { sizes } = this.plan;
    let sibling = -1;
    for (let s = this.table.first[a]!, end = s + this.table.count[a]!; s < end; s++) {
      if (names[s] !== DW_AT.sibling) this.skipValue(forms[s]!, sizes[s]!);
      else {
        const v = this.value(forms[s]!, 0);
        if (isUnitRef(this.form)) sibling = v;
      }
    }
    this.check();
    if (sibling >= 0) this.jump(sibling);
    else this.skipChildren();
  }

  /**
   * After the attributes of entry `a` (they began at `attrs`) were read: skips its children, by
   * its DW_AT_sibling when it has one.
   */
  skipChildrenAfter(a: number, attrs: number): void {
    if (!this.table.hasChildren[a]) return;
    const at = this.plan.siblingAt[a]!;
    if (at >= 0) this.jump(this.refAt(attrs + at, this.plan.siblingForm[a]!));
    else this.skipChildren();
  }

  /** Skips the children of the entry whose attributes were just read, through their null entry. */
  skipChildren(): void {
    for (let a = this.next(); a >= 0; a = this.next()) this.skipEntry(a);
  }

  /** Moves to a sibling reference's target (a unit-relative offset), which must lie ahead. */
  jump(target: number): void {
    const to = target - this.base;
    if (!(to > this.at && to <= this.end))
      this.fail(this.at, `DW_AT_sibling 0x${target.toString(16)} does not point ahead within the unit`);
    this.pos = to;
  }

  /**
   * Reads one attribute value as a number: constants, unit-relative references as stored, section
   * offsets, string and address indices; a DW_FORM_addr address as its key (see AddressKeys).
   * Strings and blocks are skipped and read as NaN. `form` then holds the form read.
   */
  value(form: number, implicit: number | bigint): number {
    const b = this.bytes;
    for (let hops = 0; form === DW_FORM.indirect; hops++) {
      if (hops > 4) this.fail(this.pos, 'DW_FORM_indirect chain');
      form = this.uleb();
    }
    this.form = form;
    const p = this.pos;
    switch (form) {
      case DW_FORM.addr: {
        const size = this.unit.addressSize;
        this.pos += size;
        return this.keys.read(b, p, size);
      }
      case DW_FORM.data1:
      case DW_FORM.ref1:
      case DW_FORM.flag:
      case DW_FORM.strx1:
      case DW_FORM.addrx1:
        this.pos++;
        return b[p]!;
      case DW_FORM.data2:
      case DW_FORM.ref2:
      case DW_FORM.strx2:
      case DW_FORM.addrx2:
        this.pos += 2;
        return b[p]! | (b[p + 1]! << 8);
      case DW_FORM.strx3:
      case DW_FORM.addrx3:
        this.pos += 3;
        return b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16);
      case DW_FORM.data4:
      case DW_FORM.ref4:
      case DW_FORM.strx4:
      case DW_FORM.addrx4:
      case DW_FORM.ref_sup4:
        this.pos += 4;
        return u32(b, p);
      case DW_FORM.data8:
      case DW_FORM.ref8:
      case DW_FORM.ref_sup8:
        this.pos += 8;
        return u32(b, p) + u32(b, p + 4) * 4294967296;
      case DW_FORM.sdata:
        return this.sleb();
      case DW_FORM.udata:
      case DW_FORM.ref_udata:
      case DW_FORM.strx:
      case DW_FORM.addrx:
      case DW_FORM.loclistx:
      case DW_FORM.rnglistx:
      case DW_FORM.GNU_addr_index:
      case DW_FORM.GNU_str_index:
        return this.uleb();
      case DW_FORM.strp:
      case DW_FORM.line_strp:
      case DW_FORM.sec_offset:
      case DW_FORM.strp_sup:
      case DW_FORM.GNU_ref_alt:
      case DW_FORM.GNU_strp_alt:
      case DW_FORM.ref_addr: {
        const size = form === DW_FORM.ref_addr && this.unit.version <= 2 ? this.unit.addressSize : this.unit.offsetSize;
        this.pos += size;
        return size === 8 ? u32(b, p) + u32(b, p + 4) * 4294967296 : u32(b, p);
      }
      case DW_FORM.flag_present:
        return 1;
      case DW_FORM.implicit_const:
        return typeof implicit === 'number' ? implicit : Number(implicit);
      default:
        this.skipValue(form, -1);
        return NaN;
    }
  }

  /** Skips one attribute value of `form`, whose size is `size` when fixed (-1 otherwise). */
  skipValue(form: number, size: number): void {
    if (size >= 0) {
      this.pos += size;
      return;
    }
    const b = this.bytes;
    switch (form) {
      case DW_FORM.sdata:
      case DW_FORM.udata:
      case DW_FORM.ref_udata:
      case DW_FORM.strx:
      case DW_FORM.addrx:
      case DW_FORM.loclistx:
      case DW_FORM.rnglistx:
      case DW_FORM.GNU_addr_index:
      case DW_FORM.GNU_str_index:
        while (b[this.pos++]! >= 0x80);
        return;
      case DW_FORM.string: {
        const nul = b.indexOf(0, this.pos);
        if (nul < 0) this.fail(this.pos, 'unterminated string');
        this.pos = nul + 1;
        return;
      }
      case DW_FORM.exprloc:
      case DW_FORM.block: {
        const n = this.uleb();
        this.pos += n;
        return;
      }
      case DW_FORM.block1:
        this.pos += b[this.pos]! + 1;
        return;
      case DW_FORM.block2:
        this.pos += (b[this.pos]! | (b[this.pos + 1]! << 8)) + 2;
        return;
      case DW_FORM.block4:
        this.pos += u32(b, this.pos) + 4;
        return;
      case DW_FORM.indirect:
        this.value(form, 0);
        return;
      default: {
        const fixed = formSize(form, this.unit);
        if (fixed < 0) this.fail(this.pos, `unknown attribute form 0x${form.toString(16)}`);
        this.pos += fixed;
      }
    }
  }

  /** Throws unless the cursor is still inside the unit (NaN positions from garbage fail too). */
  check(): void {
    if (!(this.pos <= this.end)) this.fail(this.at, `DIE runs past the end of the unit at 0x${this.unit.offset.toString(16)}`);
  }

  private refAt(p: number, form: number): number {
    const b = this.bytes;
    switch (form) {
      case DW_FORM.ref1:
        return b[p]!;
      case DW_FORM.ref2:
        return b[p]! | (b[p + 1]! << 8);
      case DW_FORM.ref4:
        return u32(b, p);
      default:
        return u32(b, p) + u32(b, p + 4) * 4294967296;
    }
  }

  private uleb(): number {
    const b = this.bytes;
    let byte = b[this.pos++]!;
    if (byte < 0x80) return byte;
    let result = byte & 0x7f;
    let mul = 128;
    do {
      byte = b[this.pos++]!;
      result += (byte & 0x7f) * mul;
      mul *= 128;
    } while (byte >= 0x80);
    return result;
  }

  private sleb(): number {
    const b = this.bytes;
    let result = 0;
    let mul = 1;
    let byte: number;
    do {
      byte = b[this.pos++]!;
      result += (byte & 0x7f) * mul;
      mul *= 128;
    } while (byte >= 0x80);
    return byte & 0x40 ? result - mul : result;
  }

  private fail(pos: number, message: string): never {
    throw new DwarfError(this.unit.section, this.unit.offset + this.base + pos, message);
  }
}

export function isUnitRef(form: number): boolean {
  return form === DW_FORM.ref1 || form === DW_FORM.ref2 || form === DW_FORM.ref4 || form === DW_FORM.ref8 || form === DW_FORM.ref_udata;
}
