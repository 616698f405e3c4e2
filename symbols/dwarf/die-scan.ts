// Raw walks of one unit's DIEs for name lookups (no Die objects): its unit-level variables, its
// top-level variables and named types, and whether any variable's location is a list. Each reads only the
// attributes it asks for, by abbreviation, and skips everything else by its form's size.
import { SKIP_BY_SIBLING4, SKIP_FIXED, type AbbrevTable } from './abbrev.js';
import { u32 } from './address-keys.js';
import { DW_AT, DW_FORM, DW_TAG } from './constants.js';
import { EntryCursor, isUnitRef } from './entries.js';
import type { Unit } from './unit.js';

/** A name attribute as a walk finds it: its form and value (an offset or index), or its bytes for DW_FORM_string. */
export interface NameAttr {
  form: number;
  value: number;
  inline: Uint8Array | undefined;
}

/** A unit-level variable: where its name is, the DIE it defers to for one (-1: none) and whether it has a location or constant. */
interface VariableEntry {
  offset: number;
  name: NameAttr | undefined;
  origin: number;
  defines: boolean;
}

/** An enumerator of a top-level enum: its name and the offset of its enumeration type's DIE. */
interface EnumeratorEntry {
  name: NameAttr;
  enumOffset: number;
}

/** A type DIE with its own name. */
interface TypeEntry {
  offset: number;
  tag: number;
  name: NameAttr;
  declaration: boolean;
}

const TYPE_TAGS = new Set<number>([
  DW_TAG.structure_type,
  DW_TAG.union_type,
  DW_TAG.enumeration_type,
  DW_TAG.class_type,
  DW_TAG.typedef,
  DW_TAG.base_type,
]);
/** Location forms that make a list (data4 too before DWARF 5, as a .debug_loc offset). */
const LIST_FORMS = new Set<number>([DW_FORM.sec_offset, DW_FORM.loclistx, DW_FORM.data4]);

function cursor(unit: Unit): EntryCursor {
  return new EntryCursor(unit, unit.dwarf.scanBytes(unit), unit.dwarf.abbrevs(unit.abbrevOffset), unit.dwarf.keys);
}

/** The variables that are children of the unit DIE, in DIE order. */
export function unitVariables(unit: Unit): VariableEntry[] {
  const cur = cursor(unit);
  const out: VariableEntry[] = [];
  const root = cur.next();
  if (root < 0) return out;
  cur.skipAttributes(root);
  if (!cur.table.hasChildren[root]) return out;
  const action = perAbbrev(cur.table, (tag) => tag === DW_TAG.variable);
  for (let a = cur.nextWith(action); a >= 0; a = cur.nextWith(action)) {
    const offset = cur.dieOffset;
    const v = readAttributes(cur, a);
    out.push({ offset, name: v.name, origin: v.origin, defines: v.defines });
    if (cur.table.hasChildren[a]) cur.skipChildren();
  }
  return out;
}

/** What unitTopLevel finds. */
interface TopLevel {
  variables: VariableEntry[];
  types: TypeEntry[];
  functions: VariableEntry[];
  enumerators: EnumeratorEntry[];
}

/**
 * The unit's top-level variables, named types and enumerators in one walk that skips every DIE's children (by
 * DW_AT_sibling where the producer gives it): what a whole-program name index needs.
 */
export function unitTopLevel(unit: Unit): TopLevel {
  const cur = cursor(unit);
  const variables: VariableEntry[] = [];
  const types: TypeEntry[] = [];
  /** Subprograms with code (`defines`: always true), named like variables. */
  const functions: VariableEntry[] = [];
  const enumerators: EnumeratorEntry[] = [];
  const found = { variables, types, functions, enumerators };
  const root = cur.next();
  if (root < 0) return found;
  cur.skipAttributes(root);
  if (!cur.table.hasChildren[root]) return found;
  const { tag } = cur.table;
  const action = perAbbrev(cur.table, (t) => t === DW_TAG.variable || t === DW_TAG.subprogram || TYPE_TAGS.has(t));
  for (let a = cur.nextWith(action); a >= 0; a = cur.nextWith(action)) {
    const offset = cur.dieOffset;
    const attrs = cur.pos;
    const v = readAttributes(cur, a);
    const t = tag[a]!;
    if (t === DW_TAG.variable) variables.push({ offset, name: v.name, origin: v.origin, defines: v.defines });
    else if (t === DW_TAG.subprogram) {
      if (v.hasCode) functions.push({ offset, name: v.name, origin: v.origin, defines: true });
    } else if (v.ownName) types.push({ offset, tag: t, name: v.ownName, declaration: v.declaration });
    // An enum's enumerators (named or not) are names at file scope too, as C has them.
    if (t === DW_TAG.enumeration_type && cur.table.hasChildren[a]) {
      for (let c = cur.next(); c >= 0; c = cur.next()) {
        if (tag[c] !== DW_TAG.enumerator) {
          cur.skipEntry(c);
          continue;
        }
        const e = readAttributes(cur, c);
        if (e.ownName) enumerators.push({ name: e.ownName, enumOffset: offset });
        if (cur.table.hasChildren[c]) cur.skipChildren();
      }
    } else cur.skipChildrenAfter(a, attrs);
  }
  return found;
}

/** Does a variable or parameter of the unit have a location list (gdb's "locations valid" test)? */
export function hasLocationList(unit: Unit): boolean {
  const table = unit.dwarf.abbrevs(unit.abbrevOffset);
  const want = perAbbrev(table, (tag, a) => {
    if (tag !== DW_TAG.variable && tag !== DW_TAG.formal_parameter) return false;
    for (let s = table.first[a]!, end = s + table.count[a]!; s < end; s++) {
      if (table.names[s] === DW_AT.location && (LIST_FORMS.has(table.forms[s]!) || table.forms[s] === DW_FORM.indirect)) return true;
    }
    return false;
  });
  if (!want.includes(1)) return false;
  const cur = cursor(unit);
  while (cur.pos < cur.bytes.length) {
    const a = cur.next();
    if (a < 0) continue;
    if (want[a] && readAttributes(cur, a).locationList) return true;
    if (!want[a]) cur.skipAttributes(a);
  }
  return false;
}

const NAME_ATTRS = new Set<number>([DW_AT.name, DW_AT.linkage_name, DW_AT.MIPS_linkage_name]);

/**
 * Those of `positions` (section offsets in the unit, ascending) where a name attribute's value
 * starts: a walk that jumps over each DIE or subtree ending at or before the next position, so
 * the few hundred DIEs on the way to each decide it, however large the unit.
 */
export function nameValuesAt(unit: Unit, positions: readonly number[]): number[] {
  const cur = cursor(unit);
  const { names, forms, first, count } = cur.table;
  const { sizes, skip, siblingAt } = cur.plan;
  const out: number[] = [];
  let k = 0;
  while (k < positions.length && cur.pos < cur.bytes.length) {
    const a = cur.next();
    if (a < 0) continue;
    const want = positions[k]! - unit.offset;
    if (skip[a]! >= SKIP_FIXED && cur.pos + skip[a]! <= want) {
      cur.pos += skip[a]!;
      continue;
    }
    if (skip[a] === SKIP_BY_SIBLING4) {
      const sibling = u32(cur.bytes, cur.pos + siblingAt[a]!);
      if (sibling <= want) {
        cur.jump(sibling);
        continue;
      }
    }
    for (let s = first[a]!, end = s + count[a]!; s < end && k < positions.length; s++) {
      // A form given in the DIE puts the value after it: such a name is taken wherever it is.
      if (forms[s] === DW_FORM.indirect && NAME_ATTRS.has(names[s]!)) return [...out, ...positions.slice(k)];
      while (k < positions.length && positions[k]! - unit.offset < cur.pos) k++;
      if (k < positions.length && positions[k]! - unit.offset === cur.pos && NAME_ATTRS.has(names[s]!)) out.push(positions[k++]!);
      cur.skipValue(forms[s]!, sizes[s]!);
    }
    cur.check();
  }
  return out;
}

/** 1 for the abbreviations of `table` that `keep` (given tag and index) picks. */
function perAbbrev(table: AbbrevTable, keep: (tag: number, a: number) => boolean): Uint8Array {
  const out = new Uint8Array(table.tag.length);
  for (let a = 0; a < out.length; a++) out[a] = keep(table.tag[a]!, a) ? 1 : 0;
  return out;
}

interface Attributes {
  /** DW_AT_name. */
  ownName: NameAttr | undefined;
  /** The name a variable is printed with: its DW_AT_name (gdb reads no linkage name for C variables). */
  name: NameAttr | undefined;
  origin: number;
  defines: boolean;
  declaration: boolean;
  locationList: boolean;
  /** DW_AT_low_pc or DW_AT_ranges: a subprogram with code. */
  hasCode: boolean;
}

/** Reads the attributes of the entry `cur` just returned (abbreviation `a`) that the walks use, skipping the rest. */
function readAttributes(cur: EntryCursor, a: number): Attributes {
  const { names, forms, first, count } = cur.table;
  const sizes = cur.plan.sizes;
  const out: Attributes = {
    ownName: undefined,
    name: undefined,
    origin: -1,
    defines: false,
    declaration: false,
    locationList: false,
    hasCode: false,
  };
  let originIsAbstract = false;
  for (let s = first[a]!, end = s + count[a]!; s < end; s++) {
    const name = names[s]!;
    const form = forms[s]!;
    switch (name) {
      case DW_AT.name: {
        const start = form === DW_FORM.indirect ? cur.pos + 1 : cur.pos;
        const value = cur.value(form, 0);
        const f = cur.form;
        out.ownName = { form: f, value, inline: f === DW_FORM.string ? cur.bytes.subarray(start, cur.pos - 1) : undefined };
        out.name = out.ownName;
        break;
      }
      case DW_AT.abstract_origin:
      case DW_AT.specification: {
        const v = cur.value(form, 0);
        const f = cur.form;
        if (originIsAbstract) break;
        originIsAbstract = name === DW_AT.abstract_origin;
        out.origin = isUnitRef(f) ? cur.unit.offset + v : f === DW_FORM.ref_addr ? v : -1;
        break;
      }
      case DW_AT.location: {
        out.defines = true;
        cur.value(form, 0);
        out.locationList = LIST_FORMS.has(cur.form);
        break;
      }
      case DW_AT.const_value:
        out.defines = true;
        cur.skipValue(form, sizes[s]!);
        break;
      case DW_AT.low_pc:
      case DW_AT.ranges:
        out.hasCode = true;
        cur.skipValue(form, sizes[s]!);
        break;
      case DW_AT.declaration:
        out.declaration = cur.value(form, form === DW_FORM.implicit_const ? cur.table.implicit(s) : 0) !== 0;
        break;
      default:
        cur.skipValue(form, sizes[s]!);
    }
  }
  cur.check();
  return out;
}
