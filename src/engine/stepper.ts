// The stepping commands of a debugger over one thread and frame: stepi/nexti, step/next, until,
// advance, and finish with the value the function returned. The line-stepping algorithm itself is
// in stepping.ts; this decides where each command starts and ends.
import type { MemoryRange, Target } from '../targets/index.js';
import type { BreakpointLocation } from './breakpoints.js';
import type { CodeView } from './code-view.js';
import { decodeAt } from './disasm.js';
import { EngineError } from './errors.js';
import { inlineView } from './inline.js';
import type { Inspector } from './inspect.js';
import { formatLocation, type LocationSpec } from './location.js';
import type { FramePosition } from './model.js';
import type { Program } from './program.js';
import type { RawStop } from './run-control.js';
import { returnValue } from './return-value.js';
import type { GuestOwner, Runner, RunToOptions } from './runner.js';
import { innermostCfa, type FrameContext } from './stack.js';
import { stepFacts } from './step-facts.js';
import type { StopEvent } from './stop-event.js';
import type { StopPolicy } from './stop-policy.js';
import { finishInlined, stepLine, stepUntil, type StepDriver, type SteppingSupport, type StepKind } from './stepping.js';

interface StepperParts {
  target: Target;
  runner: Runner;
  code: CodeView;
  inspector: Inspector;
  policy: StopPolicy;
  program: () => Program | undefined;
  resolveLocation: (spec: LocationSpec) => Promise<BreakpointLocation[]>;
}

export class Stepper implements StepDriver {
  readonly target: Target;
  readonly code: CodeView;

  constructor(private readonly p: StepperParts) {
    this.target = p.target;
    this.code = p.code;
  }

  /** One instruction; `over` runs a call to its return instead of entering it. `readAtStop`: see Target.resume. */
  async stepInstruction(thread: number, over = false, readAtStop?: readonly MemoryRange[]): Promise<StopEvent> {
    this.ready(thread, 'step');
    const regs = await this.p.target.readRegisters(thread);
    const pc = regs.get('rip')!;
    if (over) {
      const insn = await decodeAt(this.p.target, pc, 64);
      if (insn && (insn.flow === 'call' || insn.flow === 'indirectCall'))
        return this.runTo(insn.address + BigInt(insn.length), regs.get('rsp')!, thread);
    }
    return this.p.runner.resume({ kind: 'step', thread }, (raw) => this.stepEnd(raw), readAtStop);
  }

  /**
   * `count` instructions (stepi N, nexti N), ending early at anything but a finished step. With no
   * breakpoint or watchpoint planted there is nothing to check between two steps: the target takes
   * them all at once, reading no registers in between.
   */
  async stepInstructions(thread: number, count: number, over: boolean, planted: boolean): Promise<StopEvent> {
    if (over || count === 1 || planted) {
      let stop = await this.stepInstruction(thread, over);
      for (let i = 1; i < count && stop.kind === 'step'; i++) stop = await this.stepInstruction(stop.thread, over);
      return stop;
    }
    this.ready(thread, 'step');
    const runner = this.p.runner;
    return runner.resume({ kind: 'step', thread, count }, async (raw) =>
      runner.interrupted && 'pc' in raw ? { kind: 'interrupt', thread: raw.reason.thread, pc: raw.pc, hiddenInline: 0 } : this.stepEnd(raw),
    );
  }

  /** Source-line step (into calls that have line info, or over them), as gdb's step and next. */
  async stepLine(kind: StepKind, at: FramePosition): Promise<StopEvent> {
    this.p.runner.ensureStopped('step');
    const outer = await this.finishInnerFrames(at);
    if (outer) return outer;
    this.ready(at.thread, 'step');
    return stepLine(this, this.support(), at.thread, kind, this.p.runner.hiddenInlineFrames(at.thread));
  }

  /** gdb's `until` without an argument: `next` that does not stop at a jump back to an earlier line. */
  async stepUntil(at: FramePosition): Promise<StopEvent> {
    this.p.runner.ensureStopped('step');
    const outer = await this.finishInnerFrames(at);
    if (outer) return outer;
    this.ready(at.thread, 'step');
    const pc = (await this.p.target.readRegisters(at.thread)).get('rip')!;
    const fn = this.p.program()?.symbols.functionAt(pc);
    const start = fn?.ranges.find((r) => pc >= r.start && pc < r.end)?.start;
    return stepUntil(this, this.support(), at.thread, this.p.runner.hiddenInlineFrames(at.thread), start);
  }

  /**
   * gdb's `until LOCATION` (`anywhere` false) and `advance LOCATION`: run until the location is
   * reached, in the frame at `at` or an outer one for `until`, in any frame for `advance`, or until
   * that frame returns.
   */
  async runUntil(spec: LocationSpec, anywhere: boolean, at: FramePosition): Promise<StopEvent> {
    this.p.runner.ensureStopped('run');
    const locations = await this.p.resolveLocation(spec);
    if (!locations.length) throw new EngineError(`no code at ${formatLocation(spec)}`);
    const { frames } = await this.p.inspector.backtrace(at.thread);
    const frame = frames[at.level];
    const { physical, outer } = returnFrame(frames, at.level);
    const targets = locations.map((l) => l.address);
    if (outer && physical?.cfa !== undefined) targets.push(outer.pc);
    const program = this.p.program();
    const stop = await this.runToAny(
      targets,
      async (t) => {
        const regs = await this.p.target.readRegisters(t);
        const pc = regs.get('rip')!;
        if (outer && pc === outer.pc && !targets.slice(0, locations.length).includes(pc)) return regs.get('rsp') === physical!.cfa;
        if (anywhere || frame?.cfa === undefined) return true;
        const cfa = await innermostCfa(this.p.target, program, regs);
        // The stack grows down: the frame and its callers have CFAs at or above its own.
        return cfa !== undefined && cfa >= frame.cfa;
      },
      at.thread,
    );
    if (stop.kind !== 'step' || !program) return stop;
    // Like a breakpoint, the location shows the function it was asked in; the return shows everything.
    const here = locations.filter((l) => l.address === stop.pc).map((l) => l.inFunction);
    return this.p.runner.record({ ...stop, hiddenInline: here.length ? inlineView(program.symbols, stop.pc, here).hidden : 0 });
  }

  /**
   * Runs until the frame at `at` returns (gdb's finish); the stop is in its caller, with the value
   * returned. An inlined frame returns to its caller without a return instruction: the rest of it
   * is stepped over.
   */
  async finish(at: FramePosition): Promise<StopEvent> {
    this.p.runner.ensureStopped('finish');
    const { frames } = await this.p.inspector.backtrace(at.thread);
    const frame = frames[at.level];
    const { outer } = returnFrame(frames, at.level);
    if (!frame || !outer) throw new EngineError('"finish" not meaningful in the outermost frame.');
    if (frame.inlined && frame.unwoundBy === 'tail-call')
      throw new EngineError('cannot finish an inlined call of a tail-call frame (it has no code running): finish the frame it returns to');
    const program = this.p.program();
    if (frame.inlined) {
      // The block the inlined call returns to, by its place in the physical frame's inline chain.
      const first = frames.findIndex((f) => f.cfa === frame.cfa);
      const position = at.level - first + (first === 0 ? this.p.runner.hiddenInlineFrames(at.thread) : 0);
      const callerKey = program ? inlineView(program.symbols, frame.lookupPc).frames[position + 1]?.key : undefined;
      const inner = await this.finishInnerFrames(at);
      if (inner && inner.kind !== 'step') return inner;
      this.ready(at.thread, 'finish');
      return finishInlined(this, this.support(), at.thread, callerKey);
    }
    if (frame.cfa === undefined) throw new EngineError('cannot finish: the frame address is unknown');
    const stop = await this.runTo(outer.pc, frame.cfa, at.thread);
    if (stop.kind !== 'step' || frame.function === undefined || !program) return stop;
    const value = returnValue(program, frame.pc, await this.p.target.readRegisters(stop.thread));
    return value ? this.p.runner.record({ ...stop, returned: { function: frame.function, value } }) : stop;
  }

  runTo(address: bigint, sp: bigint, thread: number, opts?: RunToOptions): Promise<StopEvent> {
    return this.p.runner.runTo(address, sp, thread, opts);
  }

  runToAny(addresses: bigint[], accept: (thread: number) => Promise<boolean>, thread: number, opts?: RunToOptions): Promise<StopEvent> {
    return this.p.runner.runToAny(addresses, accept, thread, opts);
  }

  guestOwner(thread: number): Promise<GuestOwner> {
    return this.p.runner.guestOwner(thread);
  }

  /**
   * A finished single step. One that lands on a user breakpoint is that breakpoint's hit (its
   * conditions and counts decide), as in gdb: a step through a line, out of a function or out of
   * an inlined call never passes a breakpoint. Otherwise a step, showing the innermost frame even
   * at an inlined call's first instruction (stepi does, as gdb's).
   */
  private async stepEnd(raw: RawStop): Promise<StopEvent | undefined> {
    if (!('pc' in raw) || raw.reason.kind !== 'trap' || raw.reason.watch) return undefined;
    const hit = await this.p.policy.userStopAt(raw.reason.thread, raw.pc);
    return hit ?? { kind: 'step', thread: raw.reason.thread, pc: raw.pc, hiddenInline: 0 };
  }

  /** The thread can run: the guest is stopped and the thread is a vCPU, not a saved context. */
  private ready(thread: number, what: string): void {
    this.p.runner.ensureResumable(what);
    // A guest thread shown from its saved context is on no vCPU: only running it back to a frame works.
    if (this.p.inspector.isSavedContext(thread)) {
      throw new EngineError(
        `cannot ${what} a guest thread that is switched out (on no vCPU): select an outer frame and use next or finish to run it back there`,
      );
    }
  }

  /** Stepping from an outer physical frame first finishes the frames below it, as gdb does. */
  private async finishInnerFrames(at: FramePosition): Promise<StopEvent | undefined> {
    if (at.level === 0) return undefined;
    const { frames } = await this.p.inspector.backtrace(at.thread);
    const f = frames[at.level];
    const inner = frames[at.level - 1];
    if (!f || !inner || f.cfa === undefined || inner.cfa === undefined || f.cfa === inner.cfa) return undefined;
    return this.runTo(f.pc, inner.cfa, at.thread);
  }

  private support(): SteppingSupport {
    const program = this.p.program();
    const { inspector, target } = this.p;
    const facts = program && stepFacts(program);
    return {
      lineAt: async (pc) => facts?.lineAt(pc),
      inlineExtent: async (pc) => facts?.inlineExtent(pc),
      inlineAt: async (pc) => facts?.inlineAt(pc) ?? { frames: [], hidden: 0 },
      functionBodyStart: async (pc) => facts?.functionBodyStart(pc),
      cfa: async (thread) => innermostCfa(target, program, await inspector.registersOf(thread)),
      caller: async (thread) => {
        const { physical, outer } = returnFrame((await inspector.backtrace(thread)).frames, 0);
        return outer && physical?.cfa !== undefined ? { pc: outer.pc, cfa: physical.cfa } : undefined;
      },
    };
  }
}

/**
 * The concrete frame a frame belongs to (past its inline chain), and the frame it returns to:
 * the next one that is not a tail-call frame (those returned nowhere: they jumped away).
 */
function returnFrame(frames: readonly FrameContext[], level: number): { physical?: FrameContext; outer?: FrameContext } {
  let l = level;
  while (frames[l]?.inlined && frames[l + 1]) l++;
  let o = l + 1;
  while (frames[o]?.unwoundBy === 'tail-call') o++;
  return { ...(frames[l] && { physical: frames[l] }), ...(frames[o] && { outer: frames[o] }) };
}
