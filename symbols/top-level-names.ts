// The names at every unit's top level (variables, named types and enumerators), found in one walk of all units
// that skips function bodies and struct members by DW_AT_sibling, then answered from maps: what
// `print NAME`, `ptype NAME` and the C parser's "is this word a type?" ask of a whole program. On
// Debian's vmlinux (174 MB of DIEs) a name costs one walk of each unit's top level in total instead
// of a search of all of .debug_info per name (5-40 s for a short one like `count`, whose string is
// the tail of hundreds of others). Types declared inside a function are not here (gdb finds those
// only in that function's scope too).
import { DW_FORM, DW_TAG } from './dwarf/constants.js';
import { unitTopLevel } from './dwarf/die-scan.js';
import type { Dwarf } from './dwarf/dwarf.js';
import type { NameQuery } from './dwarf/name-query.js';
import type { Unit } from './dwarf/unit.js';
import type { NameAttr } from './dwarf/die-scan.js';
import type { DieRef } from './names.js';

/** A name's key: its .debug_str offset where it has one (compared as a number), else its text. */
type Key = number | string;

/** The type groups lookups tell apart: typedef or base type, then each tag kind. */
export const TYPE_GROUPS = [
  [DW_TAG.typedef, DW_TAG.base_type],
  [DW_TAG.structure_type],
  [DW_TAG.union_type],
  [DW_TAG.enumeration_type],
  [DW_TAG.class_type],
] as const;
const GROUP_OF = new Map<number, number>(TYPE_GROUPS.flatMap((tags, g) => tags.map((t) => [t, g] as [number, number])));

/** The first definition and first declaration of a name, in unit order. */
interface FirstOf {
  def?: DieRef;
  decl?: DieRef;
}

const utf8 = new TextDecoder();

export class TopLevelNames {
  private readonly variables = new Map<Key, FirstOf>();
  /** Subprograms with code (out-of-line functions, GCC's clones under their origin's name). */
  private readonly functions = new Map<Key, FirstOf>();
  /** Enumerators of top-level enums: the enumeration type's DIE (the first in unit order). */
  private readonly enumerators = new Map<Key, FirstOf>();
  /** Per type group (TYPE_GROUPS order). */
  private readonly types = TYPE_GROUPS.map(() => new Map<Key, FirstOf>());

  /** Units walked so far, in order (lookups finish the walk first). */
  private walked = 0;

  /** `originName` names a variable that takes its name from another DIE. */
  constructor(
    private readonly dwarf: Dwarf,
    private readonly originName: (offset: number) => string | undefined,
  ) {}

  get complete(): boolean {
    return this.walked >= this.dwarf.compileUnits.length;
  }

  /** Walks units until all are walked or `deadline` (performance.now()) has passed; true when complete. */
  walk(deadline = Infinity): boolean {
    const units = this.dwarf.compileUnits;
    while (this.walked < units.length && performance.now() < deadline) this.add(units[this.walked++]!);
    return this.complete;
  }

  private add(unit: Unit): void {
    let found;
    try {
      found = unitTopLevel(unit);
    } catch {
      return; // a damaged unit: the others still answer
    }
    for (const [list, map] of [
      [found.variables, this.variables],
      [found.functions, this.functions],
    ] as const) {
      for (const v of list) {
        const key = v.name ? keyOf(unit, v.name) : v.origin >= 0 ? this.originName(v.origin) : undefined;
        if (key !== undefined) note(map, key, { unit, offset: v.offset }, v.defines);
      }
    }
    for (const e of found.enumerators) {
      const key = keyOf(unit, e.name);
      if (key !== undefined) note(this.enumerators, key, { unit, offset: e.enumOffset }, true);
    }
    for (const t of found.types) {
      const key = keyOf(unit, t.name);
      if (key !== undefined) note(this.types[GROUP_OF.get(t.tag)!]!, key, { unit, offset: t.offset }, !t.declaration);
    }
  }

  /** The variable `q` names: the first definition (a location or constant) in unit order, else the first declaration. */
  variable(q: NameQuery): DieRef | undefined {
    const f = this.first(this.variables, q);
    return f.def ?? f.decl;
  }

  /** The first function with code named `q`, in unit order. */
  function(q: NameQuery): DieRef | undefined {
    return this.first(this.functions, q).def;
  }

  /** The enumeration type that first (in unit order) declares an enumerator named `q`. */
  enumerator(q: NameQuery): DieRef | undefined {
    return this.first(this.enumerators, q).def;
  }

  /** The first definition and first declaration of a type named `q` in one group of TYPE_GROUPS. */
  type(group: number, q: NameQuery): FirstOf {
    return this.first(this.types[group]!, q);
  }

  /** Over every key the name has (a tail of a longer string has its own offset): the earliest of each. */
  private first(map: Map<Key, FirstOf>, q: NameQuery): FirstOf {
    this.walk();
    const out: FirstOf = {};
    for (const key of [...q.str, q.text]) {
      const f = map.get(key);
      if (!f) continue;
      if (f.def && (!out.def || f.def.offset < out.def.offset)) out.def = f.def;
      if (f.decl && (!out.decl || f.decl.offset < out.decl.offset)) out.decl = f.decl;
    }
    return out;
  }
}

function note(map: Map<Key, FirstOf>, key: Key, ref: DieRef, defines: boolean): void {
  let f = map.get(key);
  if (!f) map.set(key, (f = {}));
  if (defines) f.def ??= ref;
  else f.decl ??= ref;
}

function keyOf(unit: Unit, a: NameAttr): Key | undefined {
  switch (a.form) {
    case DW_FORM.strp:
      return a.value;
    case DW_FORM.strx:
    case DW_FORM.strx1:
    case DW_FORM.strx2:
    case DW_FORM.strx3:
    case DW_FORM.strx4:
    case DW_FORM.GNU_str_index:
      return unit.indexedStringOffset(a.value);
    case DW_FORM.string:
      return a.inline && utf8.decode(a.inline);
    case DW_FORM.line_strp:
      return unit.dwarf.string('.debug_line_str', a.value);
    default:
      return undefined;
  }
}
