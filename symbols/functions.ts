// A unit's functions and their inlined calls for address lookups (addr2line's design). One raw
// scan of the unit's DIEs on first use finds its concrete subprograms (their ranges sorted for
// binary search) and where every subprogram's name is (a string offset and the DIE it defers to),
// jumping over function bodies with DW_AT_sibling. A function's body (its inlined_subroutine
// tree, and any nested functions) is scanned when an address first lands in it. Everything is
// kept in typed arrays, addresses as keys (see AddressKeys); strings are read when printed.
import type { AbbrevTable } from './dwarf/abbrev.js';
import { Column, float64, Records } from './column.js';
import { DW_AT, DW_FORM, DW_TAG } from './dwarf/constants.js';
import { EntryCursor, isUnitRef } from './dwarf/entries.js';
import { DwarfError } from './dwarf/errors.js';
import { readRangeList, type Range } from './dwarf/ranges.js';
import { isAddrx, type Unit } from './dwarf/unit.js';
import { partitionPoint } from './search.js';

/** callFile of an inlined call without DW_AT_call_file. */
export const NO_FILE = 0xffffffff;

const utf8 = new TextDecoder();

/** DW_LANG_* of C and assembly, whose structs and unions never hold functions (their subtrees are skipped whole). */
const WITHOUT_METHODS = new Set([0x01, 0x02, 0x0c, 0x1d, 0x2c, 0x8001]);
const TYPE_SCOPES = new Set<number>([DW_TAG.class_type, DW_TAG.structure_type, DW_TAG.union_type, DW_TAG.interface_type]);
/** Scopes looked through in every language: code below them belongs to the enclosing function (or unit). */
const SCOPES = new Set<number>([DW_TAG.lexical_block, DW_TAG.namespace, DW_TAG.module]);

/** Fields of a body entry (records of Records(ENTRY_FIELDS)). */
const INLINED = 0;
const OFFSET = 1;
const SUBTREE_END = 2;
const RANGE_FIRST = 3;
const RANGE_LAST = 4;
const CALL_FILE = 5;
const CALL_LINE = 6;
const CALL_COLUMN = 7;
const ENTRY_FIELDS = 8;

/**
 * The entries of one function's DIE subtree in DIE order: entry 0 is the function, then its
 * inlined calls and nested functions (any depth, looking through lexical blocks).
 */
export class FunctionBody {
  constructor(
    private readonly e: Float64Array,
    /** The entries' ranges: key pairs, entry e's at [rangeFirst, rangeLast). */
    readonly ranges: Float64Array,
  ) {}

  get count(): number {
    return this.e.length / ENTRY_FIELDS;
  }

  /** An inlined call (else a function). */
  inlined(e: number): boolean {
    return this.e[e * ENTRY_FIELDS + INLINED] === 1;
  }

  /** .debug_info offset of the entry's DIE. */
  offset(e: number): number {
    return this.e[e * ENTRY_FIELDS + OFFSET]!;
  }

  /** Index just past the last entry below this one. */
  subtreeEnd(e: number): number {
    return this.e[e * ENTRY_FIELDS + SUBTREE_END]!;
  }

  rangeFirst(e: number): number {
    return this.e[e * ENTRY_FIELDS + RANGE_FIRST]!;
  }

  rangeLast(e: number): number {
    return this.e[e * ENTRY_FIELDS + RANGE_LAST]!;
  }

  /** DW_AT_call_file (NO_FILE when absent), call_line and call_column (0 when absent). */
  callFile(e: number): number {
    return this.e[e * ENTRY_FIELDS + CALL_FILE]!;
  }

  callLine(e: number): number {
    return this.e[e * ENTRY_FIELDS + CALL_LINE]!;
  }

  callColumn(e: number): number {
    return this.e[e * ENTRY_FIELDS + CALL_COLUMN]!;
  }

  contains(e: number, pc: number): boolean {
    const r = this.ranges;
    for (let i = this.rangeFirst(e), end = this.rangeLast(e); i < end; i += 2) if (pc >= r[i]! && pc < r[i + 1]!) return true;
    return false;
  }
}

/** A concrete function: its DIE, its ranges (key pairs [first, last) of `ranges`) and where its body is. */
interface Fn {
  offset: number;
  ranges: Float64Array;
  first: number;
  last: number;
  /** The body's bytes, [bodyStart, bodyEnd) of the unit, until it is scanned. */
  bodyStart: number;
  bodyEnd: number;
  /** Its scanned body and its index there (0, or a nested function's entry in the enclosing function's body). */
  body?: FunctionBody;
  index: number;
}

/**
 * Where the scan found subprograms' names: records of NAME_FIELDS by DIE offset (ascending) with
 * the form and value of the name attribute (linkage name first; form 0: none), and the DIE it
 * defers to (DW_AT_abstract_origin, else DW_AT_specification; -1 for none).
 */
const NAME_DIE = 0;
const NAME_FORM = 1;
const NAME_VALUE = 2;
const NAME_ORIGIN = 3;
const NAME_FIELDS = 4;

interface NameTable {
  records: Float64Array;
  /** DW_FORM_string names (their value indexes this). */
  inline: string[];
}

export class UnitFunctions {
  private readonly fns: Fn[];
  private readonly names: NameTable;
  /** Functions' ranges sorted by start, with the function. */
  private slotStart!: Float64Array;
  private slotEnd!: Float64Array;
  private slotFn!: Uint32Array;
  /** Bodies not yet scanned: a pc outside every known function may be in a function nested in one. */
  private unscanned: number;

  constructor(readonly unit: Unit) {
    const scan = new UnitScan(unit);
    this.fns = scan.fns;
    this.names = scan.nameTable();
    this.unscanned = this.fns.filter((f) => !f.body).length;
    for (const f of [...this.fns]) if (f.body) this.adopt(f.body);
    this.sortSlots();
  }

  /** The concrete function whose ranges hold `pc` (the innermost when nested ones overlap), or -1; its body is scanned. */
  find(pc: number): number {
    let f = this.findSlot(pc);
    if (f < 0 && this.unscanned > 0) {
      for (let i = 0; i < this.fns.length; i++) this.body(i);
      f = this.findSlot(pc);
    }
    // Scanning a body may bring nested functions, which may hold pc more closely.
    for (let seen = 0; f >= 0 && !this.fns[f]!.body && seen < 8; seen++) {
      this.body(f);
      f = this.findSlot(pc);
    }
    return f;
  }

  /** The inlined calls containing `pc` inside function `fn`, outermost first (the first match at each level), as entries of body(fn). */
  inlineChain(fn: number, pc: number): number[] {
    const b = this.body(fn);
    const chain: number[] = [];
    const self = this.fns[fn]!.index;
    for (let i = self + 1, end = b.subtreeEnd(self); i < end; ) {
      if (b.inlined(i) && b.contains(i, pc)) {
        chain.push(i);
        end = b.subtreeEnd(i);
        i++;
      } else {
        i = b.subtreeEnd(i);
      }
    }
    return chain;
  }

  /** The body a function's inlined calls are entries of, scanned on first use. */
  body(fn: number): FunctionBody {
    const f = this.fns[fn]!;
    if (!f.body) {
      f.body = scanBody(this.unit, f);
      this.unscanned--;
      if (this.adopt(f.body)) this.sortSlots();
    }
    return f.body;
  }

  /** Makes the functions nested in a body functions of the unit; true if there were any. */
  private adopt(b: FunctionBody): boolean {
    let nested = false;
    for (let e = 1; e < b.count; e++) {
      if (b.inlined(e)) continue;
      this.fns.push({ offset: b.offset(e), ranges: b.ranges, first: b.rangeFirst(e), last: b.rangeLast(e), bodyStart: -1, bodyEnd: -1, body: b, index: e });
      nested = true;
    }
    return nested;
  }

  /** .debug_info offset of a function's DIE. */
  offset(fn: number): number {
    return this.fns[fn]!.offset;
  }

  rangesOf(fn: number): Range[] {
    const f = this.fns[fn]!;
    return toRanges(this.unit, f.ranges, f.first, f.last);
  }

  /** The ranges of entry `e` of a body. */
  bodyRanges(b: FunctionBody, e: number): Range[] {
    return toRanges(this.unit, b.ranges, b.rangeFirst(e), b.rangeLast(e));
  }

  /** The name the DIE at `die` is printed with (see Dwarf.functionName), from the names the scan recorded. */
  name(die: number): string | undefined {
    const t = this.names.records;
    const n = t.length / NAME_FIELDS;
    for (let depth = 0; depth < 8 && die >= 0; depth++) {
      const r = partitionPoint(n, (i) => t[i * NAME_FIELDS + NAME_DIE]! < die) * NAME_FIELDS;
      // A DIE the unit scan did not read (in another unit, or inside a body): read it.
      if (t[r + NAME_DIE] !== die) return this.unit.dwarf.functionName(die);
      const name = this.nameOf(r);
      if (name !== undefined) return name;
      die = t[r + NAME_ORIGIN]!;
    }
    return undefined;
  }

  private nameOf(r: number): string | undefined {
    const t = this.names.records;
    const v = t[r + NAME_VALUE]!;
    switch (t[r + NAME_FORM]) {
      case 0: return undefined;
      case DW_FORM.string: return this.names.inline[v];
      case DW_FORM.strp: return this.unit.dwarf.string('.debug_str', v);
      case DW_FORM.line_strp: return this.unit.dwarf.string('.debug_line_str', v);
      default: return this.unit.indexedString(v);
    }
  }

  private findSlot(pc: number): number {
    const { slotStart, slotEnd, slotFn } = this;
    const lo = partitionPoint(slotStart.length, (i) => slotStart[i]! <= pc);
    for (let i = lo - 1; i >= 0 && i >= lo - 64; i--) if (pc < slotEnd[i]!) return slotFn[i]!;
    return -1;
  }

  private sortSlots(): void {
    const starts: number[] = [];
    const ends: number[] = [];
    const fns: number[] = [];
    this.fns.forEach((f, i) => {
      for (let r = f.first; r < f.last; r += 2) {
        starts.push(f.ranges[r]!);
        ends.push(f.ranges[r + 1]!);
        fns.push(i);
      }
    });
    const order = Array.from(starts.keys()).sort((x, y) => starts[x]! - starts[y]!);
    this.slotStart = new Float64Array(order.map((i) => starts[i]!));
    this.slotEnd = new Float64Array(order.map((i) => ends[i]!));
    this.slotFn = new Uint32Array(order.map((i) => fns[i]!));
  }
}

function toRanges(unit: Unit, pairs: Float64Array, first: number, last: number): Range[] {
  const keys = unit.dwarf.keys;
  const out: Range[] = [];
  for (let r = first; r < last; r += 2) out.push({ start: keys.toBigint(pairs[r]!), end: keys.toBigint(pairs[r + 1]!) });
  return out;
}

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
    const unit = cur.unit as Unit;
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
        case LOW: low = v; lowForm = f; break;
        case HIGH: high = v; highForm = f; break;
        case RANGES: rangesValue = v; rangesForm = f; break;
        case FILE: this.file = v; break;
        case LINE: this.line = v; break;
        case COLUMN: this.column = v; break;
        case SIBLING: if (isUnitRef(f)) this.sibling = v; break;
        case ABSTRACT_ORIGIN: case SPECIFICATION:
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
class UnitScan {
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
    for (let open = 1; open > 0; ) {
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
      this.fns.push({ offset: die, ranges: NO_RANGES, first, last: this.ranges.length, bodyStart: cur.base + cur.pos, bodyEnd: attrs.sibling, index: 0 });
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
function scanBody(unit: Unit, fn: Fn): FunctionBody {
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
    this.push(0, fn.offset, fn.ranges.subarray(fn.first, fn.last), NO_FILE, 0, 0);
  }

  /** Reads the children of the DIE whose attributes `cur` just read, through their null entry. */
  children(cur: EntryCursor): this {
    const unit = cur.unit as Unit;
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
        const e = this.push(tag[a] === DW_TAG.inlined_subroutine ? 1 : 0, die, attrs.ranges.values.subarray(0, attrs.ranges.length), attrs.file, attrs.line, attrs.column);
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

  private push(inlined: number, die: number, ranges: Float64Array, file: number, line: number, column: number): number {
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
    return index;
  }
}

const bodyEntries = new Records(ENTRY_FIELDS);
const bodyRanges = new Column(float64);

function isStringForm(form: number): boolean {
  return form === DW_FORM.string || form === DW_FORM.strp || form === DW_FORM.line_strp || form === DW_FORM.strx || form === DW_FORM.strx1 ||
    form === DW_FORM.strx2 || form === DW_FORM.strx3 || form === DW_FORM.strx4 || form === DW_FORM.GNU_str_index;
}
