// Running the guest: the session's run state, the resume loop that asks the stop policy (or an
// engine plan that claims its own stops) whether each target stop is the user's, running to an
// address in one frame of one guest thread, interrupting, and detaching without a trace.
import type { MemoryRange, ResumeAction, Target } from '../targets/index.js';
import { TargetError } from '../targets/target.js';
import type { Sites } from './breakpoints.js';
import { EngineError } from './errors.js';
import type { GuestThreads } from './guest-threads.js';
import type { Inspector } from './inspect.js';
import type { RawStop, RunControl } from './run-control.js';
import type { StopEvent } from './stop-event.js';
import type { StopPolicy } from './stop-policy.js';
import type { VariableStore } from './variables.js';

/** The guest thread a run keeps to (its address), or none: no thread model, or no thread on that vCPU. */
export interface GuestOwner {
  address: bigint | undefined;
}

export interface RunToOptions {
  /** The guest thread to keep to (default: the one the thread runs now). */
  owner?: GuestOwner;
  /** Memory the caller reads at each stop (see Target.resume). */
  readAtStop?: readonly MemoryRange[];
}

/**
 * Lets an engine plan look at a stop first: the stop to report, 'continue' or 'resume-step' to
 * keep going, or undefined to leave it to the stop policy.
 */
type StopClaim = (stop: RawStop) => Promise<StopEvent | 'continue' | 'resume-step' | undefined>;

type RunState = 'stopped' | 'running' | 'exited' | 'detached' | 'disconnected';

interface RunnerParts {
  target: Target;
  control: RunControl;
  sites: Sites;
  policy: StopPolicy;
  inspector: Inspector;
  values: VariableStore;
  guest: () => GuestThreads | undefined;
  /** Called at every resume (the session tells its front ends once per operation). */
  running: () => void;
}

export class Runner {
  state: RunState = 'stopped';
  private last: StopEvent | undefined;
  /** The stopped thread's hidden inlined frames (see StopPlace.hiddenInline); other threads hide none. */
  private hidden: { thread: number; count: number } | undefined;
  /**
   * Set by interrupt() while a run is on: an operation that resumes several times (stepping off a
   * breakpoint, declining stops in other frames) must end, though the stub may be stopped between
   * two of its resumes, when it ignores an interrupt.
   */
  private interruptRequested = false;
  /** Inside a stepping operation: its temporary stops may stay planted from one run to the next (Sites.drop's park). */
  private keepParked = false;

  constructor(private readonly p: RunnerParts) {}

  /** Records where the guest stands (after attach or a register write). */
  setPosition(thread: number, pc: bigint): void {
    this.p.control.setPosition(thread, pc);
  }

  pcOf(thread: number): Promise<bigint> {
    return this.p.control.pcOf(thread);
  }

  /** The last stop (of the last operation, or inside the current one). */
  get lastStop(): StopEvent | undefined {
    return this.last;
  }

  get interrupted(): boolean {
    return this.interruptRequested;
  }

  ensureStopped(what: string): void {
    if (this.state === 'running') throw new EngineError(`cannot ${what} while the guest is running (interrupt it first)`);
    if (this.state === 'exited') throw new EngineError(`cannot ${what}: the guest has exited`);
    if (this.state === 'detached') throw new EngineError(`cannot ${what}: detached from the guest`);
    // The target is gone, not the request wrong: the target's own kind of error.
    if (this.state === 'disconnected') throw new TargetError(`cannot ${what}: the connection to the guest is closed`);
  }

  /** ensureStopped, and the target can run at all (a crash dump never does). */
  ensureResumable(what: string): void {
    if (this.p.target.kind === 'dump') throw new EngineError(`cannot ${what}: a crash dump is read-only`);
    this.ensureStopped(what);
  }

  /** The target's connection is gone (QEMU ended, the stub vanished): nothing more can be done. */
  disconnected(): void {
    if (this.state === 'stopped' || this.state === 'running') this.state = 'disconnected';
  }

  /** How many innermost inlined frames the thread's backtrace hides at this stop. */
  hiddenInlineFrames(thread: number): number {
    return this.hidden?.thread === thread ? this.hidden.count : 0;
  }

  /** Records a stop as where the guest stands now. */
  record(stop: StopEvent): StopEvent {
    this.hidden = stop.kind !== 'exited' && stop.hiddenInline ? { thread: stop.thread, count: stop.hiddenInline } : undefined;
    this.p.inspector.invalidate();
    this.last = stop;
    this.state = stop.kind === 'exited' ? 'exited' : 'stopped';
    return stop;
  }

  /**
   * Runs a stepping operation (step, next, until, advance, finish): the temporary stops of its runs
   * are parked, not removed, and stay for the next such operation; any other resume removes them.
   */
  async stepping(op: () => Promise<StopEvent>): Promise<StopEvent> {
    const outer = this.keepParked;
    this.keepParked = true;
    try {
      return await op();
    } finally {
      this.keepParked = outer;
    }
  }

  /** Removes the parked stops of earlier steps from the target. */
  unpark(): Promise<void> {
    return this.p.sites.unpark();
  }

  /** Resumes with `first` and runs until a stop the claim or the stop policy reports. */
  async resume(first: ResumeAction, claim?: StopClaim, readAtStop?: readonly MemoryRange[]): Promise<StopEvent> {
    this.ensureResumable('resume');
    if (!this.keepParked) await this.p.sites.unpark();
    this.state = 'running';
    this.interruptRequested = false;
    this.p.values.clear();
    this.hidden = undefined;
    this.p.inspector.resumed();
    this.p.running();
    let action: ResumeAction = first;
    try {
      for (;;) {
        const raw = await this.p.control.resumeOnce(action, () => this.interruptRequested, readAtStop);
        // Conditions and log messages evaluated at earlier stops of this run must not leave their
        // frames behind for this one (the vCPU ran in between).
        this.p.inspector.invalidate();
        if (raw.reason.kind === 'exited') return this.record({ kind: 'exited', exitCode: raw.reason.code });
        const claimed = claim ? await claim(raw) : undefined;
        if (claimed === 'continue' || claimed === 'resume-step') {
          action = claimed === 'continue' ? { kind: 'continue' } : { kind: 'step', thread: raw.reason.thread };
          continue;
        }
        if (claimed) return this.record(claimed);
        // A parked stop of an earlier step, reached before this run's own: nobody's.
        if (first.kind === 'continue' && 'pc' in raw && raw.reason.kind === 'trap' && !raw.reason.watch && this.p.sites.parkedAt(raw.pc)) {
          action = { kind: 'continue' };
          continue;
        }
        const decided = await this.p.policy.decide(raw, first.kind === 'step');
        if (decided) return this.record(decided);
        action = { kind: 'continue' };
      }
    } catch (e) {
      // The target failed mid-run (timeout, connection lost): report, and stay usable if it is.
      if (this.state === 'running') this.state = this.p.target.running ? 'running' : 'stopped';
      throw e;
    }
  }

  /** The guest thread an engine thread stands for now (what runToAny keeps to). */
  async guestOwner(thread: number): Promise<GuestOwner> {
    return { address: await this.p.guest()?.ownerOf(thread) };
  }

  /**
   * Runs until some vCPU reaches `address` with its stack pointer equal to `sp` (that frame of that
   * stack: recursion and other guest threads passing by do not count, and the guest thread may have
   * moved to another vCPU meanwhile).
   */
  runTo(address: bigint, sp: bigint, thread: number, opts: RunToOptions = {}): Promise<StopEvent> {
    return this.runToAny([address], async (t) => (await this.p.target.readRegisters(t)).get('rsp') === sp, thread, opts);
  }

  /**
   * Runs until a vCPU reaches one of `addresses` and `accept` agrees (same frame), running the
   * guest thread `thread` stands for, or `owner` (a step of several runs names it once): its
   * current-thread pointer is checked, so a step stays with it when the scheduler moves it. User
   * breakpoints hit on the way stop as usual.
   */
  async runToAny(
    addresses: bigint[],
    accept: (thread: number) => Promise<boolean>,
    thread: number,
    opts: RunToOptions = {},
  ): Promise<StopEvent> {
    const guest = this.p.guest();
    const { address: owner } = opts.owner ?? (await this.guestOwner(thread));
    // The current-thread pointer this vCPU will be checked by is read with its registers.
    const pointer = owner === undefined ? undefined : await guest!.currentLocation(thread);
    const readAtStop = [...(opts.readAtStop ?? []), ...(pointer ? [pointer] : [])];
    const ours = async (t: number) => {
      if (owner === undefined) return accept(t);
      const [inFrame, running] = await Promise.all([accept(t), guest!.currentOn(t)]);
      return inFrame && running === owner;
    };
    const { sites, policy } = this.p;
    const planted: bigint[] = [];
    try {
      for (const a of new Set(addresses)) {
        await sites.add('sw', a);
        planted.push(a);
      }
      return await this.resume(
        { kind: 'continue' },
        async (stop) => {
          if (!('pc' in stop) || stop.reason.kind !== 'trap' || !planted.includes(stop.pc)) return undefined;
          const t = stop.reason.thread;
          const pc = stop.pc;
          // A watchpoint reported here comes first; one not reported leaves the stop to us.
          const watched = stop.reason.watch && (await policy.watch(t, pc, stop.reason.watch.address));
          if (watched) return watched;
          const user = () => policy.userStopAt(t, pc);
          if (!(await ours(t))) return (await user()) ?? 'continue';
          // A user breakpoint here gets its say (conditions, counts); otherwise this is our stop.
          return (await user()) ?? { kind: 'step', ...policy.place(t, pc) };
        },
        readAtStop,
      );
    } finally {
      if (this.state !== 'exited') for (const a of planted) await sites.drop('sw', a, 1, this.keepParked);
    }
  }

  /**
   * Runs until some vCPU reaches `address` (with a hardware breakpoint, which holds even where the
   * code is not in memory yet), reported as an entry stop there.
   */
  async runToEntry(address: bigint): Promise<StopEvent> {
    await this.p.sites.add('hw', address);
    try {
      return await this.resume({ kind: 'continue' }, async (raw) =>
        'pc' in raw && raw.reason.kind === 'trap' && !raw.reason.watch && raw.pc === address
          ? { kind: 'entry', thread: raw.reason.thread, pc: address, hiddenInline: 0 }
          : undefined,
      );
    } finally {
      if (this.state !== 'exited') await this.p.sites.drop('hw', address);
    }
  }

  async interrupt(): Promise<void> {
    if (this.state !== 'running') return;
    this.interruptRequested = true;
    await this.p.target.interrupt();
  }

  /** Removes every breakpoint of ours and leaves the guest running. */
  async detach(): Promise<void> {
    if (this.state === 'running') await this.p.target.interrupt();
    const errors = await this.p.sites.clear();
    await this.p.target.detach();
    this.state = 'detached';
    if (errors.length) throw new EngineError(`detached, but ${errors.length} breakpoint(s) could not be removed: ${errors[0]!.message}`);
  }
}
