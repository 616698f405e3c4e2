// A debugging session over one Target: the stopped-guest model every front end uses, as a thin
// facade over its parts (breakpoint table, stop policy, runner, stepper, code view, inspector). Every
// call names the thread and frame it applies to; which ones are selected is each front end's own
// business. Each operation that runs the guest emits `running` once and `stopped` once, with the
// typed StopEvent the stop policy decided.
import { EventEmitter } from 'node:events';
import path from 'node:path';
import type { Target, TargetThread } from '../targets/index.js';
import { BreakpointTable, type BreakpointOptions, type WatchRequest } from './breakpoint-table.js';
import { Sites, type Breakpoint, type BreakpointLocation, type UserPoint, type Watchpoint } from './breakpoints.js';
import { CodeView } from './code-view.js';
import { completeExpression, type Completions } from './complete.js';
import { EngineError } from './errors.js';
import { T } from './evaluate.js';
import type { GuestOs, GuestOsDetector } from './guest-os.js';
import { guestAccess } from './guest-access.js';
import { GuestThreads } from './guest-threads.js';
import { Inspector } from './inspect.js';
import type { LocationSpec } from './location.js';
import type { Frame, FramePosition, Scope, ValueFormat, ValueView } from './model.js';
import type { Program } from './program.js';
import { RunControl } from './run-control.js';
import { Runner } from './runner.js';
import { frameRegister, type Backtrace } from './stack.js';
import { Stepper } from './stepper.js';
import type { StepKind } from './stepping.js';
import type { PlacedStop, StopEvent } from './stop-event.js';
import { StopPolicy, type MachineState } from './stop-policy.js';
import { noSymbols, symbolHooks, type SessionHooks } from './symbol-hooks.js';
import type { Value } from './values.js';
import { VariableStore } from './variables.js';
import { checkSymbols, type SymbolCheck } from './symbol-check.js';
import { truncationWarning, warningKey, type SessionWarning } from './warnings.js';

interface SessionEvents {
  /** Text for the user: logpoint messages, the stub's console output, warnings. */
  output: [category: 'console' | 'stdout' | 'stderr' | 'important', text: string];
  /** An operation resumed the guest (once per operation, however many resumes it takes). */
  running: [];
  /** An operation ended (once per operation), or the session opened. */
  stopped: [StopEvent];
  breakpointChanged: [UserPoint];
  /** Something the user should know before trusting what is shown (also kept in `warnings`). */
  warning: [SessionWarning];
}

interface SessionOptions {
  /** The machine's own state, when something reports it (QEMU's QMP): tells a guest panic from a signal. */
  machine?: MachineState;
  /** Recognises the guest's operating system when symbols load (see src/os). */
  detectOs?: GuestOsDetector;
}

/** The most children one request lists (paging covers bigger arrays). */
const MAX_CHILDREN = 1 << 20;

export class Session extends EventEmitter<SessionEvents> {
  readonly values = new VariableStore();
  readonly inspector: Inspector;
  readonly code: CodeView;
  readonly runner: Runner;
  readonly sites: Sites;
  private readonly table: BreakpointTable;
  private readonly policy: StopPolicy;
  private readonly stepper: Stepper;
  private hooks: SessionHooks = noSymbols;
  /** Every warning so far, in order (front ends that start listening late show these first). */
  readonly warnings: SessionWarning[] = [];
  private readonly warned = new Set<string>();
  /** Whether the current operation has told the front ends that the guest runs. */
  private announced = false;
  program: Program | undefined;
  /** The guest's operating system, when a plugin recognised the image. */
  os: GuestOs | undefined;
  /** The unikernel's own threads, when its OS plugin knows them. */
  guest: GuestThreads | undefined;

  constructor(
    readonly target: Target,
    private readonly opts: SessionOptions = {},
  ) {
    super();
    this.inspector = new Inspector(
      target,
      this.values,
      (thread, name, value) => this.writeRegister(thread, name, value),
      (thread) => this.runner.hiddenInlineFrames(thread),
    );
    this.code = new CodeView(
      target,
      (thread) => this.inspector.registersOf(thread),
      () => this.program,
    );
    this.sites = new Sites(target);
    this.table = new BreakpointTable(target, this.sites, (p) => this.emit('breakpointChanged', p));
    this.policy = new StopPolicy({
      target,
      table: this.table,
      code: this.code,
      hooks: () => this.hooks,
      program: () => this.program,
      os: () => this.os,
      guest: () => this.guest,
      backtrace: (thread) => this.inspector.backtrace(thread),
      machine: opts.machine,
      output: (category, text) => this.emit('output', category, text),
    });
    const control = new RunControl(target, this.sites);
    this.runner = new Runner({
      target,
      control,
      sites: this.sites,
      policy: this.policy,
      inspector: this.inspector,
      values: this.values,
      guest: () => this.guest,
      running: () => this.announceRunning(),
    });
    this.stepper = new Stepper({
      target,
      runner: this.runner,
      code: this.code,
      inspector: this.inspector,
      policy: this.policy,
      program: () => this.program,
      resolveLocation: (spec) => this.hooks.resolveLocation(spec),
    });
    target.on('console', (text) => this.emit('output', 'console', text));
    target.on('close', () => this.runner.disconnected());
    // The guest's run is the debugger's idle time: build then what the stop will need, once
    // waiting for it has begun (the stop reply waits in the socket meanwhile).
    target.on('running', () => setImmediate(() => this.program?.prepareForStops()));
  }

  /** Takes over a halted target where it stands: a live guest at its first vCPU, a dump where it panicked. */
  async start(kind: 'entry' | 'interrupt' | 'dump' = 'entry'): Promise<PlacedStop> {
    const [first] = await this.target.threadIds(1);
    if (first === undefined) throw new EngineError('the target reports no vCPUs');
    const cut = this.target.truncation;
    if (cut) this.warn(truncationWarning(this.target, cut));
    const pc = await this.runner.pcOf(first);
    const stop = kind === 'dump' ? await this.policy.opened(first, pc) : { kind, thread: first, pc, hiddenInline: 0 };
    this.runner.setPosition(stop.thread, stop.pc);
    return this.stopped(stop);
  }

  /** The stop the guest stands at (undefined before start). */
  get stop(): StopEvent | undefined {
    return this.runner.lastStop;
  }

  get isRunning(): boolean {
    return this.runner.state === 'running';
  }

  get isAlive(): boolean {
    return this.runner.state === 'stopped' || this.runner.state === 'running';
  }

  /** A clear error when the guest cannot be inspected or changed now (running, exited, detached). */
  ensureStopped(what: string): void {
    this.runner.ensureStopped(what);
  }

  /** ensureStopped, and the guest can run at all (a crash dump never does). */
  ensureResumable(what: string): void {
    this.runner.ensureResumable(what);
  }

  threads(): Promise<TargetThread[]> {
    return this.target.threads();
  }

  threadIds(atLeast?: number): Promise<readonly number[]> {
    return this.target.threadIds(atLeast);
  }

  // ---- symbols ------------------------------------------------------------------------------------

  /** Loads symbols, recognises the guest's OS from them, and resolves pending breakpoints. */
  async loadProgram(program: Program): Promise<void> {
    this.inspector.program = program;
    this.program = program;
    // Damage found in the symbols (now or by later lookups) is named once; the rest keeps working.
    program.symbols.damage.onDamage((d) =>
      this.warn({
        kind: 'damaged-symbols',
        symbols: program.path,
        section: d.section,
        offset: d.offset,
        message: `${path.basename(program.path)}: ${d.section} at offset 0x${d.offset.toString(16)}: ${d.message}`,
      }),
    );
    this.hooks = symbolHooks(this, program);
    this.os = this.opts.detectOs?.(guestAccess(this, program));
    const os = this.os;
    // A description written for another version of the unikernel: warn once, then vCPUs only.
    this.guest =
      os?.threads &&
      new GuestThreads(os.name, os.threads, this.inspector, (reason) => {
        this.guest = undefined;
        this.warn({
          kind: 'os-model',
          unikernel: os.name,
          message: `${os.name}'s thread list does not fit this image (${reason}): showing vCPUs only`,
        });
      });
    this.inspector.resumed();
    // A guest without pvpanic would crash unnoticed (Unikraft powers QEMU off): stop on the way.
    if (this.target.kind === 'live') for (const c of this.os?.crashSites ?? []) await this.sites.add('sw', c.address);
    await this.table.resolvePending((spec) => this.hooks.resolveLocation(spec));
  }

  /**
   * Compares the symbols with the guest (its build ID note, else samples of its read-only
   * contents): a mismatch becomes a warning. Once per session, when it opens; never per stop.
   */
  async verifySymbols(): Promise<SymbolCheck> {
    if (!this.program) return { verdict: 'unknown' };
    const check = await checkSymbols(this.target, this.program);
    if (check.verdict === 'mismatch') this.warn(check.warning);
    return check;
  }

  /** True when the symbols were found not to belong to the guest (every backtrace says so). */
  get symbolsMismatch(): boolean {
    return this.warned.has('symbols-mismatch');
  }

  /** Records a warning once and tells the front ends. */
  warn(w: SessionWarning): void {
    const key = warningKey(w);
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.warnings.push(w);
    this.emit('warning', w);
  }

  /** The code addresses a location names, as a breakpoint there would be placed. */
  resolveLocation(spec: LocationSpec): Promise<BreakpointLocation[]> {
    return this.hooks.resolveLocation(spec);
  }

  // ---- breakpoints and watchpoints ------------------------------------------------------------------

  breakpoints(): UserPoint[] {
    return this.table.all();
  }

  point(id: number): UserPoint {
    return this.table.get(id);
  }

  /** Adds a breakpoint; an unresolvable location becomes pending when `pendingOk`. */
  async addBreakpoint(spec: LocationSpec, opts: BreakpointOptions = {}): Promise<Breakpoint> {
    this.ensureStopped('set a breakpoint');
    const bp = await this.table.addBreakpoint(spec, (s) => this.hooks.resolveLocation(s), opts);
    this.inspector.setConvenience('bpnum', T.int, BigInt(bp.id));
    return bp;
  }

  async addWatchpoint(w: WatchRequest): Promise<Watchpoint> {
    this.ensureStopped('set a watchpoint');
    const wp = await this.table.addWatchpoint(w);
    this.inspector.setConvenience('bpnum', T.int, BigInt(wp.id));
    return wp;
  }

  /** Where the lvalue `expression` lives in a frame and how big it is (what `watch EXPR` watches). */
  watchTarget(expression: string, at: FramePosition): Promise<{ address: bigint; size: number }> {
    this.ensureStopped('set a watchpoint');
    return this.hooks.locateLvalue(expression, at);
  }

  /** Text of a watched expression's value from its raw bytes, typed in a thread's innermost frame. */
  formatWatchValue(point: Watchpoint, bytes: Uint8Array, thread: number): Promise<string> {
    return this.hooks.formatWatchValue(point, bytes, thread);
  }

  async deletePoint(id: number): Promise<void> {
    this.ensureStopped('delete a breakpoint');
    await this.table.delete(id);
  }

  async setEnabled(id: number, enabled: boolean): Promise<void> {
    this.ensureStopped('change a breakpoint');
    await this.table.setEnabled(id, enabled);
  }

  // ---- running ----------------------------------------------------------------------------------------

  continue(): Promise<StopEvent> {
    return this.operate(() => this.runner.resume({ kind: 'continue' }));
  }

  /** One instruction of a thread; `over` runs a call to its return instead of entering it. */
  stepInstruction(thread: number, over = false): Promise<StopEvent> {
    return this.operate(() => this.stepper.stepInstruction(thread, over));
  }

  /** `count` instructions (stepi N, nexti N), ending early at anything but a finished step. */
  stepInstructions(thread: number, count: number, over = false): Promise<StopEvent> {
    return this.operate(async () => {
      // Parked step stops would end a run of single steps early: they go first.
      await this.runner.unpark();
      return this.stepper.stepInstructions(thread, count, over, this.sites.planted > 0);
    });
  }

  /** Source-line step from a frame (into calls that have line info, or over them), as gdb's step and next. */
  stepLine(kind: StepKind, at: FramePosition): Promise<StopEvent> {
    return this.operate(() => this.runner.stepping(() => this.stepper.stepLine(kind, at)));
  }

  /** gdb's `until` without an argument. */
  stepUntil(at: FramePosition): Promise<StopEvent> {
    return this.operate(() => this.runner.stepping(() => this.stepper.stepUntil(at)));
  }

  /** gdb's `until LOCATION` (`anywhere` false) and `advance LOCATION`. */
  runUntil(spec: LocationSpec, anywhere: boolean, at: FramePosition): Promise<StopEvent> {
    return this.operate(() => this.runner.stepping(() => this.stepper.runUntil(spec, anywhere, at)));
  }

  /** Runs until a frame returns (gdb's finish, DAP stepOut); a `step` stop carries the value returned. */
  finish(at: FramePosition): Promise<StopEvent> {
    return this.operate(() => this.runner.stepping(() => this.stepper.finish(at)));
  }

  /** Runs to an address in one frame of one guest thread (as `finish` does), as one operation. */
  runTo(address: bigint, sp: bigint, thread: number): Promise<StopEvent> {
    return this.operate(() => this.runner.runTo(address, sp, thread));
  }

  /** Runs to an address where the guest will come (an image's entry point), as an entry stop. */
  runToEntry(address: bigint): Promise<StopEvent> {
    return this.operate(() => this.runner.runToEntry(address));
  }

  interrupt(): Promise<void> {
    return this.runner.interrupt();
  }

  /** Removes every breakpoint of ours and leaves the guest running. */
  detach(): Promise<void> {
    return this.runner.detach();
  }

  /** How many innermost inlined frames a thread's backtrace hides at this stop. */
  hiddenInlineFrames(thread: number): number {
    return this.runner.hiddenInlineFrames(thread);
  }

  // ---- the stopped guest -----------------------------------------------------------------------------

  /** The backtrace of a vCPU (or saved context), innermost first, with why it ended early (if it did). */
  backtrace(thread: number): Promise<Backtrace> {
    return this.inspector.backtrace(thread);
  }

  async frames(thread: number, limit = 256): Promise<Frame[]> {
    return (await this.inspector.frames(thread, await this.backtrace(thread))).slice(0, limit);
  }

  /** Registers of a frame (outer frames: what unwinding recovered). */
  async frameRegisters(at: FramePosition): Promise<Map<string, bigint>> {
    const regs = await this.inspector.registersOf(at.thread);
    if (at.level === 0) return regs;
    const frame = await this.inspector.frame(at.thread, at.level);
    const out = new Map<string, bigint>();
    for (const name of regs.keys()) {
      const v = await frameRegister(frame, name);
      if (v !== undefined) out.set(name, v);
    }
    return out;
  }

  /** Scopes of a frame; each one's variables come from `children(scope.ref)`. */
  scopes(at: FramePosition): Promise<Scope[]> {
    const stop = this.runner.lastStop;
    const returned = stop?.kind === 'step' && stop.thread === at.thread ? stop.returned : undefined;
    return this.inspector.scopes(at.thread, at.level, returned);
  }

  async children(ref: number, start = 0, count = Infinity, format: ValueFormat = 'natural'): Promise<ValueView[]> {
    const source = this.values.get(ref);
    if (!source) throw new EngineError(`no variable reference ${ref} (values expire when the guest runs)`);
    return source(Math.max(0, start), Math.min(count, MAX_CHILDREN), format);
  }

  /** A typed value of an expression in a frame. */
  value(expression: string, at: FramePosition): Promise<Value> {
    return this.inspector.evaluate(expression, at.thread, at.level);
  }

  /** The integer value of an expression in a frame (an address for `x`, `disassemble`, `*EXPR`). */
  evaluateInteger(expression: string, at: FramePosition): Promise<bigint> {
    return this.hooks.evaluateInteger(expression, at);
  }

  /** Evaluates an expression in a frame for display. */
  async evaluate(expression: string, at: FramePosition, format: ValueFormat = 'natural'): Promise<ValueView> {
    return this.inspector.view(expression, await this.value(expression, at), format, at, expression);
  }

  /** Assigns the C expression `value` to the lvalue `expression` in a frame; returns its new view. */
  async assign(expression: string, value: string, at: FramePosition, format: ValueFormat = 'natural'): Promise<ValueView> {
    this.ensureStopped('change a value');
    await this.inspector.assign(expression, value, at.thread, at.level);
    // Stack memory or registers may have changed under the frames computed so far.
    this.inspector.invalidate();
    return this.evaluate(expression, at, format);
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
    return { ...(await this.assign(child.expression, value, at, format)), name: child.name };
  }

  /** Completions for the C expression ending `text`, in a frame (without one: globals and functions only). */
  complete(text: string, at?: FramePosition): Promise<Completions> {
    return completeExpression(this.inspector, text, at);
  }

  async writeRegister(thread: number, name: string, value: bigint): Promise<void> {
    this.ensureStopped('write a register');
    if (this.inspector.isSavedContext(thread))
      throw new EngineError(`cannot write $${name}: this guest thread's registers are its saved context in memory`);
    await this.target.writeRegister(thread, name, value);
    this.inspector.invalidate();
    if (name === 'rip' || name === 'pc') this.runner.setPosition(thread, value);
  }

  // ---- operations --------------------------------------------------------------------------------------

  /** Runs one user operation: `running` at its first resume, `stopped` once at its end. */
  private async operate(op: () => Promise<StopEvent>): Promise<StopEvent> {
    this.announced = false;
    return this.stopped(await op());
  }

  private stopped<S extends StopEvent>(stop: S): S {
    this.runner.record(stop);
    this.emit('stopped', stop);
    return stop;
  }

  private announceRunning(): void {
    if (this.announced) return;
    this.announced = true;
    this.emit('running');
  }
}
