// A unit's functions and their inlined calls for address lookups (addr2line's design): the
// concrete functions' ranges sorted for binary search, each function's inline tree scanned when an
// address first lands in it (function-scan.ts), and names read from where the scan found them.
import { DW_FORM } from './dwarf/constants.js';
import type { NameQuery } from './dwarf/name-query.js';
import type { Range } from './dwarf/ranges.js';
import type { Unit } from './dwarf/unit.js';
import { NAME_DIE, NAME_FIELDS, NAME_FORM, NAME_ORIGIN, NAME_VALUE, type Fn, type FunctionBody, type NameTable } from './function-body.js';
import { scanBody, UnitScan } from './function-scan.js';
import { partitionPoint } from './search.js';

export { NO_FILE } from './function-body.js';

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
    for (let i = self + 1, end = b.subtreeEnd(self); i < end;) {
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
      this.fns.push({
        offset: b.offset(e),
        ranges: b.ranges,
        first: b.rangeFirst(e),
        last: b.rangeLast(e),
        bodyStart: -1,
        bodyEnd: -1,
        body: b,
        index: e,
      });
      nested = true;
    }
    return nested;
  }

  /** The entries below a function in its body: [first, last) (its inlined calls and nested functions, any depth). */
  subtree(fn: number): { body: FunctionBody; first: number; last: number } {
    const body = this.body(fn);
    const self = this.fns[fn]!.index;
    return { body, first: self + 1, last: body.subtreeEnd(self) };
  }

  /** Calls `visit` with every function and inlined call of the unit (its body and entry), scanning every body. */
  forEachEntry(visit: (body: FunctionBody, e: number) => void): void {
    // Nested functions join the list as their enclosing bodies are scanned: visit them as body entries.
    for (let fn = 0; fn < this.fns.length; fn++) {
      if (this.fns[fn]!.index !== 0) continue;
      const b = this.body(fn);
      for (let e = 0; e < b.count; e++) visit(b, e);
    }
  }

  /**
   * The functions and inlined calls printed as `q` (see name()), as body entries. `refs` are the
   * section offsets where the unit refers to the name's string, or null when unknown: unless a
   * subprogram the unit scan read takes that name (then its inlined calls may be anywhere), only the
   * bodies holding a reference can have such an entry, and only those are scanned.
   */
  entriesNamed(q: NameQuery, refs: readonly number[] | null): Array<{ body: FunctionBody; e: number }> {
    const out: Array<{ body: FunctionBody; e: number }> = [];
    const visit = (b: FunctionBody, e: number) => {
      if (this.nameIs(b.nameSource(e) < 0 ? b.offset(e) : b.nameSource(e), q)) out.push({ body: b, e });
    };
    const t = this.names.records;
    let anywhere = refs === null;
    for (let r = 0; !anywhere && r < t.length; r += NAME_FIELDS) anywhere = this.nameIs(t[r + NAME_DIE]!, q);
    if (anywhere) {
      this.forEachEntry(visit);
      return out;
    }
    // Bodies read with the unit (no sibling to jump by) are visited whole: their bytes are not kept apart.
    const bodies = new Set<number>();
    this.fns.forEach((f, fn) => f.index === 0 && f.bodyStart < 0 && bodies.add(fn));
    for (const at of refs!) {
      const rel = at - this.unit.offset;
      const fn = this.fns.findIndex((f) => f.index === 0 && rel >= f.bodyStart && rel < f.bodyEnd);
      if (fn >= 0) bodies.add(fn);
    }
    for (const fn of bodies) {
      const b = this.body(fn);
      for (let e = 0; e < b.count; e++) visit(b, e);
    }
    return out;
  }

  /** The name entry `e` of a body is printed with. */
  entryName(b: FunctionBody, e: number): string | undefined {
    return this.name(b.nameSource(e) < 0 ? b.offset(e) : b.nameSource(e));
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

  /** name(die) === q.text, comparing the name attributes where they lie. */
  private nameIs(die: number, q: NameQuery): boolean {
    const t = this.names.records;
    const n = t.length / NAME_FIELDS;
    for (let depth = 0; depth < 8 && die >= 0; depth++) {
      const r = partitionPoint(n, (i) => t[i * NAME_FIELDS + NAME_DIE]! < die) * NAME_FIELDS;
      if (t[r + NAME_DIE] !== die) return this.unit.dwarf.functionName(die) === q.text;
      const form = t[r + NAME_FORM]!;
      if (form !== 0)
        return form === DW_FORM.string
          ? this.names.inline[t[r + NAME_VALUE]!] === q.text
          : q.is(this.unit, form, t[r + NAME_VALUE]!, undefined);
      die = t[r + NAME_ORIGIN]!;
    }
    return false;
  }

  private nameOf(r: number): string | undefined {
    const t = this.names.records;
    const v = t[r + NAME_VALUE]!;
    switch (t[r + NAME_FORM]) {
      case 0:
        return undefined;
      case DW_FORM.string:
        return this.names.inline[v];
      case DW_FORM.strp:
        return this.unit.dwarf.string('.debug_str', v);
      case DW_FORM.line_strp:
        return this.unit.dwarf.string('.debug_line_str', v);
      default:
        return this.unit.indexedString(v);
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
