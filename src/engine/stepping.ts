// Source-line stepping without thousands of single steps: temporary breakpoints on every
// control-flow instruction of the current line and on its end, a continue, then one single step
// through whichever branch, call or return was reached. Stops are only accepted in the stepping
// frame (same CFA), so other guest threads running the same code, and interrupt handlers that call
// it, never end a step. The rules for where a step ends follow gdb's infrun.
import type { DecodedInstruction } from './disasm.js';
import type { Session, StopInfo } from './session.js';

export interface LineRange {
  start: bigint;
  end: bigint;
  line: number;
  file: string;
}

/** What stepping needs from symbols and the unwinder, for one stop of one vCPU. */
export interface SteppingSupport {
  /** The line-table range containing pc (rows of the same line merged), or undefined without line info. */
  lineRangeAt(pc: bigint): Promise<LineRange | undefined>;
  /** True when pc is where a line-table row with is_stmt begins. */
  isStatementStart(pc: bigint): Promise<boolean>;
  /** Where a breakpoint on this function would go (after its prologue), when it has line info. */
  functionBodyStart(pc: bigint): Promise<bigint | undefined>;
  /** The CFA of the innermost frame of `thread` (identifies the frame across stops). */
  cfa(thread: number): Promise<bigint | undefined>;
  /** Innermost frame's return address and CFA (for finish), undefined at the outermost frame. */
  caller(thread: number): Promise<{ pc: bigint; cfa: bigint } | undefined>;
}

export type StepKind = 'into' | 'over';

const MAX_ROUNDS = 100_000;

export async function stepLine(session: Session, support: SteppingSupport, kind: StepKind): Promise<StopInfo> {
  const thread = session.selectedThread;
  let pc = (await session.target.readRegisters(thread)).get('rip')!;
  let range = await support.lineRangeAt(pc);
  if (!range) {
    // No line info here (assembly, a library without -g): leave this function like gdb's `step`.
    const out = await support.caller(thread);
    if (!out) return session.stepInstruction(kind === 'over');
    return session.runTo(out.pc, out.cfa);
  }
  let frameCfa = await support.cfa(thread);
  let currentLine = range.line;
  let current = thread;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    // Run to the first control-flow instruction (or the end) of the range, in this frame.
    const stop = await runThroughRange(session, support, current, pc, range, frameCfa);
    if (stop.kind !== 'step' || stop.pc === undefined) return stop;
    current = stop.thread;
    session.selectedThread = current;
    pc = stop.pc;
    if (pc < range.start || pc >= range.end) {
      const decided = await arrived(support, pc, currentLine);
      if (decided === 'stop') return stop;
      range = decided;
      currentLine = decided.line;
      frameCfa = await support.cfa(current);
      continue;
    }
    // At a branch, call or return inside the range.
    const insn = (await session.disassembleAt(pc, 1))[0]!;
    if (isCall(insn)) {
      const rsp = (await session.target.readRegisters(current)).get('rsp')!;
      const returnTo = pc + BigInt(insn.length);
      if (kind === 'into') {
        const entered = await session.stepInstruction();
        if (entered.kind !== 'step' || entered.pc === undefined) return entered;
        const body = await support.functionBodyStart(entered.pc);
        // A callee with line info: stop after its prologue, in this call (its CFA is our rsp).
        if (body !== undefined) return session.runToAny([body], async (t) => (await support.cfa(t)) === rsp);
      }
      const back = await session.runTo(returnTo, rsp);
      if (back.kind !== 'step') return back;
      // The call may have slept: the thread can come back on another vCPU.
      current = back.thread;
      pc = back.pc!;
      // A call that was the line's last instruction returns into the next line.
      if (pc >= range.start && pc < range.end) continue;
      const after = await arrived(support, pc, currentLine);
      if (after === 'stop') return back;
      range = after;
      currentLine = after.line;
      frameCfa = await support.cfa(current);
      continue;
    }
    const stepped = await session.stepInstruction();
    if (stepped.kind !== 'step' || stepped.pc === undefined) return stepped;
    current = stepped.thread;
    pc = stepped.pc;
    if (pc >= range.start && pc < range.end) {
      // A jump back to the start of the line starts it again: gdb keeps going (same line).
      continue;
    }
    const decided = await arrived(support, pc, currentLine);
    if (decided === 'stop') return stepped;
    range = decided;
    currentLine = decided.line;
    frameCfa = await support.cfa(current);
  }
  throw new Error(`step did not finish within ${MAX_ROUNDS} rounds`);
}

/** Outside the old range: stop at the start of a statement of another line; mid-line, keep going. */
async function arrived(support: SteppingSupport, pc: bigint, currentLine: number): Promise<'stop' | LineRange> {
  const range = await support.lineRangeAt(pc);
  if (!range) return 'stop';
  if (pc === range.start && range.line !== currentLine && (await support.isStatementStart(pc))) return 'stop';
  return range;
}

function isCall(insn: DecodedInstruction): boolean {
  return insn.flow === 'call' || insn.flow === 'indirectCall';
}

function isFlow(insn: DecodedInstruction): boolean {
  return insn.flow !== 'next' && insn.flow !== 'other';
}

/**
 * Continues until this frame reaches a control-flow instruction of the range or leaves the range
 * by falling off its end. Returns a 'step' stop at that pc (or whatever stop got in the way).
 */
async function runThroughRange(session: Session, support: SteppingSupport, thread: number, pc: bigint, range: LineRange, frameCfa: bigint | undefined): Promise<StopInfo> {
  const inRange = (await session.disassembleRange(range.start, range.end)).filter((i) => i.address + BigInt(i.length) <= range.end);
  const here = inRange.find((i) => i.address === pc);
  if (here && isFlow(here)) return { kind: 'step', thread, pc };
  const stops = new Set<bigint>(inRange.filter(isFlow).map((i) => i.address));
  stops.add(range.end);
  return session.runToAny([...stops], async (t) => frameCfa === undefined || (await support.cfa(t)) === frameCfa);
}
