// What a scan of a unit keeps about its functions: each function's DIE, ranges and where its
// body is; a scanned body's entries (the function, its inlined calls and nested functions) in
// one array of records; and where subprograms' names are. Addresses are keys (see AddressKeys).

/** callFile of an inlined call without DW_AT_call_file. */
export const NO_FILE = 0xffffffff;

/** Fields of a body entry (records of Records(ENTRY_FIELDS)). */
export const INLINED = 0;
export const OFFSET = 1;
export const SUBTREE_END = 2;
export const RANGE_FIRST = 3;
export const RANGE_LAST = 4;
export const CALL_FILE = 5;
export const CALL_LINE = 6;
export const CALL_COLUMN = 7;
export const ENTRY_FIELDS = 8;

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
export interface Fn {
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
export const NAME_DIE = 0;
export const NAME_FORM = 1;
export const NAME_VALUE = 2;
export const NAME_ORIGIN = 3;
export const NAME_FIELDS = 4;

export interface NameTable {
  records: Float64Array;
  /** DW_FORM_string names (their value indexes this). */
  inline: string[];
}
