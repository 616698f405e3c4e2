// A unit's functions and their inlined calls for address lookups (addr2line's design), from one
// raw scan of the unit's DIEs on first use: the ranges of concrete subprograms sorted for binary
// search, and the inlined_subroutine instances below them, in DIE order in typed arrays.
// Addresses are keys (see AddressKeys). Names are not read here (Dwarf.functionName reads them
// when a frame is printed) and the unit's bytes are dropped once scanned.
import { DW_AT, DW_FORM, DW_TAG } from './dwarf/constants.js';
import type { AbbrevTable } from './dwarf/abbrev.js';
import { EntryCursor, isUnitRef } from './dwarf/entries.js';
import { DwarfError } from './dwarf/errors.js';
import { readRangeList, type Range } from './dwarf/ranges.js';
import { isAddrx, type Unit } from './dwarf/unit.js';
import { partitionPoint } from './search.js';

/** callFile of an entry without DW_AT_call_file. */
export const NO_FILE = 0xffffffff;

/** DW_LANG_* of C and assembly, whose structs and unions never hold functions (their subtrees are skipped whole). */
const WITHOUT_METHODS = new Set([0x01, 0x02, 0x0c, 0x1d, 0x2c, 0x8001]);
const TYPE_SCOPES = new Set<number>([DW_TAG.class_type, DW_TAG.structure_type, DW_TAG.union_type, DW_TAG.interface_type]);
/** Scopes looked through in every language: code below them belongs to the enclosing function (or unit). */
const SCOPES = new Set<number>([DW_TAG.lexical_block, DW_TAG.namespace, DW_TAG.module]);

/** The entries of a unit: concrete functions and inlined calls, in DIE order. */
interface FunctionTables {
  /** 1 for an inlined call. */
  inlined: Uint8Array;
  /** .debug_info offset of the entry's DIE. */
  offset: Float64Array;
  /** Index just past the last entry below this one. */
  subtreeEnd: Uint32Array;
  /** The entry's ranges are the key pairs ranges[rangeFirst[e]..rangeLast[e]). */
  rangeFirst: Uint32Array;
  rangeLast: Uint32Array;
  ranges: Float64Array;
  /** DW_AT_call_file (NO_FILE when absent), call_line and call_column (0 when absent) of inlined calls. */
  callFile: Uint32Array;
  callLine: Uint32Array;
  callColumn: Uint32Array;
  /** Ranges of concrete functions sorted by start, with their entries. */
  slotStart: Float64Array;
  slotEnd: Float64Array;
  slotEntry: Uint32Array;
}

export class UnitFunctions {
  readonly t: FunctionTables;

  constructor(readonly unit: Unit) {
    this.t = new Builder(unit).run();
  }

  /** The concrete function whose ranges hold `pc` (the innermost when nested ones overlap), or -1. */
  find(pc: number): number {
    const { slotStart, slotEnd, slotEntry } = this.t;
    const lo = partitionPoint(slotStart.length, (i) => slotStart[i]! <= pc);
    for (let i = lo - 1; i >= 0 && i >= lo - 64; i--) if (pc < slotEnd[i]!) return slotEntry[i]!;
    return -1;
  }

  /** The inlined calls containing `pc` inside function `fn`, outermost first (the first match at each level). */
  inlineChain(fn: number, pc: number): number[] {
    const { inlined, subtreeEnd } = this.t;
    const chain: number[] = [];
    for (let i = fn + 1, end = subtreeEnd[fn]!; i < end; ) {
      if (inlined[i] && this.contains(i, pc)) {
        chain.push(i);
        end = subtreeEnd[i]!;
        i++;
      } else {
        i = subtreeEnd[i]!;
      }
    }
    return chain;
  }

  contains(e: number, pc: number): boolean {
    const { rangeFirst, rangeLast, ranges } = this.t;
    for (let r = rangeFirst[e]!; r < rangeLast[e]!; r += 2) if (pc >= ranges[r]! && pc < ranges[r + 1]!) return true;
    return false;
  }

  /** An entry's ranges as addresses. */
  rangesOf(e: number): Range[] {
    const { rangeFirst, rangeLast, ranges } = this.t;
    const keys = this.unit.dwarf.keys;
    const out: Range[] = [];
    for (let r = rangeFirst[e]!; r < rangeLast[e]!; r += 2) out.push({ start: keys.toBigint(ranges[r]!), end: keys.toBigint(ranges[r + 1]!) });
    return out;
  }

  name(e: number): string | undefined {
    return this.unit.dwarf.functionName(this.t.offset[e]!);
  }
}

/** What the scan does with a DIE of an abbreviation: 0 skips it and its subtree; */
/** a subprogram or inlined_subroutine with an address attribute: read it. */
const ENTRY = 1;
/** a scope with children that may hold code: look through it. */
const SCOPE = 2;

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

/** The scan: entries collected in plain arrays, then packed. */
class Builder {
  private readonly cur: EntryCursor;
  private readonly inlined: number[] = [];
  private readonly offset: number[] = [];
  private readonly subtreeEnd: number[] = [];
  private readonly rangeFirst: number[] = [];
  private readonly rangeLast: number[] = [];
  private readonly ranges: number[] = [];
  private readonly callFile: number[] = [];
  private readonly callLine: number[] = [];
  private readonly callColumn: number[] = [];

  constructor(private readonly unit: Unit) {
    this.cur = new EntryCursor(unit, unit.bytes(true), unit.dwarf.abbrevs(unit.abbrevOffset), unit.dwarf.keys);
  }

  run(): FunctionTables {
    this.scan();
    return this.finish();
  }

  private scan(): void {
    const { cur, unit } = this;
    const { hasChildren } = cur.table;
    const root = cur.next();
    if (root < 0) throw new DwarfError(unit.section, unit.firstDie, 'unit has no DIEs');
    cur.skipAttributes(root);
    if (!hasChildren[root]) return;
    const action = actions(cur.table, !WITHOUT_METHODS.has(unit.language ?? -1));
    // Open DIEs with children, innermost last: an entry's index, or -1 for a scope looked through.
    const open: number[] = [-1];
    while (open.length > 0) {
      const a = cur.next();
      if (a < 0) {
        const e = open.pop()!;
        if (e >= 0) this.subtreeEnd[e] = this.offset.length;
      } else if (action[a] === ENTRY) {
        const e = this.entry(a);
        if (e >= 0 && hasChildren[a]) open.push(e);
      } else if (action[a] === SCOPE) {
        cur.skipAttributes(a);
        open.push(-1);
      } else {
        cur.skipEntry(a);
      }
    }
  }

  /**
   * Reads a subprogram or inlined_subroutine and records it when it has code; one without code
   * (a declaration, an abstract instance) has none below it either, so its subtree is skipped.
   */
  private entry(a: number): number {
    const { cur, unit } = this;
    const { names, forms, tag, hasChildren } = cur.table;
    const { sizes } = cur.plan;
    const at = unit.offset + cur.at;
    let low = NaN;
    let lowForm = 0;
    let high = NaN;
    let highForm = 0;
    let rangesValue = -1;
    let rangesForm = 0;
    let file = NO_FILE;
    let line = 0;
    let column = 0;
    let sibling = -1;
    for (let s = cur.table.first[a]!, end = s + cur.table.count[a]!; s < end; s++) {
      const form = forms[s]!;
      const implicit = form === DW_FORM.implicit_const ? cur.table.implicit(s) : 0;
      switch (names[s]) {
        case DW_AT.low_pc: low = cur.value(form, implicit); lowForm = cur.form; break;
        case DW_AT.high_pc: high = cur.value(form, implicit); highForm = cur.form; break;
        case DW_AT.ranges: rangesValue = cur.value(form, implicit); rangesForm = cur.form; break;
        case DW_AT.call_file: file = cur.value(form, implicit); break;
        case DW_AT.call_line: line = cur.value(form, implicit); break;
        case DW_AT.call_column: column = cur.value(form, implicit); break;
        case DW_AT.sibling: {
          const v = cur.value(form, implicit);
          if (isUnitRef(cur.form)) sibling = v;
          break;
        }
        default: cur.skipValue(form, sizes[s]!);
      }
    }
    cur.check();
    const first = this.ranges.length;
    if (rangesValue >= 0) readRangeList(unit, rangesForm, rangesValue, this.ranges);
    else if (!Number.isNaN(low)) {
      const start = isAddrx(lowForm) ? unit.indexedAddressKey(low) : low;
      const end = highForm === DW_FORM.addr ? high : isAddrx(highForm) ? unit.indexedAddressKey(high) : start + high;
      if (end > start) this.ranges.push(start, end);
    }
    if (this.ranges.length === first) {
      if (hasChildren[a]) {
        if (sibling >= 0) cur.jump(sibling);
        else cur.skipChildren();
      }
      return -1;
    }
    const e = this.offset.length;
    this.inlined.push(tag[a] === DW_TAG.inlined_subroutine ? 1 : 0);
    this.offset.push(at);
    this.subtreeEnd.push(e + 1);
    this.rangeFirst.push(first);
    this.rangeLast.push(this.ranges.length);
    this.callFile.push(file);
    this.callLine.push(line);
    this.callColumn.push(column);
    return e;
  }

  private finish(): FunctionTables {
    const { ranges, rangeFirst, rangeLast } = this;
    // Concrete functions' ranges (their start positions in `ranges`), sorted by start.
    const slots: number[] = [];
    const slotFn: number[] = [];
    for (let e = 0; e < this.offset.length; e++) {
      if (this.inlined[e]) continue;
      for (let r = rangeFirst[e]!; r < rangeLast[e]!; r += 2) {
        slots.push(r);
        slotFn.push(e);
      }
    }
    const order = new Uint32Array(slots.length);
    for (let i = 0; i < order.length; i++) order[i] = i;
    order.sort((x, y) => ranges[slots[x]!]! - ranges[slots[y]!]!);
    const slotStart = new Float64Array(order.length);
    const slotEnd = new Float64Array(order.length);
    const slotEntry = new Uint32Array(order.length);
    for (let i = 0; i < order.length; i++) {
      slotStart[i] = ranges[slots[order[i]!]!]!;
      slotEnd[i] = ranges[slots[order[i]!]! + 1]!;
      slotEntry[i] = slotFn[order[i]!]!;
    }
    return {
      inlined: new Uint8Array(this.inlined),
      offset: new Float64Array(this.offset),
      subtreeEnd: new Uint32Array(this.subtreeEnd),
      rangeFirst: new Uint32Array(rangeFirst),
      rangeLast: new Uint32Array(rangeLast),
      ranges: new Float64Array(ranges),
      callFile: new Uint32Array(this.callFile),
      callLine: new Uint32Array(this.callLine),
      callColumn: new Uint32Array(this.callColumn),
      slotStart,
      slotEnd,
      slotEntry,
    };
  }
}
