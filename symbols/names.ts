// Name lookups over every compile unit, each part built on its first query. Functions come from
// the symbolizer's raw scans (every unit and every function body, no DIE trees), so `break NAME`
// on a kernel reads its 170 MB of DIEs once without decoding them; globals and types still come
// from decoding all units' DIEs.
import { DW_TAG } from './dwarf/constants.js';
import type { Die } from './dwarf/die.js';
import type { Dwarf } from './dwarf/dwarf.js';
import type { Unit } from './dwarf/unit.js';
import type { UnitIndex } from './unit-index.js';

const TYPE_TAGS: Record<number, string> = {
  [DW_TAG.structure_type]: 'struct ', [DW_TAG.union_type]: 'union ', [DW_TAG.enumeration_type]: 'enum ',
  [DW_TAG.class_type]: 'class ', [DW_TAG.typedef]: '', [DW_TAG.base_type]: '',
};

/** A function with code or an inlined call of it: its unit and the .debug_info offset of its DIE. */
export interface FunctionRef {
  unit: Unit;
  offset: number;
  inlined: boolean;
}

export class NameIndex {
  private functionMap: Map<string, FunctionRef[]> | undefined;
  private globalMap: Map<string, Die[]> | undefined;
  private typeMap: Map<string, Die[]> | undefined;

  constructor(private readonly dwarf: Dwarf, private readonly index: UnitIndex) {}

  /** Concrete subprograms and inlined_subroutine instances with code, by function name. */
  get functions(): Map<string, FunctionRef[]> {
    if (!this.functionMap) {
      const map = new Map<string, FunctionRef[]>();
      for (const unit of this.dwarf.compileUnits) {
        const fns = this.index.functions(unit);
        fns.forEachEntry((offset, inlined) => add(map, fns.name(offset), { unit, offset, inlined }));
      }
      this.functionMap = map;
    }
    return this.functionMap;
  }

  /** Unit-level variables by name. */
  get globals(): Map<string, Die[]> {
    if (!this.globalMap) this.decodeAll();
    return this.globalMap!;
  }

  /** Type DIEs by C name: `struct thread`, `enum color`, `size_t`, `int`. */
  get types(): Map<string, Die[]> {
    if (!this.typeMap) this.decodeAll();
    return this.typeMap!;
  }

  private decodeAll(): void {
    const globals = new Map<string, Die[]>();
    const types = new Map<string, Die[]>();
    for (const unit of this.dwarf.compileUnits) {
      for (const d of unit.dies) {
        if (d.tag === DW_TAG.variable && d.parent?.parent === undefined) add(globals, d.resolvedName, d);
        else if (d.tag in TYPE_TAGS && d.name !== undefined) add(types, TYPE_TAGS[d.tag] + d.name, d);
      }
    }
    this.globalMap = globals;
    this.typeMap = types;
  }
}

function add<T>(map: Map<string, T[]>, name: string | undefined, v: T): void {
  if (name === undefined) return;
  const list = map.get(name);
  if (list) list.push(v);
  else map.set(name, [v]);
}
