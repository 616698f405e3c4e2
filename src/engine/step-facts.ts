// What stepping asks the symbols about a pc (its line, its inlined calls, a callee's body start),
// remembered per program: a `next` through a loop asks about the same few pcs at every stop, and
// the answers never change while the program is loaded.
import type { StepLine } from '../../symbols/index.js';
import { inlineView, type InlineView } from './inline.js';
import type { Program } from './program.js';

/** Enough for a function's worth of stops; past it the memo starts over (no unbounded growth). */
const MAX_ENTRIES = 4096;

const byProgram = new WeakMap<Program, StepFacts>();

/** The program's memo, shared by the stepper and the stop policy (which places every stop). */
export function stepFacts(program: Program): StepFacts {
  let facts = byProgram.get(program);
  if (!facts) byProgram.set(program, (facts = new StepFacts(program)));
  return facts;
}

class StepFacts {
  private readonly lines = new Map<bigint, StepLine | undefined>();
  private readonly extents = new Map<bigint, { start: bigint; end: bigint } | undefined>();
  private readonly views = new Map<bigint, InlineView>();
  private readonly bodies = new Map<bigint, bigint | undefined>();

  constructor(private readonly program: Program) {}

  lineAt(pc: bigint): StepLine | undefined {
    return memo(this.lines, pc, () => this.program.symbols.stepLineAt(pc));
  }

  inlineExtent(pc: bigint): { start: bigint; end: bigint } | undefined {
    return memo(this.extents, pc, () => this.program.symbols.inlineExtentAt(pc));
  }

  /** The inline chain at pc as a stop there shows it (no user breakpoint asking to see inside). */
  inlineAt(pc: bigint): InlineView {
    return memo(this.views, pc, () => inlineView(this.program.symbols, pc));
  }

  functionBodyStart(pc: bigint): bigint | undefined {
    const symbols = this.program.symbols;
    return memo(this.bodies, pc, () => (symbols.lineAt(pc) ? symbols.functionBodyStart(pc) : undefined));
  }
}

function memo<V>(map: Map<bigint, V>, pc: bigint, compute: () => V): V {
  if (map.has(pc)) return map.get(pc) as V;
  if (map.size >= MAX_ENTRIES) map.clear();
  const v = compute();
  map.set(pc, v);
  return v;
}
