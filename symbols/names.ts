// Lookups by name. Variables and types come from the whole-program index of top-level names
// (top-level-names.ts), built by the first such lookup. Functions, one name at a time: a unit can hold a DIE of a name only if its DIEs refer to
// the name's string: to its offset in .debug_str (or .debug_line_str, or through
// .debug_str_offsets) or to the string inline. Searching the raw .debug_info for those bytes
// (natively, a piece at a time) gives the units to look in, those where a walk to each find lands
// on a name attribute's value, and only they are walked, raw: `break
// NAME` or `print VAR` on a kernel reads its 170 MB of DIEs once at memory speed and scans a
// handful of units. Where names may come from another unit (DW_FORM_ref_addr origins) every unit
// is a candidate. Listing every name (completion) scans every unit.
import { DW_AT, DW_FORM } from './dwarf/constants.js';
import { nameValuesAt, unitVariables, type NameAttr } from './dwarf/die-scan.js';
import type { Dwarf } from './dwarf/dwarf.js';
import { NameQuery } from './dwarf/name-query.js';
import type { Range } from './dwarf/ranges.js';
import type { Unit } from './dwarf/unit.js';
import { TopLevelNames, TYPE_GROUPS } from './top-level-names.js';
import type { UnitIndex } from './unit-index.js';

/** A function with code or an inlined call of it: its unit, the .debug_info offset of its DIE, and its ranges in DW_AT_ranges order. */
interface FunctionRef {
  unit: Unit;
  offset: number;
  inlined: boolean;
  ranges: Range[];
}

/** A DIE by its unit and .debug_info offset. */
export interface DieRef {
  unit: Unit;
  offset: number;
}

/** A unit that may hold a name, with the section offsets where it refers to the name's string (null: anywhere). */
interface Candidate {
  unit: Unit;
  refs: number[] | null;
}

const utf8 = new TextDecoder();
/** A tag keyword's group in TYPE_GROUPS. */
const TAG_GROUPS: Record<string, number> = { struct: 1, union: 2, enum: 3, class: 4 };

export class NameIndex {
  private readonly queries = new Map<string, { q: NameQuery; units: Candidate[] }>();
  private readonly functionCache = new Map<string, FunctionRef[]>();
  private readonly globalCache = new Map<string, DieRef | undefined>();
  private readonly typeCache = new Map<string, DieRef | undefined>();
  private functionList: string[] | undefined;
  private topLevelNames: TopLevelNames | undefined;
  private preparing = false;
  private globalList: string[] | undefined;

  constructor(
    private readonly dwarf: Dwarf,
    private readonly index: UnitIndex,
  ) {}

  /** Concrete subprograms and inlined_subroutine instances with code printed as `name` (linkage name first), in unit order. */
  functions(name: string): readonly FunctionRef[] {
    let list = this.functionCache.get(name);
    if (!list) {
      list = [];
      const { q, units } = this.lookup(name);
      for (const { unit, refs } of this.withOrigins(units)) {
        const fns = this.index.functions(unit);
        for (const { body, e } of fns.entriesNamed(q, refs))
          list.push({ unit, offset: body.offset(e), inlined: body.inlined(e), ranges: fns.bodyRanges(body, e) });
      }
      this.functionCache.set(name, list);
    }
    return list;
  }

  /** The unit-level variable `name`: the first with a location or constant value (a definition), else the first declaration. */
  global(name: string): DieRef | undefined {
    if (!this.globalCache.has(name)) this.globalCache.set(name, this.topLevel.variable(this.query(name)));
    return this.globalCache.get(name);
  }

  /** The enumeration type DIE of a top-level enum with an enumerator `name` (the first in unit order). */
  enumerator(name: string): DieRef | undefined {
    return this.topLevel.enumerator(this.query(name));
  }

  /**
   * The type DIE of a C type name (`struct thread`, `size_t`, `int`): the first definition, else
   * the first declaration. A bare name is a typedef or base type, else a struct, union, enum or
   * class tag (in that order).
   */
  type(key: string): DieRef | undefined {
    if (this.typeCache.has(key)) return this.typeCache.get(key);
    const m = /^(struct|union|enum|class) (.+)$/.exec(key);
    const q = this.query(m ? m[2]! : key);
    const groups = m ? [TAG_GROUPS[m[1]!]!] : TYPE_GROUPS.map((_g, i) => i);
    const found = groups.map((g) => this.topLevel.type(g, q));
    // A bare name that is a typedef or base type anywhere is that (a definition, else its declaration).
    const first = found.find((f) => f.def || f.decl);
    const ref = !m && first === found[0] ? (first?.def ?? first?.decl) : (found.find((f) => f.def)?.def ?? found.find((f) => f.decl)?.decl);
    this.typeCache.set(key, ref);
    return ref;
  }

  /** The first concrete (out-of-line) function printed as `name`, from the top-level index; for `print NAME`. */
  concreteFunction(name: string): FunctionRef | undefined {
    const q = this.query(name);
    const ref = this.topLevel.function(q);
    if (!ref) return undefined;
    const fns = this.index.functions(ref.unit);
    const hit = fns.entriesNamed(q, null).find(({ body, e }) => body.offset(e) === ref.offset);
    return hit && { unit: ref.unit, offset: ref.offset, inlined: false, ranges: fns.bodyRanges(hit.body, hit.e) };
  }

  /**
   * Builds the whole-program index of top-level names in slices of about `sliceMs` between which
   * other work runs (vmlinux: 2352 units, 1.2 million type DIEs, seconds of CPU): started while the
   * guest runs, so that the first `print` after a stop finds it built. A lookup before it is done
   * finishes it at once.
   */
  async prepare(sliceMs = 10): Promise<void> {
    this.preparing = true;
    while (this.preparing && !this.topLevel.walk(performance.now() + sliceMs)) {
      // A ref'd immediate: an unref'd one lets the loop block in poll until other I/O (a second per slice).
      await new Promise<void>((r) => setImmediate(r));
    }
  }

  /** Ends a prepare() at its next slice (the file is being closed: the process may exit). */
  stopPreparing(): void {
    this.preparing = false;
  }

  private get topLevel(): TopLevelNames {
    return (this.topLevelNames ??= new TopLevelNames(this.dwarf, (o) => this.originName(o)));
  }

  private query(name: string): NameQuery {
    return this.queries.get(name)?.q ?? new NameQuery(this.dwarf, name);
  }

  /** Every name functions() knows, scanning every unit and function body. */
  functionNames(): string[] {
    if (!this.functionList) {
      const names = new Set<string>();
      for (const unit of this.dwarf.compileUnits) {
        const fns = this.index.functions(unit);
        fns.forEachEntry((b, e) => {
          const n = fns.entryName(b, e);
          if (n !== undefined) names.add(n);
        });
      }
      this.functionList = [...names].sort();
    }
    return this.functionList;
  }

  /** Every name global() knows, scanning every unit's top level. */
  globalNames(): string[] {
    if (!this.globalList) {
      const names = new Set<string>();
      for (const unit of this.dwarf.compileUnits) {
        for (const v of unitVariables(unit)) {
          const n = v.name ? nameText(unit, v.name) : this.originName(v.origin);
          if (n !== undefined) names.add(n);
        }
      }
      this.globalList = [...names].sort();
    }
    return this.globalList;
  }

  /** The name's query and the units whose DIEs refer to its string, in unit order. */
  private lookup(name: string): { q: NameQuery; units: Candidate[] } {
    let hit = this.queries.get(name);
    if (!hit) {
      const q = new NameQuery(this.dwarf, name);
      hit = { q, units: name === '' ? [] : this.candidates(q) };
      this.queries.set(name, hit);
    }
    return hit;
  }

  private candidates(q: NameQuery): Candidate[] {
    const units = this.dwarf.compileUnits;
    const sizes = new Set(units.map((u) => u.offsetSize));
    const refs = new Map<Unit, number[] | null>();
    // Units a .debug_names index covers are candidates when it lists the name there; only the
    // others are searched.
    const indexed = this.indexedUnits(q.text, refs);
    for (const [from, to] of spans(units.filter((u) => !indexed.has(u.offset)))) {
      for (const at of this.dwarf.findBytes('.debug_info', q.needles(sizes), from, to)) {
        const unit = this.dwarf.unitAt(at);
        if (!unit) continue;
        const list = refs.get(unit);
        if (list) list.push(at);
        else if (list === undefined) refs.set(unit, [at]);
      }
    }
    // Most finds are other values that happen to hold the same bytes (a kernel: 54 of 56 units
    // for start_kernel's string offset): only a name attribute's value counts.
    for (const [unit, list] of refs) {
      if (list === null) continue;
      const named = nameValuesAt(unit, list);
      if (named.length) refs.set(unit, named);
      else refs.delete(unit);
    }
    // Names by index (DW_FORM_strx): units whose part of .debug_str_offsets holds the offset.
    const byIndex =
      q.str.size > 0 && this.dwarf.sectionSize('.debug_str_offsets') > 0
        ? this.dwarf.findBytes('.debug_str_offsets', q.indexNeedles(sizes))
        : [];
    if (byIndex.length > 0) {
      // A unit's entries run from its base to the next larger base.
      const bases = units
        .filter((u) => u.version >= 5)
        .map((u) => ({ u, base: u.strOffsetsBase }))
        .sort((a, b) => a.base - b.base);
      for (let i = 0, next = 0; i < bases.length; i++) {
        const { u, base } = bases[i]!;
        while (next < bases.length && bases[next]!.base <= base) next++;
        const end = next < bases.length ? bases[next]!.base : Infinity;
        if (!indexed.has(u.offset) && byIndex.some((p) => p >= base && p < end)) refs.set(u, null);
      }
    }
    return units.flatMap((unit) => (refs.has(unit) ? [{ unit, refs: refs.get(unit)! }] : []));
  }

  /**
   * The units .debug_names covers (none without an index, or with one that does not read), and
   * into `refs` those of them it lists `name` in (walked whole: the index gives DIEs, not the
   * attribute values a unit's walk is narrowed to).
   */
  private indexedUnits(name: string, refs: Map<Unit, number[] | null>): ReadonlySet<number> {
    const index = this.dwarf.nameIndex;
    if (!index || name === '') return new Set();
    try {
      const listed = index.lookup(name);
      for (const e of listed) {
        const unit = this.dwarf.unitAt(e.unitOffset);
        if (unit) refs.set(unit, null);
      }
      return index.units;
    } catch {
      refs.clear();
      return new Set();
    }
  }

  /** The candidates for a name a DIE may take from its origin: every unit when origins cross units. */
  private withOrigins(units: Candidate[]): readonly Candidate[] {
    return this.dwarf.originsCrossUnits ? this.dwarf.compileUnits.map((unit) => ({ unit, refs: null })) : units;
  }

  /** The DW_AT_name of the DIE at `offset` or of the DIEs it defers to (attributes only, no DIE tree). */
  private originName(offset: number): string | undefined {
    for (let at = offset, depth = 0; at >= 0 && depth < 8; depth++) {
      const d = this.dwarf.unitAt(at)?.dieHeader(at);
      if (!d) return undefined;
      const name = d.name;
      if (name !== undefined) return name;
      const next = d.attr(DW_AT.abstract_origin) ?? d.attr(DW_AT.specification);
      at = next && typeof next.value === 'number' && next.form !== DW_FORM.ref_sig8 ? next.value : -1;
    }
    return undefined;
  }
}

/** The [from, to) section spans that runs of adjacent units make (no index: the whole of .debug_info). */
function spans(units: readonly Unit[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const u of [...units].sort((a, b) => a.offset - b.offset)) {
    const last = out[out.length - 1];
    if (last && last[1] === u.offset) last[1] = u.end;
    else out.push([u.offset, u.end]);
  }
  return out;
}

function nameText(unit: Unit, a: NameAttr): string | undefined {
  switch (a.form) {
    case DW_FORM.string:
      return a.inline && utf8.decode(a.inline);
    case DW_FORM.strp:
      return unit.dwarf.string('.debug_str', a.value);
    case DW_FORM.line_strp:
      return unit.dwarf.string('.debug_line_str', a.value);
    case DW_FORM.strx:
    case DW_FORM.strx1:
    case DW_FORM.strx2:
    case DW_FORM.strx3:
    case DW_FORM.strx4:
    case DW_FORM.GNU_str_index:
      return unit.indexedString(a.value);
    default:
      return undefined;
  }
}
