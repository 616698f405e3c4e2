// Resuming the guest the way a debugger must: step the stopped vCPU off a breakpoint under its PC
// before letting it run (QEMU would report the same breakpoint again at once), and run until a
// stop that the caller's predicate accepts, re-resuming on stops it declines.
import type { MemoryRange, ResumeAction, StopReason, Target } from '../targets/index.js';
import type { Sites } from './breakpoints.js';

/** A target stop as it came, with the stopped vCPU's pc (an exit has neither). */
export type RawStop =
  | { reason: Extract<StopReason, { kind: 'exited' }> }
  | {
      reason: Exclude<StopReason, { kind: 'exited' }>;
      pc: bigint;
      /** The stub said watchpoint, for no watch of ours: if nothing else explains the stop, it is none. */
      staleWatch?: true;
    };

export class RunControl {
  /** The vCPU and PC of the last stop: a breakpoint there must be stepped over, not re-hit. */
  private at: { thread: number; pc: bigint } | undefined;

  constructor(
    private readonly target: Target,
    private readonly sites: Sites,
  ) {}

  /** Records where the guest stands (after attach or a register write). */
  setPosition(thread: number, pc: bigint): void {
    this.at = { thread, pc };
  }

  async pcOf(thread: number): Promise<bigint> {
    const pc = (await this.target.readRegisters(thread)).get('rip');
    if (pc === undefined) throw new Error(`vCPU ${thread} has no rip`);
    return pc;
  }

  /**
   * One resume and the stop it ends with, stepping off a breakpoint first when needed. Once
   * `interrupted` says so, it resumes no more and reports an interrupt where the vCPU stands.
   * `readAtStop`: memory to read with the registers at the stop (see Target.resume).
   */
  async resumeOnce(action: ResumeAction, interrupted: () => boolean = () => false, readAtStop?: readonly MemoryRange[]): Promise<RawStop> {
    const here = this.at;
    if (here && (action.kind === 'continue' || action.thread === here.thread)) {
      const putBack = await this.sites.lift(here.pc);
      if (putBack) {
        let stop: StopReason;
        try {
          stop = await this.stepThread(here.thread);
        } finally {
          await putBack();
        }
        // The step itself was the user's request, or it ended somewhere other than the next
        // instruction (a watchpoint, an exception): either way it is the stop to report.
        if (action.kind === 'step' || stop.kind !== 'trap' || stop.watch) return this.stopped(stop);
        if (interrupted()) return this.stopped({ kind: 'interrupt', thread: stop.thread });
        return this.stopped(await this.target.resume(action, readAtStop));
      }
    }
    // Checked with nothing awaited before the resume goes out, so no interrupt falls in between.
    if (interrupted() && here) return { reason: { kind: 'interrupt', thread: here.thread }, pc: here.pc };
    if (action.kind === 'step' && (action.count ?? 1) === 1) return this.stopped(await this.stepThread(action.thread, readAtStop));
    return this.stopped(await this.target.resume(action, readAtStop));
  }

  /**
   * One instruction of `thread`. QEMU keeps one pending stop per vCPU, and another vCPU's
   * breakpoint hit can come back instead of this step: that vCPU is still on its breakpoint and
   * stops there again when resumed, while this one has not moved. So the step is asked again;
   * taking the other stop for this step's end would leave this vCPU where it was (a continue
   * after it reported the same breakpoint twice; a `step` stopped on the line it started).
   */
  private async stepThread(thread: number, readAtStop?: readonly MemoryRange[]): Promise<StopReason> {
    let stop = await this.target.resume({ kind: 'step', thread }, readAtStop);
    for (let retry = 0; retry < 4 && stop.kind === 'trap' && !stop.watch && stop.thread !== thread; retry++) {
      stop = await this.target.resume({ kind: 'step', thread }, readAtStop);
    }
    return stop;
  }

  private async stopped(reason: StopReason): Promise<RawStop> {
    if (reason.kind === 'exited') {
      this.at = undefined;
      return { reason };
    }
    // When two vCPUs trigger a watchpoint together QEMU reports one; the other keeps a record of
    // its hit that outlives the watchpoint and rides on that vCPU's later stops (a breakpoint, a
    // step, or a stop of its own on its next access to a watched page), its address garbage.
    const stale = reason.kind === 'trap' && reason.watch !== undefined && !this.sites.watches(reason.watch.address);
    if (stale) reason = { kind: 'trap', thread: reason.thread };
    const pc = await this.pcOf(reason.thread);
    this.at = { thread: reason.thread, pc };
    return { reason, pc, ...(stale && { staleWatch: true as const }) };
  }
}
