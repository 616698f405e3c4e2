// Name lookups over every compile unit (functions, globals, types), built on the first query by
// decoding all units' DIEs once.
import { DW_AT, DW_TAG } from './dwarf/constants.js';
import type { Die } from './dwarf/die.js';
import type { Dwarf } from './dwarf/dwarf.js';

const TYPE_TAGS: Record<number, string> = {
  [DW_TAG.structure_type]: 'struct ', [DW_TAG.union_type]: 'union ', [DW_TAG.enumeration_type]: 'enum ',
  [DW_TAG.class_type]: 'class ', [DW_TAG.typedef]: '', [DW_TAG.base_type]: '',
};

export class NameIndex {
  /** Concrete subprograms and inlined_subroutine instances by function name. */
  readonly functions = new Map<string, Die[]>();
  /** Unit-level variables by name. */
  readonly globals = new Map<string, Die[]>();
  /** Type DIEs by C name: `struct thread`, `enum color`, `size_t`, `int`. */
  readonly types = new Map<string, Die[]>();

  constructor(dwarf: Dwarf) {
    for (const unit of dwarf.compileUnits) {
      for (const d of unit.dies) {
        if (d.tag === DW_TAG.subprogram || d.tag === DW_TAG.inlined_subroutine) {
          if (d.has(DW_AT.low_pc) || d.has(DW_AT.ranges)) add(this.functions, d.functionName, d);
        } else if (d.tag === DW_TAG.variable && d.parent?.parent === undefined) {
          add(this.globals, d.resolvedName, d);
        } else if (d.tag in TYPE_TAGS && d.name !== undefined) {
          add(this.types, TYPE_TAGS[d.tag] + d.name, d);
        }
      }
    }
  }
}

function add(map: Map<string, Die[]>, name: string | undefined, d: Die): void {
  if (name === undefined) return;
  const list = map.get(name);
  if (list) list.push(d);
  else map.set(name, [d]);
}
