// Which compile unit covers an address: unit ranges from .debug_aranges when the section lists the
// unit, else from the unit DIE's own ranges; sorted once for binary search.
import type { Dwarf } from './dwarf/dwarf.js';
import type { Unit } from './dwarf/unit.js';
import { UnitFunctions } from './functions.js';
import { partitionPoint } from './search.js';

interface Span {
  start: bigint;
  end: bigint;
  unit: Unit;
}

export class UnitIndex {
  private readonly spans: Span[] = [];
  /** maxEnd[i] = the largest end among spans[0..i]: bounds the backward scan for overlaps. */
  private readonly maxEnd: bigint[] = [];
  private readonly functionCache = new Map<Unit, UnitFunctions>();

  constructor(readonly dwarf: Dwarf) {
    const aranges = dwarf.aranges;
    for (const unit of dwarf.compileUnits) {
      const listed = aranges.get(unit.offset);
      const ranges = listed && listed.length > 0 ? listed : unit.ranges(unit.unitDie);
      for (const r of ranges) this.spans.push({ start: r.start, end: r.end, unit });
    }
    this.spans.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    let m = 0n;
    for (const s of this.spans) {
      if (s.end > m) m = s.end;
      this.maxEnd.push(m);
    }
  }

  /** Units whose ranges hold pc, the one with the latest-starting range first. */
  unitsAt(pc: bigint): Unit[] {
    const s = this.spans;
    const lo = partitionPoint(s.length, (i) => s[i]!.start <= pc);
    const out: Unit[] = [];
    for (let i = lo - 1; i >= 0 && this.maxEnd[i]! > pc; i--) {
      if (pc < s[i]!.end && !out.includes(s[i]!.unit)) out.push(s[i]!.unit);
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
