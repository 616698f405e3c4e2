// A unit's functions and their inlined calls, built on first use (addr2line's design): concrete
// subprograms sorted by range start for binary search, each with its tree of inlined_subroutine
// instances (found through lexical blocks) for walking an inline chain.
import { DW_AT, DW_TAG } from './dwarf/constants.js';
import type { Die } from './dwarf/die.js';
import type { Range } from './dwarf/ranges.js';
import type { Unit } from './dwarf/unit.js';
import { partitionPoint } from './search.js';

export interface InlinedCall {
  die: Die;
  ranges: Range[];
  children: InlinedCall[];
}

export interface FunctionDef {
  die: Die;
  ranges: Range[];
  inlined: InlinedCall[];
}

interface Slot {
  start: bigint;
  end: bigint;
  fn: FunctionDef;
}

export class UnitFunctions {
  readonly all: FunctionDef[] = [];
  private readonly slots: Slot[] = [];

  constructor(readonly unit: Unit) {
    const visit = (d: Die) => {
      for (const c of d.children) {
        if (c.tag === DW_TAG.subprogram) {
          const ranges = unit.ranges(c);
          if (ranges.length > 0) {
            const fn: FunctionDef = { die: c, ranges, inlined: inlinedCalls(unit, c) };
            this.all.push(fn);
            for (const r of ranges) this.slots.push({ start: r.start, end: r.end, fn });
          }
        }
        if (c.tag === DW_TAG.subprogram || c.tag === DW_TAG.namespace || c.tag === DW_TAG.class_type || c.tag === DW_TAG.structure_type) visit(c);
      }
    };
    visit(unit.root);
    this.slots.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  }

  /** The concrete function whose ranges hold `pc` (the innermost when nested ones overlap). */
  find(pc: bigint): FunctionDef | undefined {
    const s = this.slots;
    const lo = partitionPoint(s.length, (i) => s[i]!.start <= pc);
    for (let i = lo - 1; i >= 0 && i >= lo - 64; i--) if (pc < s[i]!.end) return s[i]!.fn;
    return undefined;
  }

  /** The inlined calls containing `pc` inside `fn`, outermost first. */
  inlineChain(fn: FunctionDef, pc: bigint): InlinedCall[] {
    const chain: InlinedCall[] = [];
    let level = fn.inlined;
    for (;;) {
      const next = level.find((c) => c.ranges.some((r) => pc >= r.start && pc < r.end));
      if (!next) return chain;
      chain.push(next);
      level = next.children;
    }
  }
}

/** The inlined_subroutine DIEs under `d`, looking through lexical blocks, as a tree. */
function inlinedCalls(unit: Unit, d: Die): InlinedCall[] {
  const out: InlinedCall[] = [];
  for (const c of d.children) {
    if (c.tag === DW_TAG.inlined_subroutine) {
      out.push({ die: c, ranges: unit.ranges(c), children: inlinedCalls(unit, c) });
    } else if (c.tag === DW_TAG.lexical_block) {
      out.push(...inlinedCalls(unit, c));
    }
  }
  return out;
}

/** The name a function or inlined call is printed with: its own, or its abstract origin's. */
export function functionName(die: Die): string | undefined {
  return die.followOrigin((d) => d.string(DW_AT.linkage_name) ?? d.string(DW_AT.MIPS_linkage_name) ?? d.name);
}
