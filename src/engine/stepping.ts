// Source-line stepping without thousands of single steps: temporary breakpoints where the step
// range can be left (its end, the targets of its direct jumps elsewhere in the function) and in
// front of the instructions that leave it for places not known in advance (returns, indirect
// jumps, calls `step` may enter), a continue, then one single step through whichever of those was
// reached; loops inside the range and calls `next` steps over run at full speed. Stops are only
// accepted in the stepping frame (same CFA), so other guest threads running the same code, and
// interrupt handlers that call it, never end a step. Where a step ends follows gdb's infrun, inlined calls included: a step
// range never crosses the start or end of an inlined call, and at each such boundary the same
// questions are asked as gdb asks (entered an inlined call from its call site? still inside one?
// at the start of a statement of another line?).
import type { StepLine } from '../../symbols/index.js';
import type { MemoryRange, Target } from '../targets/index.js';
import type { CodeView } from './code-view.js';
import type { DecodedInstruction } from './disasm.js';
import type { InlineView } from './inline.js';
import type { GuestOwner, RunToOptions } from './runner.js';
import type { StopEvent } from './stop-event.js';

/** How stepping moves the guest: one instruction, or running to addresses in one frame. */
export interface StepDriver {
  readonly target: Target;
  readonly code: CodeView;
  /** One instruction; `over` runs a call to its return instead of entering it. `readAtStop`: see Target.resume. */
  stepInstruction(thread: number, over?: boolean, readAtStop?: readonly MemoryRange[]): Promise<StopEvent>;
  runTo(address: bigint, sp: bigint, thread: number, opts?: RunToOptions): Promise<StopEvent>;
  runToAny(addresses: bigint[], accept: (thread: number) => Promise<boolean>, thread: number, opts?: RunToOptions): Promise<StopEvent>;
  guestOwner(thread: number): Promise<GuestOwner>;
}

/** What stepping needs from symbols and the unwinder, for one stop of one vCPU. */
export interface SteppingSupport {
  /** pc's line as gdb reads it, or undefined without line info. */
  lineAt(pc: bigint): Promise<StepLine | undefined>;
  /** The addresses around pc within which the same inlined calls are in progress. */
  inlineExtent(pc: bigint): Promise<{ start: bigint; end: bigint } | undefined>;
  /** The inline chain at pc and how many of its frames a stop there hides. */
  inlineAt(pc: bigint): Promise<InlineView>;
  /** Where a breakpoint on this function would go (after its prologue), when it has line info. */
  functionBodyStart(pc: bigint): Promise<bigint | undefined>;
  /** The CFA of the innermost frame of `thread` (identifies the frame across stops). */
  cfa(thread: number): Promise<bigint | undefined>;
  /** Innermost physical frame's return address and CFA (for finish), undefined at the outermost frame. */
  caller(thread: number): Promise<{ pc: bigint; cfa: bigint } | undefined>;
}

export type StepKind = 'into' | 'over';

/** A frame as gdb's frame ids tell frames apart: the physical frame, and the (inlined) block in it. */
interface FrameId {
  cfa: bigint | undefined;
  key: number | undefined;
}

/** gdb's stepping state: keep going while in `range`; `frame`, `file` and `line` are where the step started. */
interface Plan {
  kind: StepKind;
  range: { start: bigint; end: bigint };
  frame: FrameId;
  file: string | undefined;
  /** 0: no line (finish from an inlined call stops at the next statement start). */
  line: number;
}

const MAX_ROUNDS = 100_000;

/** `step` / `next` from the innermost frame of the selected thread, which hides `hidden` inlined frames. */
export async function stepLine(
  driver: StepDriver,
  support: SteppingSupport,
  thread: number,
  kind: StepKind,
  hidden: number,
): Promise<StopEvent> {
  const pc = (await driver.target.readRegisters(thread)).get('rip')!;
  // At the call site of an inlined call, `step` enters it without running (gdb's step_into_inline_frame).
  if (kind === 'into' && hidden > 0) return { kind: 'step', thread, pc, hiddenInline: hidden - 1 };
  const sal = await support.lineAt(pc);
  if (!sal) {
    // No line info here (assembly, a library without -g): leave this function like gdb's `step`.
    const out = await support.caller(thread);
    if (!out) return driver.stepInstruction(thread, kind === 'over');
    return driver.runTo(out.pc, out.cfa, thread);
  }
  const view = await support.inlineAt(pc);
  const frame = view.frames[hidden];
  const at = hidden > 0 && frame ? { file: frame.file, line: frame.line } : { file: sal.file, line: sal.line };
  const range = clamp(sal, await support.inlineExtent(pc));
  const start = await begin(driver, support, thread, range);
  const plan: Plan = { kind, range, frame: { cfa: start.cfa, key: frame?.key }, ...at };
  return follow(driver, support, thread, pc, plan, start);
}

/** `until` without an argument: `next`, but a jump back to an earlier line of the function does not stop it. */
export async function stepUntil(
  driver: StepDriver,
  support: SteppingSupport,
  thread: number,
  hidden: number,
  functionStart: bigint | undefined,
): Promise<StopEvent> {
  const pc = (await driver.target.readRegisters(thread)).get('rip')!;
  const sal = await support.lineAt(pc);
  if (!sal || functionStart === undefined || hidden > 0) return stepLine(driver, support, thread, 'over', hidden);
  const view = await support.inlineAt(pc);
  const range = { start: functionStart < sal.start ? functionStart : sal.start, end: sal.end };
  const start = await begin(driver, support, thread, range);
  const plan: Plan = { kind: 'over', range, frame: { cfa: start.cfa, key: view.frames[0]?.key }, file: sal.file, line: sal.line };
  return follow(driver, support, thread, pc, plan, start);
}

/** `finish` from an inlined frame: step over the rest of the inlined call, into its caller's next statement. */
export async function finishInlined(
  driver: StepDriver,
  support: SteppingSupport,
  thread: number,
  callerKey: number | undefined,
): Promise<StopEvent> {
  const pc = (await driver.target.readRegisters(thread)).get('rip')!;
  const range = { start: pc, end: pc };
  const start = await begin(driver, support, thread, range);
  const plan: Plan = { kind: 'over', range, frame: { cfa: start.cfa, key: callerKey }, file: undefined, line: 0 };
  return follow(driver, support, thread, pc, plan, start);
}

/** The instructions of a step range, decoded once for every round of the step that runs in it. */
interface RangeCode {
  start: bigint;
  end: bigint;
  bitness: number;
  insns: DecodedInstruction[];
}

async function decodeRange(code: CodeView, thread: number, range: { start: bigint; end: bigint }): Promise<RangeCode> {
  const insns = range.end > range.start ? await code.flowRange(range.start, range.end, thread) : [];
  return { ...range, bitness: await code.bitness(thread), insns };
}

/** What a step reads before it runs, all in one round trip: its frame, the guest thread it keeps to, its code. */
async function begin(
  driver: StepDriver,
  support: SteppingSupport,
  thread: number,
  range: { start: bigint; end: bigint },
): Promise<{ cfa: bigint | undefined; owner: GuestOwner; code: RangeCode }> {
  const [cfa, owner, code] = await Promise.all([support.cfa(thread), driver.guestOwner(thread), decodeRange(driver.code, thread, range)]);
  return { cfa, owner, code };
}

async function follow(
  driver: StepDriver,
  support: SteppingSupport,
  thread: number,
  startPc: bigint,
  plan: Plan,
  start: { owner: GuestOwner; code: RangeCode },
): Promise<StopEvent> {
  let current = thread;
  let pc = startPc;
  let code = start.code;
  const inRange = (a: bigint) => a >= plan.range.start && a < plan.range.end;
  const rangeCode = async () => {
    if (code.start !== plan.range.start || code.end !== plan.range.end) code = await decodeRange(driver.code, current, plan.range);
    return code;
  };
  for (let round = 0; round < MAX_ROUNDS; round++) {
    if (inRange(pc)) {
      // Run to the first control-flow instruction (or the end) of the range, in this frame.
      const stop = await runThroughRange(
        driver,
        support,
        plan.kind,
        current,
        pc,
        plan.range,
        plan.frame.cfa,
        (await rangeCode()).insns,
        start.owner,
      );
      if (stop.kind !== 'step') return stop;
      current = stop.thread;
      pc = stop.pc;
    }
    // At a branch, call or return of the range (or outside an empty range): execute it.
    if (inRange(pc) || (plan.range.start === plan.range.end && round === 0)) {
      // The range's code as decoded for this step, unless the vCPU changed mode since.
      const known =
        (await rangeCode()).bitness === (await driver.code.bitness(current)) ? code.insns.find((i) => i.address === pc) : undefined;
      const moved = await oneInstruction(driver, support, plan.kind, current, pc, start.owner, known);
      if ('stop' in moved) return moved.stop;
      current = moved.thread;
      pc = moved.pc;
      if (inRange(pc)) continue;
    }
    const decided = await arrive(support, plan, current, pc);
    if (decided !== undefined) return { kind: 'step', thread: current, pc, hiddenInline: decided };
  }
  throw new Error(`step did not finish within ${MAX_ROUNDS} rounds`);
}

/**
 * Executes the instruction at pc: a call is stepped over (`next`) or into a callee with line
 * info (`step`, which then stops after the callee's prologue); anything else is one step.
 */
async function oneInstruction(
  driver: StepDriver,
  support: SteppingSupport,
  kind: StepKind,
  thread: number,
  pc: bigint,
  owner: GuestOwner,
  known?: DecodedInstruction,
): Promise<{ stop: StopEvent } | { thread: number; pc: bigint }> {
  const insn = known ?? (await driver.code.disassembleAt(pc, 1, thread))[0]!;
  if (isCall(insn)) {
    const rsp = (await driver.target.readRegisters(thread)).get('rsp')!;
    const returnTo = pc + BigInt(insn.length);
    if (kind === 'into') {
      const entered = await driver.stepInstruction(thread);
      if (entered.kind !== 'step') return { stop: entered };
      const body = await support.functionBodyStart(entered.pc);
      // A callee with line info: stop after its prologue, in this call (its CFA is our rsp); a
      // callee without one is there already (running to its body would stop in its next call).
      if (body === entered.pc) return { stop: entered };
      if (body !== undefined)
        return { stop: await driver.runToAny([body], async (t) => (await support.cfa(t)) === rsp, thread, { owner }) };
    }
    const back = await driver.runTo(returnTo, rsp, thread, { owner });
    if (back.kind !== 'step') return { stop: back };
    return { thread: back.thread, pc: back.pc };
  }
  // The code where it lands (the next range to decode) is read with the registers there: at a
  // direct target, else (returns, indirect jumps) most often near here.
  const stepped = await driver.stepInstruction(thread, false, [{ address: insn.target ?? pc, size: 1 }]);
  if (stepped.kind !== 'step') return { stop: stepped };
  return { thread: stepped.thread, pc: stepped.pc };
}

/**
 * Out of the step range at pc: the number of inlined frames to hide if the step ends here, or
 * undefined to keep going (with the plan moved on). gdb's process_event_stop_test, in its order.
 */
async function arrive(support: SteppingSupport, plan: Plan, thread: number, pc: bigint): Promise<number | undefined> {
  const view = await support.inlineAt(pc);
  const sal = await support.lineAt(pc);
  if (!sal || sal.line === 0) return view.hidden;
  const frame = view.frames[view.hidden];
  // The frame is told apart by its CFA, read only when a question below needs it.
  let known: FrameId | undefined;
  const frameId = async () => (known ??= { cfa: await support.cfa(thread), key: frame?.key });
  const extent = await support.inlineExtent(pc);
  // Entered an inlined call from the stepping frame: its call site is a line of that frame.
  if (view.hidden > 0 && frame && sameFrame(await frameId(), plan.frame)) {
    const sameLine = frame.line === plan.line && frame.file === plan.file;
    if (plan.kind === 'into') return sameLine ? view.hidden - 1 : view.hidden;
    if (!sameLine) return view.hidden;
    plan.range = extent ?? { start: pc, end: pc + 1n };
    return undefined;
  }
  // Deeper inside an inlined call made from the stepping frame: `next` runs through it.
  if (
    frame?.inlined &&
    view.frames.slice(view.hidden + 1).some((f) => f.key === plan.frame.key) &&
    !sameFrame(await frameId(), plan.frame) &&
    (await frameId()).cfa === plan.frame.cfa
  ) {
    if (plan.kind === 'into') return view.hidden;
    plan.range = extent ?? { start: pc, end: pc + 1n };
    return undefined;
  }
  let refresh = true;
  let line = sal.line;
  // Mid-line: keep going through this line, which becomes the one being stepped.
  let range: { start: bigint; end: bigint } = sal;
  if (sal.atRowStart && (sal.line !== plan.line || sal.file !== plan.file)) {
    if (sal.isStmt) return view.hidden;
    // A non-statement row of another line: look for a better place to stop. In another frame
    // (returned to a caller), forget the line so that its next statement row does stop.
    if (sameFrame(await frameId(), plan.frame)) refresh = false;
    else line = 0;
    // Only this row: the line stepped is not its line, so a statement row of its line right
    // after it is a new line to stop at (gcc -O2 puts a line's non-statement row first).
    range = sal.row;
  }
  plan.range = clamp(range, extent);
  if (refresh) {
    plan.frame = await frameId();
    plan.file = sal.file;
    plan.line = line;
  }
  return undefined;
}

function sameFrame(a: FrameId, b: FrameId): boolean {
  return a.cfa === b.cfa && a.key === b.key;
}

function clamp(range: { start: bigint; end: bigint }, within: { start: bigint; end: bigint } | undefined): { start: bigint; end: bigint } {
  if (!within) return { start: range.start, end: range.end };
  return { start: range.start > within.start ? range.start : within.start, end: range.end < within.end ? range.end : within.end };
}

function isCall(insn: DecodedInstruction): boolean {
  return insn.flow === 'call' || insn.flow === 'indirectCall';
}

function isFlow(insn: DecodedInstruction): boolean {
  return insn.flow !== 'next' && insn.flow !== 'other';
}

/**
 * Continues until this frame leaves the range, or reaches an instruction of the range whose
 * destination is not plain to see here. A direct jump to elsewhere in the function is run
 * through: its target is a place to stop (where a single step of the jump would have arrived),
 * and so is a jump within the range nothing (it stays in the range). So is a `next` over a
 * direct call of another function: its return lands in the range. Everything else (indirect
 * jumps and calls, returns, calls that `step` may enter or that recurse, jumps out of the
 * function) is a place to stop in front of, for the caller to execute with one step. Returns a
 * 'step' stop at that pc (or whatever stop got in the way).
 */
async function runThroughRange(
  driver: StepDriver,
  support: SteppingSupport,
  kind: StepKind,
  thread: number,
  pc: bigint,
  range: { start: bigint; end: bigint },
  frameCfa: bigint | undefined,
  code: DecodedInstruction[],
  owner: GuestOwner,
): Promise<StopEvent> {
  const inRange = code.filter((i) => i.address + BigInt(i.length) <= range.end);
  const here = inRange.find((i) => i.address === pc);
  if (here && isFlow(here)) return { kind: 'step', thread, pc, hiddenInline: 0 };
  // One plain instruction left: a single step costs the same round trip as a continue, and plants
  // nothing (under QEMU's TCG each breakpoint planted or removed drops translated code).
  if (here && pc + BigInt(here.length) === range.end) {
    const stepped = await driver.stepInstruction(thread, false, [{ address: range.end, size: 1 }]);
    // Anywhere else it was diverted (a fault's handler): back to the plan below, which runs it out.
    if (stepped.kind !== 'step' || stepped.pc === range.end || stepped.thread !== thread) return stepped;
  }
  const fn = driver.code.functionRange(pc);
  const inFunction = (a: bigint) => fn !== undefined && a >= fn.low && a < fn.high;
  const within = (a: bigint) => a >= range.start && a < range.end;
  const stops = new Set<bigint>([range.end]);
  for (const i of inRange) {
    if (!isFlow(i)) continue;
    if ((i.flow === 'branch' || i.flow === 'conditionalBranch') && i.target !== undefined && inFunction(i.target)) {
      if (!within(i.target)) stops.add(i.target);
    } else if (!(kind === 'over' && i.flow === 'call' && i.target !== undefined && !inFunction(i.target))) {
      stops.add(i.address);
    }
  }
  // The code where it stops, which the next range decodes, is read with the registers there.
  const readAtStop = [...stops].map((address) => ({ address, size: 1 }));
  return driver.runToAny([...stops], async (t) => frameCfa === undefined || (await support.cfa(t)) === frameCfa, thread, {
    owner,
    readAtStop,
  });
}
