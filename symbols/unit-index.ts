// Which compile unit covers an address: unit ranges from .debug_aranges when the section lists the
// unit, else from the unit DIE's own ranges (one small read per unit); sorted once for binary
// search, as address keys in typed arrays.
import type { Dwarf } from './dwarf/dwarf.js';
import type { Unit } from './dwarf/unit.js';
import { UnitFunctions } from './functions.js';
import { partitionPoint } from './search.js';

export class UnitIndex {
  private readonly starts: Float64Array;
  private readonly ends: Float64Array;
  private readonly spanUnits: Unit[];
  /** maxEnd[i] = the largest end among spans[0..i]: bounds the backward scan for overlaps. */
  private readonly maxEnd: Float64Array;
  private readonly functionCache = new Map<Unit, UnitFunctions>();

  constructor(readonly dwarf: Dwarf) {
    const aranges = dwarf.aranges;
    const pairs: number[] = [];
    const units: Unit[] = [];
    for (const unit of dwarf.compileUnits) {
      const listed = aranges.get(unit.offset);
      const keys = listed && listed.length > 0 ? listed : dwarf.guardUnit(unit, 'address ranges', () => unit.rangeKeys(unit.unitDie), []);
      for (let i = 0; i < keys.length; i += 2) {
        if (!(keys[i + 1]! > keys[i]!)) continue;
        pairs.push(keys[i]!, keys[i + 1]!);
        units.push(unit);
      }
    }
    const order = units.map((_, i) => i).sort((a, b) => pairs[2 * a]! - pairs[2 * b]!);
    this.starts = new Float64Array(order.map((i) => pairs[2 * i]!));
    this.ends = new Float64Array(order.map((i) => pairs[2 * i + 1]!));
    this.spanUnits = order.map((i) => units[i]!);
    this.maxEnd = new Float64Array(order.length);
    let m = -Infinity;
    for (let i = 0; i < order.length; i++) this.maxEnd[i] = m = Math.max(m, this.ends[i]!);
  }

  /** Units whose ranges hold pc, the one with the latest-starting range first. */
  unitsAt(pc: bigint): Unit[] {
    return this.unitsAtKey(this.dwarf.keys.fromBigint(pc));
  }

  /** The same for an address key. */
  unitsAtKey(pc: number): Unit[] {
    const { starts, ends, maxEnd, spanUnits } = this;
    const lo = partitionPoint(starts.length, (i) => starts[i]! <= pc);
    const out: Unit[] = [];
    for (let i = lo - 1; i >= 0 && maxEnd[i]! > pc; i--) {
      if (pc < ends[i]! && !out.includes(spanUnits[i]!)) out.push(spanUnits[i]!);
    }
    return out;
  }

  functions(unit: Unit): UnitFunctions {
    let f = this.functionCache.get(unit);
    if (!f) {
      f = new UnitFunctions(unit);
      this.functionCache.set(unit, f);
    }
    return f;
  }
}
