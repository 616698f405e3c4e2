// The raw scans behind UnitFunctions: one pass over a unit's DIEs finds its concrete subprograms
// and records where every subprogram's name is, jumping over function bodies by DW_AT_sibling
// (a body without one is read on the way); a body is scanned on its own when an address first
// lands in its function. Reads only the attributes symbolizing needs; makes no Die objects.
import type { AbbrevTable } from './dwarf/abbrev.js';
import { Column, float64, Records } from './column.js';
import { DW_AT, DW_FORM, DW_TAG } from './dwarf/constants.js';
import { EntryCursor, isUnitRef } from './dwarf/entries.js';
import { DwarfError } from './dwarf/errors.js';
import { readRangeList } from './dwarf/ranges.js';
import { isAddrx, type Unit } from './dwarf/unit.js';
import {
  CALL_COLUMN,
  CALL_FILE,
  CALL_LINE,
  ENTRY_FIELDS,
  FunctionBody,
  INLINED,
  NAME_DIE,
  NAME_FIELDS,
  NAME_FORM,
  NAME_ORIGIN,
  NAME_VALUE,
  NO_FILE,
  OFFSET,
  ORIGIN,
  OWN_NAME,
  RANGE_FIRST,
  RANGE_LAST,
  SUBTREE_END,
  type Fn,
  type NameTable,
} from './function-body.js';

const utf8 = new TextDecoder();

/** DW_LANG_* of C and assembly, whose structs and unions never hold functions (their subtrees are skipped whole). */
const WITHOUT_METHODS = new Set([0x01, 0x02, 0x0c, 0x1d, 0x2c, 0x8001]);
const TYPE_SCOPES = new Set<number>([DW_TAG.class_type, DW_TAG.structure_type, DW_TAG.union_type, DW_TAG.interface_type]);
/** Scopes looked through in every language: code below them belongs to the enclosing function (or unit). */
const SCOPES = new Set<number>([DW_TAG.lexical_block, DW_TAG.namespace, DW_TAG.module]);

/**
 * What a scan does with a DIE of an abbreviation: 0 skips it and its subtree; ENTRY reads a
 * subprogram or an inlined_subroutine with an address attribute; NAMED reads a subprogram without
 * one (a declaration or abstract instance: names come from them) and skips its subtree; SCOPE
 * looks through a scope whose children may hold code.
 */
const ENTRY = 1;
const NAMED = 2;
const SCOPE = 3;

/** Per abbreviation of a table, its action; for units whose types may hold code, and for those whose may not. */
const actionTables = new WeakMap<AbbrevTable, [Uint8Array, Uint8Array]>();

function actions(table: AbbrevTable, typesHoldCode: boolean): Uint8Array {
  let both = actionTables.get(table);
  if (!both) {
    const make = (types: boolean) => {
      const out = new Uint8Array(table.tag.length);
      for (let a = 0; a < out.length; a++) {
        const tag = table.tag[a]!;
        if (tag === DW_TAG.subprogram || tag === DW_TAG.inlined_subroutine) {
          if (tag === DW_TAG.subprogram) out[a] = NAMED;
          for (let s = table.first[a]!, end = s + table.count[a]!; s < end; s++) {
            if (table.names[s] === DW_AT.low_pc || table.names[s] === DW_AT.ranges) out[a] = ENTRY;
          }
        } else if (table.hasChildren[a] && (SCOPES.has(tag) || (types && TYPE_SCOPES.has(tag)))) out[a] = SCOPE;
      }
      return out;
    };
    both = [make(false), make(true)];
    actionTables.set(table, both);
  }
  return both[typesHoldCode ? 1 : 0];
}

/** The attributes a scan reads, by what they are to it (names last, in their order of precedence). */
const LOW = 1;
const HIGH = 2;
const RANGES = 3;
const FILE = 4;
const LINE = 5;
const COLUMN = 6;
const SIBLING = 7;
const ABSTRACT_ORIGIN = 8;
const SPECIFICATION = 9;
const LINKAGE_NAME = 10;
const MIPS_NAME = 11;
const NAME = 12;
const WANTED = new Uint8Array(0x80);
WANTED[DW_AT.low_pc] = LOW;
WANTED[DW_AT.high_pc] = HIGH;
WANTED[DW_AT.ranges] = RANGES;
WANTED[DW_AT.call_file] = FILE;
WANTED[DW_AT.call_line] = LINE;
WANTED[DW_AT.call_column] = COLUMN;
WANTED[DW_AT.sibling] = SIBLING;
WANTED[DW_AT.abstract_origin] = ABSTRACT_ORIGIN;
WANTED[DW_AT.specification] = SPECIFICATION;
WANTED[DW_AT.linkage_name] = LINKAGE_NAME;
WANTED[DW_AT.name] = NAME;

/** The attributes of a subprogram or inlined_subroutine a scan reads. */
class EntryAttrs {
  ranges = new Column(float64);
  file = NO_FILE;
  line = 0;
  column = 0;
  /** A unit-relative DW_AT_sibling, -1 without one. */
  sibling = -1;
  nameForm = 0;
  nameValue = 0;
  inlineName: string | undefined;
  origin = -1;

  /** Reads the attributes of the entry `cur` just returned (abbreviation `a`); its ranges replace `ranges`' contents. */
  read(cur: EntryCursor, a: number): void {
    const unit = cur.unit;
    const { names, forms, first, count } = cur.table;
    const { sizes } = cur.plan;
    let low = NaN;
    let lowForm = 0;
    let high = NaN;
    let highForm = 0;
    let rangesValue = -1;
    let rangesForm = 0;
    let nameRank = NAME + 1;
    let originIsAbstract = false;
    this.file = NO_FILE;
    this.line = this.column = this.nameForm = this.nameValue = 0;
    this.sibling = this.origin = -1;
    this.inlineName = undefined;
    for (let s = first[a]!, end = s + count[a]!; s < end; s++) {
      const form = forms[s]!;
      const name = names[s]!;
      const want = name < WANTED.length ? WANTED[name]! : name === DW_AT.MIPS_linkage_name ? MIPS_NAME : 0;
      if (want === 0) {
        cur.skipValue(form, sizes[s]!);
        continue;
      }
      // An indirect form's code comes first (DW_FORM_string's is one byte).
      const start = form === DW_FORM.indirect ? cur.pos + 1 : cur.pos;
      const v = cur.value(form, form === DW_FORM.implicit_const ? cur.table.implicit(s) : 0);
      const f = cur.form;
      switch (want) {
        case LOW:
          low = v;
          lowForm = f;
          break;
        case HIGH:
          high = v;
          highForm = f;
          break;
        case RANGES:
          rangesValue = v;
          rangesForm = f;
          break;
        case FILE:
          this.file = v;
          break;
        case LINE:
          this.line = v;
          break;
        case COLUMN:
          this.column = v;
          break;
        case SIBLING:
          if (isUnitRef(f)) this.sibling = v;
          break;
        case ABSTRACT_ORIGIN:
        case SPECIFICATION:
          if (originIsAbstract) break;
          originIsAbstract = want === ABSTRACT_ORIGIN;
          this.origin = isUnitRef(f) ? unit.offset + v : f === DW_FORM.ref_addr ? v : -1;
          break;
        default:
          // Names, by precedence: LINKAGE_NAME < MIPS_NAME < NAME.
          if (want < nameRank && isStringForm(f)) {
            nameRank = want;
            this.nameForm = f;
            this.nameValue = v;
            this.inlineName = f === DW_FORM.string ? utf8.decode(cur.bytes.subarray(start, cur.pos - 1)) : undefined;
          }
      }
    }
    cur.check();
    const out = this.ranges;
    out.length = 0;
    if (rangesValue >= 0) readRangeList(unit, rangesForm, rangesValue, out);
    else if (!Number.isNaN(low)) {
      const start = isAddrx(lowForm) ? unit.indexedAddressKey(low) : low;
      const end = highForm === DW_FORM.addr ? high : isAddrx(highForm) ? unit.indexedAddressKey(high) : start + high;
      if (end > start) {
        out.push(start);
        out.push(end);
      }
    }
  }

  /** Skips the children of the entry just read (by its sibling when it has one). */
  skipChildren(cur: EntryCursor): void {
    if (this.sibling >= 0) cur.jump(this.sibling);
    else cur.skipChildren();
  }
}

const attrs = new EntryAttrs();
const NO_RANGES = new Float64Array(0);

/** The unit scan: concrete functions, with their bodies' bytes, and subprograms' names. */
export class UnitScan {
  readonly fns: Fn[] = [];
  private readonly cur: EntryCursor;
  private readonly names = new Records(NAME_FIELDS);
  /** The functions' ranges, all in one array once the scan is done. */
  private readonly ranges = new Column(float64);
  private readonly inline: string[] = [];

  constructor(unit: Unit) {
    this.cur = new EntryCursor(unit, unit.dwarf.scanBytes(unit), unit.dwarf.abbrevs(unit.abbrevOffset), unit.dwarf.keys);
    this.scan(unit);
    const ranges = this.ranges.take();
    for (const f of this.fns) if (f.ranges === NO_RANGES) f.ranges = ranges;
  }

  private scan(unit: Unit): void {
    const { cur } = this;
    const { hasChildren } = cur.table;
    const root = cur.next();
    if (root < 0) throw new DwarfError(unit.section, unit.firstDie, 'unit has no DIEs');
    cur.skipAttributes(root);
    if (!hasChildren[root]) return;
    const action = actions(cur.table, !WITHOUT_METHODS.has(unit.language ?? -1));
    // Scopes looked through whose children are still being read.
    for (let open = 1; open > 0;) {
      const a = cur.nextWith(action);
      if (a < 0) open--;
      else if (action[a] === SCOPE) {
        cur.skipAttributes(a);
        open++;
      } else if (action[a] === ENTRY && cur.table.tag[a] === DW_TAG.subprogram) this.function(a);
      else if (action[a] === NAMED) {
        this.named(a);
        if (hasChildren[a]) attrs.skipChildren(cur);
      } else cur.skipEntry(a);
    }
  }

  nameTable(): NameTable {
    return { records: this.names.take(), inline: this.inline };
  }

  /** A subprogram with an address attribute: a function when it has code; its body is scanned now only without a sibling to jump by. */
  private function(a: number): void {
    const { cur } = this;
    const die = cur.dieOffset;
    this.named(a);
    const hasChildren = cur.table.hasChildren[a] === 1;
    if (attrs.ranges.length === 0) {
      if (hasChildren) attrs.skipChildren(cur);
      return;
    }
    if (hasChildren && attrs.sibling >= 0) {
      // Its ranges go to the unit's array (assigned when the scan ends); the body waits.
      const first = this.ranges.length;
      for (let i = 0; i < attrs.ranges.length; i++) this.ranges.push(attrs.ranges.values[i]!);
      this.fns.push({
        offset: die,
        ranges: NO_RANGES,
        first,
        last: this.ranges.length,
        bodyStart: cur.base + cur.pos,
        bodyEnd: attrs.sibling,
        index: 0,
      });
      cur.jump(attrs.sibling);
      return;
    }
    // Without a sibling to jump by, the body is read now (and the function keeps its own ranges).
    const fn: Fn = { offset: die, ranges: attrs.ranges.take(), first: 0, last: attrs.ranges.length, bodyStart: -1, bodyEnd: -1, index: 0 };
    this.fns.push(fn);
    const body = new BodyBuilder(fn);
    fn.body = (hasChildren ? body.children(cur) : body).finish();
  }

  /** Reads a subprogram's attributes and records its name. */
  private named(a: number): void {
    attrs.read(this.cur, a);
    const r = this.names.append();
    const t = this.names.values;
    t[r + NAME_DIE] = this.cur.dieOffset;
    t[r + NAME_FORM] = attrs.nameForm;
    t[r + NAME_ORIGIN] = attrs.origin;
    if (attrs.inlineName !== undefined) {
      t[r + NAME_VALUE] = this.inline.length;
      this.inline.push(attrs.inlineName);
    } else t[r + NAME_VALUE] = attrs.nameValue;
  }
}

/** Scans a function's body from its bytes (read again unless they are the unit's scanned last). */
export function scanBody(unit: Unit, fn: Fn): FunctionBody {
  const bytes = unit.dwarf.readTransient(unit.section, unit.offset + fn.bodyStart, fn.bodyEnd - fn.bodyStart);
  const cur = new EntryCursor(unit, bytes, unit.dwarf.abbrevs(unit.abbrevOffset), unit.dwarf.keys, fn.bodyStart);
  return new BodyBuilder(fn).children(cur).finish();
}

/** The entries of one function's body, collected in shared records (bodies are scanned one at a time). */
class BodyBuilder {
  private readonly e = bodyEntries;
  private readonly ranges = bodyRanges;

  constructor(fn: Fn) {
    this.e.length = this.ranges.length = 0;
    this.push(0, fn.offset, fn.ranges.subarray(fn.first, fn.last), NO_FILE, 0, 0, -1, 1);
  }

  /** Reads the children of the DIE whose attributes `cur` just read, through their null entry. */
  children(cur: EntryCursor): this {
    const unit = cur.unit;
    const action = actions(cur.table, !WITHOUT_METHODS.has(unit.language ?? -1));
    const { tag, hasChildren } = cur.table;
    // Open DIEs, innermost last: an entry's index, or -1 for a scope looked through; the function's is 0.
    const open: number[] = [0];
    while (open.length > 0) {
      const a = cur.nextWith(action);
      if (a < 0) {
        const e = open.pop()!;
        if (e >= 0) this.e.values[e * ENTRY_FIELDS + SUBTREE_END] = this.e.length;
      } else if (action[a] === ENTRY) {
        const die = cur.dieOffset;
        attrs.read(cur, a);
        if (attrs.ranges.length === 0) {
          if (hasChildren[a]) attrs.skipChildren(cur);
          continue;
        }
        const e = this.push(
          tag[a] === DW_TAG.inlined_subroutine ? 1 : 0,
          die,
          attrs.ranges.values.subarray(0, attrs.ranges.length),
          attrs.file,
          attrs.line,
          attrs.column,
          attrs.origin,
          attrs.nameForm === 0 ? 0 : 1,
        );
        if (hasChildren[a]) open.push(e);
      } else if (action[a] === SCOPE) {
        cur.skipAttributes(a);
        open.push(-1);
      } else {
        cur.skipEntry(a);
      }
    }
    return this;
  }

  finish(): FunctionBody {
    return new FunctionBody(this.e.take(), this.ranges.take());
  }

  private push(
    inlined: number,
    die: number,
    ranges: Float64Array,
    file: number,
    line: number,
    column: number,
    origin: number,
    ownName: number,
  ): number {
    const index = this.e.length;
    const at = this.e.append();
    const v = this.e.values;
    v[at + INLINED] = inlined;
    v[at + OFFSET] = die;
    v[at + SUBTREE_END] = index + 1;
    v[at + RANGE_FIRST] = this.ranges.length;
    for (let i = 0; i < ranges.length; i++) this.ranges.push(ranges[i]!);
    v[at + RANGE_LAST] = this.ranges.length;
    v[at + CALL_FILE] = file;
    v[at + CALL_LINE] = line;
    v[at + CALL_COLUMN] = column;
    v[at + ORIGIN] = origin;
    v[at + OWN_NAME] = ownName;
    return index;
  }
}

const bodyEntries = new Records(ENTRY_FIELDS);
const bodyRanges = new Column(float64);

function isStringForm(form: number): boolean {
  return (
    form === DW_FORM.string ||
    form === DW_FORM.strp ||
    form === DW_FORM.line_strp ||
    form === DW_FORM.strx ||
    form === DW_FORM.strx1 ||
    form === DW_FORM.strx2 ||
    form === DW_FORM.strx3 ||
    form === DW_FORM.strx4 ||
    form === DW_FORM.GNU_str_index
  );
}
