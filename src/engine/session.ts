// A debugging session over one Target: the stopped-guest model every front end uses. Breakpoints,
// watchpoints and stepping decide here which target stops the user sees; frames, values and
// expressions are computed from the target's registers and memory on demand.
import { EventEmitter } from 'node:events';
import type { BreakpointKind, MemoryRange, ResumeAction, Target, TargetThread, WatchAccess } from '../targets/index.js';
import { hitConditionMet, Sites, type Breakpoint, type BreakpointLocation, type UserPoint, type Watchpoint } from './breakpoints.js';
import { completeExpression, type Completions } from './complete.js';
import { accessedMemory, bitnessFromCpuState, decodeAt, disassemble, type Bitness, type DecodedInstruction } from './disasm.js';
import { formatLocation, type LocationSpec } from './location.js';
import type { Frame, FramePosition, Scope, ValueFormat, ValueView } from './model.js';
import { RunControl, type RawStop } from './run-control.js';
import { VariableStore } from './variables.js';
import { Inspector, symbolSuffix } from './inspect.js';
import type { Program } from './program.js';
import { frameRegister, innermostCfa, type Backtrace, type FrameContext } from './stack.js';
import { symbolHooks } from './symbol-hooks.js';
import { finishInlined, stepLine, stepUntil, type SteppingSupport, type StepKind } from './stepping.js';
import { inlineView } from './inline.js';
import type { Value } from './values.js';
import { T } from './evaluate.js';
import { GuestThreads } from '../os/threads.js';
import { detectUnikernel } from '../os/unikernel.js';

export type StopKind = 'entry' | 'breakpoint' | 'watchpoint' | 'step' | 'interrupt' | 'signal' | 'exited' | 'dump';

export interface StopInfo {
  kind: StopKind;
  thread: number;
  pc?: bigint;
  breakpoints?: Breakpoint[];
  watch?: { point: Watchpoint; old?: Uint8Array; value?: Uint8Array };
  signal?: number;
  exitCode?: number;
  /** Innermost inlined frames hidden at this stop: it is at their call's first instruction (gdb's presentation). */
  hiddenInline?: number;
}

export interface SessionEvents {
  /** Text for the user: logpoint messages, the stub's console output, warnings. */
  output: [category: 'console' | 'stdout' | 'stderr', text: string];
  running: [];
  stopped: [StopInfo];
  breakpointChanged: [UserPoint];
}

/** The guest thread a run keeps to (its address), or none: no thread model, or no thread on that vCPU. */
export interface GuestOwner {
  address: bigint | undefined;
}

export interface RunToOptions {
  /** What the stop is reported as. */
  kind?: StopKind;
  /** The guest thread to keep to (default: the one the selected thread runs now). */
  owner?: GuestOwner;
  /** Memory the caller reads at each stop (see Target.resume). */
  readAtStop?: readonly MemoryRange[];
}

export class EngineError extends Error {
  override name = 'EngineError';
}

/** What the symbol side gives the session: location resolution and condition/logpoint evaluation. */
export interface SessionHooks {
  resolveLocation(spec: LocationSpec): Promise<BreakpointLocation[]>;
  /** Evaluates a condition in the stopped thread's innermost frame; truthiness decides the stop. */
  evaluateCondition(expression: string, thread: number): Promise<boolean>;
  /** Interpolates `{expr}` in a logpoint message. */
  formatLogMessage(message: string, thread: number): Promise<string>;
  /** The integer value of an expression (an address for `x`, `disassemble`, `*EXPR` locations). */
  evaluateInteger(expression: string, thread: number): Promise<bigint>;
  /** Where an lvalue lives and how big it is (what `watch EXPR` watches). */
  locateLvalue(expression: string, thread: number): Promise<{ address: bigint; size: number }>;
  /** Text of a watched expression's value from its raw bytes. */
  formatWatchValue(point: Watchpoint, bytes: Uint8Array): Promise<string>;
  /** The ELF symbol containing an address (synchronous: symbol tables are loaded up front). */
  symbolAt(address: bigint): { name: string; address: bigint; size: bigint } | undefined;
}

const noSymbols: SessionHooks = {
  async resolveLocation(spec) {
    if (spec.kind === 'address') return [{ address: spec.address }];
    throw new EngineError('no symbols loaded: only *ADDRESS locations can be resolved');
  },
  async evaluateCondition() {
    throw new EngineError('no symbols loaded: conditions need symbols');
  },
  async formatLogMessage(message) {
    return message;
  },
  async evaluateInteger(expression, thread) {
    return evaluateBare(expression, thread);
  },
  async locateLvalue(expression) {
    throw new EngineError(`no symbols loaded: cannot tell where '${expression}' lives`);
  },
  symbolAt() {
    return undefined;
  },
  async formatWatchValue(_point, bytes) {
    return Buffer.from(bytes).readUIntLE(0, Math.min(6, bytes.length)).toString();
  },
};

/** Without symbols only numbers are understood. */
function evaluateBare(expression: string, _thread: number): bigint {
  const t = expression.trim();
  if (/^(0[xX][0-9a-fA-F]+|\d+)$/.test(t)) return BigInt(t);
  throw new EngineError(`no symbols loaded: cannot evaluate '${t}'`);
}

/** The most children one request lists (paging covers bigger arrays). */
const MAX_CHILDREN = 1 << 20;

export class Session extends EventEmitter<SessionEvents> {
  readonly sites: Sites;
  readonly run: RunControl;
  private readonly points = new Map<number, UserPoint>();
  private nextPointId = 1;
  private lastStop: StopInfo | undefined;
  /** The stopped thread's hidden inlined frames (see StopInfo.hiddenInline); other threads hide none. */
  private hidden: { thread: number; count: number } | undefined;
  private state: 'stopped' | 'running' | 'exited' | 'detached' = 'stopped';
  /**
   * Set by interrupt() while resume() runs: an operation that resumes several times (stepping off a
   * breakpoint, declining stops in other frames) must end, though the stub may be stopped between
   * two of its resumes, when it ignores an interrupt.
   */
  private interruptRequested = false;
  hooks: SessionHooks = noSymbols;
  selectedThread = 1;
  selectedFrame = 0;
  readonly values = new VariableStore();
  readonly inspector: Inspector;
  program: Program | undefined;
  /** The unikernel's own threads, when its description is known (see src/os/description.ts). */
  guest: GuestThreads | undefined;

  constructor(readonly target: Target) {
    super();
    this.sites = new Sites(target);
    this.run = new RunControl(target, this.sites);
    this.inspector = new Inspector(target, this.values, (thread, name, value) => this.writeRegister(thread, name, value), (thread) => this.hiddenInlineFrames(thread));
    target.on('console', (text) => this.emit('output', 'console', text));
    // The guest's run is the debugger's idle time: build then what the stop will need, once
    // waiting for it has begun (the stop reply waits in the socket meanwhile).
    target.on('running', () => setImmediate(() => this.program?.prepareForStops()));
  }

  /** Takes over a halted target: selects the first vCPU and records where it stands. */
  async start(kind: 'entry' | 'interrupt' | 'dump' = 'entry'): Promise<StopInfo> {
    const [first] = await this.target.threadIds(1);
    if (first === undefined) throw new EngineError('the target reports no vCPUs');
    this.selectedThread = first;
    const pc = await this.run.pcOf(first);
    this.run.setPosition(first, pc);
    return this.setStop({ kind, thread: first, pc });
  }

  get stop(): StopInfo | undefined {
    return this.lastStop;
  }

  get isRunning(): boolean {
    return this.state === 'running';
  }

  get isAlive(): boolean {
    return this.state === 'stopped' || this.state === 'running';
  }

  threads(): Promise<TargetThread[]> {
    return this.target.threads();
  }

  threadIds(atLeast?: number): Promise<readonly number[]> {
    return this.target.threadIds(atLeast);
  }

  // ---- breakpoints and watchpoints ------------------------------------------------------------

  breakpoints(): UserPoint[] {
    return [...this.points.values()];
  }

  point(id: number): UserPoint {
    const p = this.points.get(id);
    if (!p) throw new EngineError(`no breakpoint number ${id}`);
    return p;
  }

  /** Adds a breakpoint; an unresolvable location becomes pending unless `pendingOk` is false. */
  async addBreakpoint(
    spec: LocationSpec,
    opts: Partial<Pick<Breakpoint, 'condition' | 'hitCondition' | 'logMessage' | 'temporary' | 'hardware' | 'thread' | 'guestThread' | 'ignoreCount'>> & { pendingOk?: boolean } = {},
  ): Promise<Breakpoint> {
    this.ensureStopped('set a breakpoint');
    let locations: BreakpointLocation[] = [];
    try {
      locations = await this.hooks.resolveLocation(spec);
    } catch (e) {
      if (!opts.pendingOk) throw e;
    }
    if (locations.length === 0 && !opts.pendingOk) throw new EngineError(`no code at ${formatLocation(spec)}`);
    const bp: Breakpoint = {
      id: this.nextPointId++,
      type: 'breakpoint',
      spec,
      locations,
      hardware: opts.hardware ?? false,
      enabled: true,
      temporary: opts.temporary ?? false,
      ignoreCount: opts.ignoreCount ?? 0,
      hits: 0,
      ...(opts.condition !== undefined && { condition: opts.condition }),
      ...(opts.hitCondition !== undefined && { hitCondition: opts.hitCondition }),
      ...(opts.logMessage !== undefined && { logMessage: opts.logMessage }),
      ...(opts.thread !== undefined && { thread: opts.thread }),
      ...(opts.guestThread !== undefined && { guestThread: opts.guestThread }),
    };
    if (bp.hitCondition) hitConditionMet(bp.hitCondition, 1);
    await this.insertLocations(bp, bp.locations);
    this.points.set(bp.id, bp);
    this.inspector.setConvenience('bpnum', T.int, BigInt(bp.id));
    return bp;
  }

  /** Re-resolves pending breakpoints (after symbols load). */
  async resolvePending(): Promise<Breakpoint[]> {
    const resolved: Breakpoint[] = [];
    for (const p of this.points.values()) {
      if (p.type !== 'breakpoint' || p.locations.length) continue;
      const locations = await this.hooks.resolveLocation(p.spec).catch(() => []);
      if (!locations.length) continue;
      p.locations = locations;
      if (p.enabled) await this.insertLocations(p, locations);
      resolved.push(p);
      this.emit('breakpointChanged', p);
    }
    return resolved;
  }

  async addWatchpoint(expression: string, address: bigint, length: number, access: WatchAccess, condition?: string, label?: string): Promise<Watchpoint> {
    this.ensureStopped('set a watchpoint');
    if (![1, 2, 4, 8].includes(length)) throw new EngineError(`cannot watch ${length} bytes: x86 debug registers watch 1, 2, 4 or 8`);
    if (address % BigInt(length) !== 0n) throw new EngineError(`cannot watch 0x${address.toString(16)}: not aligned to its size ${length}`);
    const last = await this.target.readMemory(address, length);
    await this.sites.add(access, address, length);
    const wp: Watchpoint = { id: this.nextPointId++, type: 'watchpoint', expression, access, address, length, enabled: true, hits: 0, last, ...(condition !== undefined && { condition }), ...(label !== undefined && { label }) };
    this.points.set(wp.id, wp);
    this.inspector.setConvenience('bpnum', T.int, BigInt(wp.id));
    return wp;
  }

  async deletePoint(id: number): Promise<void> {
    this.ensureStopped('delete a breakpoint');
    const p = this.point(id);
    if (p.enabled) await this.removeSites(p);
    this.points.delete(id);
  }

  async setEnabled(id: number, enabled: boolean): Promise<void> {
    this.ensureStopped('change a breakpoint');
    const p = this.point(id);
    if (p.enabled === enabled) return;
    if (enabled) {
      if (p.type === 'breakpoint') await this.insertLocations(p, p.locations);
      else await this.sites.add(p.access, p.address, p.length);
    } else await this.removeSites(p);
    p.enabled = enabled;
  }

  private kindOf(bp: Breakpoint): BreakpointKind {
    return bp.hardware ? 'hw' : 'sw';
  }

  private async insertLocations(bp: Breakpoint, locations: BreakpointLocation[]): Promise<void> {
    const done: BreakpointLocation[] = [];
    try {
      for (const l of locations) {
        await this.sites.add(this.kindOf(bp), l.address);
        done.push(l);
      }
    } catch (e) {
      for (const l of done) await this.sites.drop(this.kindOf(bp), l.address);
      throw e;
    }
  }

  private async removeSites(p: UserPoint): Promise<void> {
    if (p.type === 'watchpoint') return this.sites.drop(p.access, p.address, p.length);
    for (const l of p.locations) await this.sites.drop(this.kindOf(p), l.address);
  }

  // ---- run control ------------------------------------------------------------------------------

  /** A guest thread shown from its saved context is on no vCPU: only running it back to a frame works. */
  private ensureOnVcpu(what: string): void {
    if (this.inspector.isSavedContext(this.selectedThread)) {
      throw new EngineError(`cannot ${what} a guest thread that is switched out (on no vCPU): select an outer frame and use next or finish to run it back there`);
    }
  }

  private ensureStopped(what: string): void {
    if (this.state === 'running') throw new EngineError(`cannot ${what} while the guest is running (interrupt it first)`);
    if (this.state === 'exited') throw new EngineError(`cannot ${what}: the guest has exited`);
    if (this.state === 'detached') throw new EngineError(`cannot ${what}: detached from the guest`);
  }

  /** How many innermost inlined frames the thread's backtrace hides at this stop. */
  hiddenInlineFrames(thread: number): number {
    return this.hidden?.thread === thread ? this.hidden.count : 0;
  }

  private setStop(stop: StopInfo): StopInfo {
    if (stop.hiddenInline === undefined && stop.pc !== undefined && this.program && stop.kind !== 'entry' && stop.kind !== 'dump' && stop.kind !== 'exited') {
      const here = stop.breakpoints?.flatMap((b) => b.locations.filter((l) => l.address === stop.pc).map((l) => l.inFunction)) ?? [];
      stop = { ...stop, hiddenInline: inlineView(this.program.symbols, stop.pc, here).hidden };
    }
    this.hidden = stop.hiddenInline ? { thread: stop.thread, count: stop.hiddenInline } : undefined;
    this.inspector.invalidate();
    this.lastStop = stop;
    this.selectedFrame = 0;
    this.state = stop.kind === 'exited' ? 'exited' : 'stopped';
    if (stop.kind !== 'exited') this.selectedThread = stop.thread;
    this.emit('stopped', stop);
    return stop;
  }

  /**
   * Resumes and runs until a stop the user should see. `internal` lets a stepping plan claim a stop
   * first: it returns the StopInfo to report, 'continue' to keep going, or undefined to let the
   * breakpoint logic decide.
   */
  async resume(
    first: ResumeAction,
    internal?: (stop: RawStop) => Promise<StopInfo | 'continue' | 'resume-step' | undefined>,
    readAtStop?: readonly MemoryRange[],
  ): Promise<StopInfo> {
    this.ensureStopped('resume');
    this.state = 'running';
    this.interruptRequested = false;
    this.values.clear();
    this.hidden = undefined;
    this.inspector.resumed();
    this.emit('running');
    let action: ResumeAction = first;
    try {
      for (;;) {
        const raw = await this.run.resumeOnce(action, () => this.interruptRequested, readAtStop);
        // Conditions and log messages evaluated at earlier stops of this run must not leave their
        // frames behind for this one (the vCPU ran in between).
        this.inspector.invalidate();
        if (raw.reason.kind === 'exited') return this.setStop({ kind: 'exited', thread: this.selectedThread, exitCode: raw.reason.code });
        const claimed = internal ? await internal(raw) : undefined;
        if (claimed === 'continue') {
          action = { kind: 'continue' };
          continue;
        }
        if (claimed === 'resume-step') {
          action = { kind: 'step', thread: raw.reason.thread };
          continue;
        }
        if (claimed) return this.setStop(claimed);
        const decided = await this.decide(raw, first.kind === 'step');
        if (decided) return this.setStop(decided);
        action = { kind: 'continue' };
      }
    } catch (e) {
      // The target failed mid-run (timeout, connection lost): report, and stay usable if it is.
      this.state = this.target.running ? 'running' : 'stopped';
      throw e;
    }
  }

  continue(): Promise<StopInfo> {
    return this.resume({ kind: 'continue' });
  }

  /** One instruction; `over` runs a call to its return instead of entering it. */
  async stepInstruction(over = false): Promise<StopInfo> {
    this.ensureStopped('step');
    this.ensureOnVcpu('step');
    const thread = this.selectedThread;
    const regs = await this.target.readRegisters(thread);
    const pc = regs.get('rip')!;
    if (over) {
      const insn = await decodeAt(this.target, pc, 64);
      if (insn && (insn.flow === 'call' || insn.flow === 'indirectCall')) return this.runTo(insn.address + BigInt(insn.length), regs.get('rsp')!);
    }
    return this.resume({ kind: 'step', thread }, stepStop);
  }

  /**
   * `count` instructions (stepi N, nexti N), ending early at anything but a finished step. With no
   * breakpoint or watchpoint planted there is nothing to check between two steps: the target takes
   * them all at once, reading no registers in between.
   */
  async stepInstructions(count: number, over = false): Promise<StopInfo> {
    if (over || count === 1 || this.sites.size > 0) {
      let stop = await this.stepInstruction(over);
      for (let i = 1; i < count && stop.kind === 'step'; i++) stop = await this.stepInstruction(over);
      return stop;
    }
    this.ensureStopped('step');
    this.ensureOnVcpu('step');
    return this.resume({ kind: 'step', thread: this.selectedThread, count }, async (raw) => (this.interruptRequested && raw.reason.kind !== 'exited' ? { kind: 'interrupt', thread: raw.reason.thread, pc: raw.pc! } : stepStop(raw)));
  }

  /**
   * Runs until some vCPU reaches `address` with its stack pointer equal to `sp` (that frame of that
   * stack: recursion and other guest threads passing by do not count, and the guest thread may have
   * moved to another vCPU meanwhile).
   */
  runTo(address: bigint, sp: bigint, opts: RunToOptions = {}): Promise<StopInfo> {
    return this.runToAny([address], async (thread) => (await this.target.readRegisters(thread)).get('rsp') === sp, opts);
  }

  /** The guest thread the selected thread stands for now (what runToAny keeps to). */
  async guestOwner(): Promise<GuestOwner> {
    return { address: await this.guest?.ownerOf(this.selectedThread) };
  }

  /**
   * Runs until a vCPU reaches one of `addresses` and `accept` agrees (same frame), running the
   * guest thread the selected thread stands for, or `owner` (a step of several runs names it
   * once): its current-thread pointer is checked, so a step stays with it when the scheduler
   * moves it. User breakpoints hit on the way stop as usual.
   */
  async runToAny(addresses: bigint[], accept: (thread: number) => Promise<boolean>, opts: RunToOptions = {}): Promise<StopInfo> {
    const kind = opts.kind ?? 'step';
    const { address: thread0 } = opts.owner ?? (await this.guestOwner());
    // The current-thread pointer this vCPU will be checked by is read with its registers.
    const pointer = thread0 === undefined ? undefined : await this.guest!.currentLocation(this.selectedThread);
    const readAtStop = [...(opts.readAtStop ?? []), ...(pointer ? [pointer] : [])];
    const ours = async (thread: number) => {
      if (thread0 === undefined) return accept(thread);
      const [inFrame, running] = await Promise.all([accept(thread), this.guest!.currentOn(thread)]);
      return inFrame && running === thread0;
    };
    const planted: bigint[] = [];
    try {
      for (const a of new Set(addresses)) {
        await this.sites.add('sw', a);
        planted.push(a);
      }
      return await this.resume({ kind: 'continue' }, async (stop) => {
        if (stop.reason.kind !== 'trap' || !planted.includes(stop.pc!)) return undefined;
        const { thread } = stop.reason;
        // A watchpoint reported here comes first; one not reported leaves the stop to us.
        const watched = stop.reason.watch && (await this.decideWatch(thread, stop.pc!, stop.reason.watch.address));
        if (watched) return watched;
        const raw: RawStop = { reason: { kind: 'trap', thread }, pc: stop.pc! };
        if (!(await ours(thread))) return this.pointsAt(raw.pc!).length ? undefined : 'continue';
        // A user breakpoint here gets its say (conditions, counts); otherwise this is our stop.
        if (this.pointsAt(raw.pc!).length) return (await this.decide(raw, false)) ?? { kind, thread, pc: raw.pc! };
        return { kind, thread, pc: raw.pc! };
      }, readAtStop);
    } finally {
      if (this.state !== 'exited') for (const a of planted) await this.sites.drop('sw', a);
    }
  }

  private pointsAt(pc: bigint): Breakpoint[] {
    return [...this.points.values()].filter((p): p is Breakpoint => p.type === 'breakpoint' && p.enabled && p.locations.some((l) => l.address === pc));
  }

  /** Breakpoint/watchpoint logic for a raw stop: the stop to report, or undefined to keep running. */
  private async decide(raw: RawStop, stepping: boolean): Promise<StopInfo | undefined> {
    const r = raw.reason;
    if (r.kind === 'exited') return { kind: 'exited', thread: this.selectedThread, exitCode: r.code };
    if (r.kind === 'interrupt') return { kind: 'interrupt', thread: r.thread, pc: raw.pc! };
    if (r.kind === 'signal') return { kind: 'signal', thread: r.thread, pc: raw.pc!, signal: r.signal };
    if (r.kind === 'dump') return { kind: 'dump', thread: r.thread, pc: raw.pc! };
    // A watch hit not to report (unchanged value, false condition, refuted) may share its stop
    // with a breakpoint or a finished step: those still count.
    const watched = r.watch && (await this.decideWatch(r.thread, raw.pc!, r.watch.address));
    if (watched) return watched;
    const hit: Breakpoint[] = [];
    for (const bp of this.pointsAt(raw.pc!)) {
      if (bp.thread !== undefined && bp.thread !== r.thread) continue;
      if (bp.guestThread !== undefined && (await this.guest?.currentOn(r.thread)) !== bp.guestThread.address) continue;
      if (bp.condition) {
        let ok: boolean;
        try {
          ok = await this.hooks.evaluateCondition(bp.condition, r.thread);
        } catch (e) {
          // As gdb does: a condition that cannot be evaluated stops, with the reason.
          this.emit('output', 'stderr', `Error in testing condition for breakpoint ${bp.id}: ${(e as Error).message}\n`);
          ok = true;
        }
        if (!ok) continue;
      }
      bp.hits++;
      if (bp.ignoreCount > 0) {
        bp.ignoreCount--;
        continue;
      }
      if (bp.hitCondition && !hitConditionMet(bp.hitCondition, bp.hits)) continue;
      if (bp.logMessage !== undefined) {
        const text = await this.hooks.formatLogMessage(bp.logMessage, r.thread).catch((e: Error) => `<${e.message}>`);
        this.emit('output', 'console', text + '\n');
        continue;
      }
      hit.push(bp);
    }
    if (hit.length) {
      for (const bp of hit) if (bp.temporary) await this.deletePointWhileStopping(bp);
      return { kind: 'breakpoint', thread: r.thread, pc: raw.pc!, breakpoints: hit };
    }
    if (this.pointsAt(raw.pc!).length) return undefined;
    if (stepping) return { kind: 'step', thread: r.thread, pc: raw.pc! };
    // A watch hit not reported; or gdb's moribund watchpoint: a stale report of one that is gone.
    if (r.watch || raw.staleWatch) return undefined;
    // A trap we did not plant (the guest's own int3): report it as the signal it is.
    return { kind: 'signal', thread: r.thread, pc: raw.pc!, signal: 5 };
  }

  /** The watchpoint stop to report, or undefined when this hit is not one (see decide). */
  private async decideWatch(thread: number, pc: bigint, address: bigint): Promise<StopInfo | undefined> {
    const wp = [...this.points.values()].find((p): p is Watchpoint => p.type === 'watchpoint' && p.enabled && address >= p.address && address < p.address + BigInt(p.length));
    if (!wp) return undefined;
    // QEMU can attach a watchpoint hit of one vCPU to another's later stop (see RunControl):
    // a read is only believed when the instruction just run touched the watched bytes.
    if (wp.access !== 'write' && !(await this.mayHaveAccessed(thread, pc, wp))) return undefined;
    const value = await this.target.readMemory(wp.address, wp.length);
    const old = wp.last;
    // A write watchpoint whose value did not change is not reported (gdb's behaviour).
    if (wp.access === 'write' && old && Buffer.compare(Buffer.from(old), Buffer.from(value)) === 0) return undefined;
    if (wp.condition && !(await this.hooks.evaluateCondition(wp.condition, thread).catch(() => true))) {
      wp.last = value;
      return undefined;
    }
    wp.hits++;
    wp.last = value;
    return { kind: 'watchpoint', thread, pc, watch: { point: wp, ...(old && { old }), value } };
  }

  /**
   * False only when the instruction that just ran certainly accessed none of the watched bytes:
   * the one that ends at `pc`, or at a function's first instruction the call that entered it.
   */
  private async mayHaveAccessed(thread: number, pc: bigint, wp: Watchpoint): Promise<boolean> {
    const regs = await this.target.readRegisters(thread);
    let end = pc;
    if (this.functionRange(pc)?.low === pc) {
      const rsp = regs.get('rsp');
      if (rsp === undefined) return true;
      end = Buffer.from(await this.target.readMemory(rsp, 8)).readBigUInt64LE(0);
    }
    const fn = this.functionRange(end - 1n);
    if (!fn) return true;
    const last = (await this.disassembleRange(fn.low, end).catch(() => [])).at(-1);
    if (!last || last.address + BigInt(last.length) !== end) return true;
    const accessed = await accessedMemory(last.bytes, last.address, await this.codeBitness(), regs);
    const watchEnd = wp.address + BigInt(wp.length);
    return accessed === 'unknown' || accessed.some((a) => a.address < watchEnd && a.address + BigInt(a.size) > wp.address);
  }

  private async deletePointWhileStopping(bp: Breakpoint): Promise<void> {
    await this.removeSites(bp);
    this.points.delete(bp.id);
    this.emit('breakpointChanged', bp);
  }

  async interrupt(): Promise<void> {
    if (this.state !== 'running') return;
    this.interruptRequested = true;
    await this.target.interrupt();
  }

  /** Removes every breakpoint of ours and leaves the guest running. */
  async detach(): Promise<void> {
    if (this.state === 'running') await this.target.interrupt();
    const errors = await this.sites.clear();
    await this.target.detach();
    this.state = 'detached';
    if (errors.length) throw new EngineError(`detached, but ${errors.length} breakpoint(s) could not be removed: ${errors[0]!.message}`);
  }

  formatWatchValue(point: Watchpoint, bytes: Uint8Array): Promise<string> {
    return this.hooks.formatWatchValue(point, bytes);
  }

  /** Address and size of what `watch EXPR` should watch. */
  watchTarget(expression: string): Promise<{ address: bigint; size: number }> {
    this.ensureStopped('set a watchpoint');
    return this.hooks.locateLvalue(expression, this.selectedThread);
  }

  evaluateInteger(expression: string): Promise<bigint> {
    return this.hooks.evaluateInteger(expression, this.selectedThread);
  }

  /** Registers of the selected thread's selected frame (outer frames: what unwinding recovered). */
  async frameRegisters(): Promise<Map<string, bigint>> {
    const regs = await this.inspector.registersOf(this.selectedThread);
    if (this.selectedFrame === 0) return regs;
    const frame = await this.inspector.frame(this.selectedThread, this.selectedFrame);
    const out = new Map<string, bigint>();
    for (const name of regs.keys()) {
      const v = await frameRegister(frame, name);
      if (v !== undefined) out.set(name, v);
    }
    return out;
  }

  /** The backtrace of a vCPU, innermost first, with why it ended early (if it did). */
  backtrace(thread = this.selectedThread): Promise<Backtrace> {
    return this.inspector.backtrace(thread);
  }

  async frames(thread = this.selectedThread, limit = 256): Promise<Frame[]> {
    return (await this.inspector.frames(thread, await this.backtrace(thread))).slice(0, limit);
  }

  async selectFrame(level: number): Promise<Frame> {
    const frames = await this.frames();
    const f = frames[level];
    if (!f) throw new EngineError(`No frame at level ${level}.`);
    this.selectedFrame = level;
    return f;
  }

  /** Scopes of a frame; each one's variables come from `children(scope.ref)`. */
  scopes(thread = this.selectedThread, level = this.selectedFrame): Promise<Scope[]> {
    return this.inspector.scopes(thread, level);
  }

  async children(ref: number, start = 0, count = Infinity, format: ValueFormat = 'natural'): Promise<ValueView[]> {
    const source = this.values.get(ref);
    if (!source) throw new EngineError(`no variable reference ${ref} (values expire when the guest runs)`);
    return source(Math.max(0, start), Math.min(count, MAX_CHILDREN), format);
  }

  /** A typed value of an expression in a frame (the selected one by default). */
  value(expression: string, thread = this.selectedThread, level = this.selectedFrame): Promise<Value> {
    return this.inspector.evaluate(expression, thread, level);
  }

  /** Evaluates an expression in a frame for display. */
  async evaluate(expression: string, thread = this.selectedThread, level = this.selectedFrame, format: ValueFormat = 'natural'): Promise<ValueView> {
    return this.inspector.view(expression, await this.value(expression, thread, level), format, { thread, level }, expression);
  }

  /** Assigns the C expression `value` to the lvalue `expression` in a frame; returns its new view. */
  async assign(expression: string, value: string, thread = this.selectedThread, level = this.selectedFrame, format: ValueFormat = 'natural'): Promise<ValueView> {
    this.ensureStopped('change a value');
    await this.inspector.assign(expression, value, thread, level);
    // Stack memory or registers may have changed under the frames computed so far.
    this.inspector.invalidate();
    return this.evaluate(expression, thread, level, format);
  }

  /** Assigns to the child `name` of a variables reference (a scope's variable, a member, an element). */
  async assignChild(ref: number, name: string, value: string, format: ValueFormat = 'natural'): Promise<ValueView> {
    const source = this.values.get(ref);
    const at = this.values.frameOf(ref);
    if (!source || !at) throw new EngineError(`no variable reference ${ref} (values expire when the guest runs)`);
    // Elements are found by index; anything else among all the children.
    const index = /^\[(\d+)\]$/.exec(name);
    const candidates = index ? await source(Number(index[1]), 1, format) : await source(0, MAX_CHILDREN, format);
    const child = candidates.find((c) => c.name === name);
    if (!child) throw new EngineError(`no variable named '${name}' in reference ${ref}`);
    if (child.expression === undefined) throw new EngineError(`${name} cannot be assigned (it is not a value with a C expression)`);
    return { ...(await this.assign(child.expression, value, at.thread, at.level, format)), name: child.name };
  }

  /** Completions for the C expression ending `text`, in a frame (without one: globals and functions only). */
  complete(text: string, at?: FramePosition): Promise<Completions> {
    return completeExpression(this.inspector, text, at);
  }

  /** Source-line step (into calls that have line info, or over them), as gdb's step and next. */
  async stepLine(kind: StepKind): Promise<StopInfo> {
    this.ensureStopped('step');
    const outer = await this.finishInnerFrames();
    if (outer) return outer;
    this.ensureOnVcpu('step');
    return this.setStop(await stepLine(this, this.steppingSupport(), kind, this.hiddenInlineFrames(this.selectedThread)));
  }

  /** gdb's `until` without an argument: `next` that does not stop at a jump back to an earlier line. */
  async stepUntil(): Promise<StopInfo> {
    this.ensureStopped('step');
    const outer = await this.finishInnerFrames();
    if (outer) return outer;
    this.ensureOnVcpu('step');
    const pc = (await this.target.readRegisters(this.selectedThread)).get('rip')!;
    const fn = this.program?.symbols.functionAt(pc);
    return this.setStop(await stepUntil(this, this.steppingSupport(), this.hiddenInlineFrames(this.selectedThread), fn?.ranges.find((r) => pc >= r.start && pc < r.end)?.start));
  }

  /**
   * gdb's `until LOCATION` (`anywhere` false) and `advance LOCATION`: run until the location is
   * reached, in the selected frame or an outer one for `until`, in any frame for `advance`, or
   * until the selected frame returns.
   */
  async runUntil(spec: LocationSpec, anywhere: boolean): Promise<StopInfo> {
    this.ensureStopped('run');
    const locations = await this.hooks.resolveLocation(spec);
    if (!locations.length) throw new EngineError(`no code at ${formatLocation(spec)}`);
    const thread = this.selectedThread;
    const { frames } = await this.backtrace(thread);
    const frame = frames[this.selectedFrame];
    const { physical, outer } = returnFrame(frames, this.selectedFrame);
    const targets = locations.map((l) => l.address);
    if (outer && physical?.cfa !== undefined) targets.push(outer.pc);
    const stop = await this.runToAny(targets, async (t) => {
      const regs = await this.target.readRegisters(t);
      const pc = regs.get('rip')!;
      if (outer && pc === outer.pc && !targets.slice(0, locations.length).includes(pc)) return regs.get('rsp') === physical!.cfa;
      if (anywhere || frame?.cfa === undefined) return true;
      const cfa = await innermostCfa(this.target, this.program, regs);
      // The stack grows down: the selected frame and its callers have CFAs at or above its own.
      return cfa !== undefined && cfa >= frame.cfa;
    });
    if (stop.kind !== 'step' || stop.pc === undefined || !this.program) return stop;
    // Like a breakpoint, the location shows the function it was asked in; the return shows everything.
    const here = locations.filter((l) => l.address === stop.pc).map((l) => l.inFunction);
    return this.setStop({ ...stop, hiddenInline: here.length ? inlineView(this.program.symbols, stop.pc, here).hidden : 0 });
  }

  /** Stepping from an outer physical frame first finishes the frames below it, as gdb does. */
  private async finishInnerFrames(): Promise<StopInfo | undefined> {
    if (this.selectedFrame === 0) return undefined;
    const { frames } = await this.backtrace(this.selectedThread);
    const f = frames[this.selectedFrame];
    const inner = frames[this.selectedFrame - 1];
    if (!f || !inner || f.cfa === undefined || inner.cfa === undefined || f.cfa === inner.cfa) return undefined;
    return this.runTo(f.pc, inner.cfa);
  }

  /**
   * Runs until the selected frame returns (gdb's finish); the stop is in its caller. An inlined
   * frame returns to its caller without a return instruction: the rest of it is stepped over.
   */
  async finish(): Promise<{ stop: StopInfo; returned?: Frame }> {
    this.ensureStopped('finish');
    const thread = this.selectedThread;
    const { frames } = await this.backtrace(thread);
    const frame = frames[this.selectedFrame];
    const { outer } = returnFrame(frames, this.selectedFrame);
    if (!frame || !outer) throw new EngineError('"finish" not meaningful in the outermost frame.');
    if (frame.inlined && frame.unwoundBy === 'tail-call') throw new EngineError('cannot finish an inlined call of a tail-call frame (it has no code running): finish the frame it returns to');
    if (frame.inlined) {
      // The block the inlined call returns to, by its place in the physical frame's inline chain.
      const first = frames.findIndex((f) => f.cfa === frame.cfa);
      const position = this.selectedFrame - first + (first === 0 ? this.hiddenInlineFrames(thread) : 0);
      const callerKey = this.program ? inlineView(this.program.symbols, frame.lookupPc).frames[position + 1]?.key : undefined;
      const inner = await this.finishInnerFrames();
      if (inner && inner.kind !== 'step') return { stop: inner };
      this.ensureOnVcpu('finish');
      return { stop: this.setStop(await finishInlined(this, this.steppingSupport(), callerKey)) };
    }
    if (frame.cfa === undefined) throw new EngineError('cannot finish: the frame address is unknown');
    const stop = await this.runTo(outer.pc, frame.cfa);
    return { stop, returned: frame };
  }

  private steppingSupport(): SteppingSupport {
    const program = this.program;
    return {
      lineAt: async (pc) => program?.symbols.stepLineAt(pc),
      inlineExtent: async (pc) => program?.symbols.inlineExtentAt(pc),
      inlineAt: async (pc) => (program ? inlineView(program.symbols, pc) : { frames: [], hidden: 0 }),
      functionBodyStart: async (pc) => (program?.symbols.lineAt(pc) ? program.symbols.functionBodyStart(pc) : undefined),
      cfa: async (thread) => innermostCfa(this.target, program, await this.inspector.registersOf(thread)),
      caller: async (thread) => {
        const { physical, outer } = returnFrame((await this.backtrace(thread)).frames, 0);
        return outer && physical?.cfa !== undefined ? { pc: outer.pc, cfa: physical.cfa } : undefined;
      },
    };
  }

  /** Loads symbols (and resolves pending breakpoints against them). */
  async loadProgram(program: Program): Promise<void> {
    this.inspector.program = program;
    this.program = program;
    this.hooks = symbolHooks(this, program);
    const unikernel = detectUnikernel(program);
    this.guest = unikernel && GuestThreads.of(this, unikernel);
    this.inspector.resumed();
    await this.resolvePending();
  }

  /** ` <func+off>` (or ` <+off>` with `offsetOnly`) for an address gdb names by a symbol, else ''. */
  symbolSuffix(address: bigint, offsetOnly = false): string {
    return symbolSuffix(this.program, address, offsetOnly);
  }

  functionRange(address: bigint): { name: string; low: bigint; high: bigint } | undefined {
    const sym = this.hooks.symbolAt(address);
    return sym && sym.size > 0n ? { name: sym.name, low: sym.address, high: sym.address + sym.size } : undefined;
  }

  /** The CPU mode of the selected vCPU decides 16/32/64-bit decoding (a PVH guest starts in 32-bit). */
  async codeBitness(): Promise<Bitness> {
    const regs = await this.inspector.registersOf(this.selectedThread);
    const cr0 = regs.get('cr0');
    const efer = regs.get('efer');
    if (cr0 === undefined || efer === undefined) return 64;
    return bitnessFromCpuState({ cr0, efer });
  }

  /** Every instruction that starts in [start, end), decoded from one read. */
  /** The instructions that start in [start, end), the last one read whole as gdb shows it. */
  async disassembleRange(start: bigint, end: bigint): Promise<DecodedInstruction[]> {
    const size = Number(end - start);
    const bytes = await this.target.readMemory(start, size + 15).catch(() => this.target.readMemory(start, size));
    return (await disassemble(bytes, start, await this.codeBitness(), { symbolize: this.targetName })).filter((i) => i.address < end);
  }

  async disassembleAt(address: bigint, count: number): Promise<DecodedInstruction[]> {
    const bitness = await this.codeBitness();
    const out: DecodedInstruction[] = [];
    let at = address;
    while (out.length < count) {
      const insn = await decodeAt(this.target, at, bitness, this.targetName);
      if (!insn) {
        if (out.length === 0) throw new EngineError(`cannot read code at 0x${at.toString(16)}`);
        break;
      }
      out.push(insn);
      at += BigInt(insn.length);
    }
    return out;
  }

  /** `func+off` for a branch target or RIP-relative operand in disassembly, as gdb annotates it. */
  private readonly targetName = (address: bigint): string | undefined => this.symbolSuffix(address).slice(2, -1) || undefined;

  /** A NUL-terminated string of at most `max` bytes, read in small pieces (it may end near a page end). */
  async readCString(address: bigint, max: number): Promise<{ value: string; length: number; truncated: boolean }> {
    const bytes: number[] = [];
    let at = address;
    while (bytes.length < max) {
      const chunk = await this.target.readMemory(at, Math.min(64, max - bytes.length, Number(0x1000n - (at & 0xfffn))));
      const nul = chunk.indexOf(0);
      bytes.push(...(nul < 0 ? chunk : chunk.subarray(0, nul)));
      if (nul >= 0) return { value: Buffer.from(bytes).toString('latin1'), length: bytes.length, truncated: false };
      at += BigInt(chunk.length);
    }
    return { value: Buffer.from(bytes).toString('latin1'), length: bytes.length, truncated: true };
  }

  async writeRegister(thread: number, name: string, value: bigint): Promise<void> {
    this.ensureStopped('write a register');
    if (this.inspector.isSavedContext(thread)) throw new EngineError(`cannot write $${name}: this guest thread's registers are its saved context in memory`);
    await this.target.writeRegister(thread, name, value);
    this.inspector.invalidate();
    if (name === 'rip' || name === 'pc') this.run.setPosition(thread, value);
  }
}

/** stepi shows the innermost frame even at an inlined call's first instruction, as gdb does. */
async function stepStop(raw: RawStop): Promise<StopInfo | undefined> {
  return raw.reason.kind === 'trap' && !raw.reason.watch ? { kind: 'step', thread: raw.reason.thread, pc: raw.pc!, hiddenInline: 0 } : undefined;
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
