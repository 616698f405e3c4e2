// The one place that decides what a raw target stop means: a user breakpoint hit (conditions, hit
// counts, ignore counts, logpoints, thread filters), a watchpoint that really fired, a finished step,
// an interrupt, a signal, or a guest panic (and on which vCPU), or nothing worth stopping for.
import type { Target } from '../targets/index.js';
import { hitConditionMet, type Breakpoint, type Watchpoint } from './breakpoints.js';
import type { BreakpointTable } from './breakpoint-table.js';
import type { CodeView } from './code-view.js';
import { accessedMemory } from './disasm.js';
import type { CrashSite, GuestOs } from './guest-os.js';
import type { GuestThreads } from './guest-threads.js';
import { inlineView } from './inline.js';
import type { Program } from './program.js';
import type { RawStop } from './run-control.js';
import type { Backtrace } from './stack.js';
import { stepFacts } from './step-facts.js';
import { signalName, type GuestPanic, type PlacedStop, type StopEvent, type StopPlace } from './stop-event.js';

/** What the policy evaluates in the stopped guest (conditions, logpoint text, watched values). */
export interface StopHooks {
  evaluateCondition(expression: string, thread: number): Promise<boolean>;
  formatLogMessage(message: string, thread: number): Promise<string>;
}

/** The machine around the guest, when something reports its state (QEMU's QMP `query-status`). */
export interface MachineState {
  status(): Promise<string>;
}

/** QEMU's gdbstub reports a VM stop it has no signal for (a pvpanic guest panic) as signal 143. */
const QEMU_VM_STOP = 143;

interface StopPolicyParts {
  target: Target;
  table: BreakpointTable;
  code: CodeView;
  hooks: () => StopHooks;
  program: () => Program | undefined;
  os: () => GuestOs | undefined;
  guest: () => GuestThreads | undefined;
  backtrace: (thread: number) => Promise<Backtrace>;
  machine: MachineState | undefined;
  /** Text for the user: logpoint messages, conditions that failed to evaluate. */
  output: (category: 'console' | 'stderr', text: string) => void;
}

export class StopPolicy {
  constructor(private readonly p: StopPolicyParts) {}

  /**
   * Where a stop is, with the inlined frames it hides: a stop at an inlined call's first
   * instruction shows the call site, unless a breakpoint hit there was set in the inlined function.
   */
  place(thread: number, pc: bigint, breakpoints: readonly Breakpoint[] = []): StopPlace {
    const program = this.p.program();
    if (!program) return { thread, pc, hiddenInline: 0 };
    const here = breakpoints.flatMap((b) => b.locations.filter((l) => l.address === pc).map((l) => l.inFunction));
    // Without breakpoint locations here the view is the same at every stop at pc (a step's stops).
    return { thread, pc, hiddenInline: (here.length ? inlineView(program.symbols, pc, here) : stepFacts(program).inlineAt(pc)).hidden };
  }

  /**
   * The stop a raw stop is for the user, or undefined to keep running. `stepping`: the resume was
   * a single step, so a trap nothing else explains is the step's end.
   */
  async decide(raw: RawStop, stepping: boolean): Promise<StopEvent | undefined> {
    if (!('pc' in raw)) return { kind: 'exited', exitCode: raw.reason.code };
    const { reason: r, pc } = raw;
    if (r.kind === 'interrupt') return { kind: 'interrupt', ...this.place(r.thread, pc) };
    if (r.kind === 'signal') return this.signal(r.thread, pc, r.signal);
    if (r.kind === 'dump') return this.opened(r.thread, pc);
    // A watch hit not to report (unchanged value, false condition, refuted) may share its stop
    // with a breakpoint or a finished step: those still count.
    const watched = r.watch && (await this.watch(r.thread, pc, r.watch.address));
    if (watched) return watched;
    const site = this.p.os()?.crashSites?.find((c) => c.address === pc);
    const crashed = site && (await this.crash(r.thread, pc, site));
    if (crashed) return crashed;
    const hit = await this.breakpointsHit(r.thread, pc);
    if (hit.length) {
      for (const bp of hit) if (bp.temporary) await this.p.table.expire(bp);
      return { kind: 'breakpoint', ...this.place(r.thread, pc, hit), breakpoints: hit };
    }
    if (this.p.table.breakpointsAt(pc).length || (site && !stepping)) return undefined;
    if (stepping) return { kind: 'step', ...this.place(r.thread, pc) };
    // A watch hit not reported; or gdb's moribund watchpoint: a stale report of one that is gone.
    if (r.watch || raw.staleWatch) return undefined;
    // A trap we did not plant (the guest's own int3): report it as the signal it is.
    return this.signal(r.thread, pc, 5);
  }

  /** A trap at a user breakpoint's address during an engine run: the user's stop, if its breakpoints say so. */
  async userStopAt(thread: number, pc: bigint): Promise<StopEvent | undefined> {
    return this.p.table.breakpointsAt(pc).length ? this.decide({ reason: { kind: 'trap', thread }, pc }, false) : undefined;
  }

  /** The stop a session opens with: a dump of a guest that recorded a panic opens on the panicking vCPU. */
  async opened(thread: number, pc: bigint): Promise<PlacedStop> {
    const panic = await this.p
      .os()
      ?.panic()
      .catch(() => undefined);
    if (!panic) return (await this.crashedInDump()) ?? { kind: 'dump', thread, pc, hiddenInline: 0 };
    return { kind: 'panic', ...(await this.onCpu(panic.cpu, thread, pc)), panic };
  }

  /** The breakpoints at pc whose thread filters, conditions and counts say stop; logpoints print here. */
  private async breakpointsHit(thread: number, pc: bigint): Promise<Breakpoint[]> {
    const hit: Breakpoint[] = [];
    for (const bp of this.p.table.breakpointsAt(pc)) {
      if (bp.thread !== undefined && bp.thread !== thread) continue;
      if (bp.guestThread !== undefined && (await this.p.guest()?.currentOn(thread)) !== bp.guestThread.address) continue;
      if (bp.condition && !(await this.conditionHolds(bp, thread))) continue;
      bp.hits++;
      if (bp.ignoreCount > 0) {
        bp.ignoreCount--;
        continue;
      }
      if (bp.hitCondition && !hitConditionMet(bp.hitCondition, bp.hits)) continue;
      if (bp.logMessage !== undefined) {
        const text = await this.p
          .hooks()
          .formatLogMessage(bp.logMessage, thread)
          .catch((e: Error) => `<${e.message}>`);
        this.p.output('console', text + '\n');
        continue;
      }
      hit.push(bp);
    }
    return hit;
  }

  private async conditionHolds(bp: Breakpoint, thread: number): Promise<boolean> {
    try {
      return await this.p.hooks().evaluateCondition(bp.condition!, thread);
    } catch (e) {
      // As gdb does: a condition that cannot be evaluated stops, with the reason.
      this.p.output('stderr', `Error in testing condition for breakpoint ${bp.id}: ${(e as Error).message}\n`);
      return true;
    }
  }

  /** The watchpoint stop to report for a watch hit at address, or undefined when this hit is not one. */
  async watch(thread: number, pc: bigint, address: bigint): Promise<StopEvent | undefined> {
    const wp = this.p.table.watchpointAt(address);
    if (!wp) return undefined;
    // QEMU can attach a watchpoint hit of one vCPU to another's later stop (see RunControl):
    // a read is only believed when the instruction just run touched the watched bytes.
    if (wp.access !== 'write' && !(await this.mayHaveAccessed(thread, pc, wp))) return undefined;
    const value = await this.p.target.readMemory(wp.address, wp.length);
    const old = wp.last;
    // A write watchpoint whose value did not change is not reported (gdb's behaviour).
    if (wp.access === 'write' && old && Buffer.compare(Buffer.from(old), Buffer.from(value)) === 0) return undefined;
    if (
      wp.condition &&
      !(await this.p
        .hooks()
        .evaluateCondition(wp.condition, thread)
        .catch(() => true))
    ) {
      wp.last = value;
      return undefined;
    }
    wp.hits++;
    wp.last = value;
    return { kind: 'watchpoint', ...this.place(thread, pc), watch: { point: wp, ...(old && { old }), value } };
  }

  /**
   * False only when the instruction that just ran certainly accessed none of the watched bytes:
   * the one that ends at `pc`, or at a function's first instruction the call that entered it.
   */
  private async mayHaveAccessed(thread: number, pc: bigint, wp: Watchpoint): Promise<boolean> {
    const { target, code } = this.p;
    const regs = await target.readRegisters(thread);
    let end = pc;
    if (code.functionRange(pc)?.low === pc) {
      const rsp = regs.get('rsp');
      if (rsp === undefined) return true;
      end = Buffer.from(await target.readMemory(rsp, 8)).readBigUInt64LE(0);
    }
    const fn = code.functionRange(end - 1n);
    if (!fn) return true;
    const last = (await code.disassembleRange(fn.low, end, thread).catch(() => [])).at(-1);
    if (!last || last.address + BigInt(last.length) !== end) return true;
    const accessed = await accessedMemory(last.bytes, last.address, await code.bitness(thread), regs);
    const watchEnd = wp.address + BigInt(wp.length);
    return accessed === 'unknown' || accessed.some((a) => a.address < watchEnd && a.address + BigInt(a.size) > wp.address);
  }

  /**
   * A signal, or the guest's panic: QEMU stops the VM on a pvpanic write and reports it as a
   * signal of no meaning, on whichever vCPU it likes; the guest's record says which CPU panicked.
   */
  private async signal(thread: number, pc: bigint, signal: number): Promise<StopEvent> {
    const status = signal === QEMU_VM_STOP ? await this.p.machine?.status().catch(() => undefined) : undefined;
    if (status !== 'guest-panicked') return { kind: 'signal', ...this.place(thread, pc), signal, name: signalName(signal) };
    const panic = await this.p
      .os()
      ?.panic()
      .catch(() => undefined);
    if (!panic) return { kind: 'panic', ...this.place(thread, pc) };
    return { kind: 'panic', ...(await this.onCpu(panic.cpu, thread, pc)), panic };
  }

  /**
   * A stop at a crash site whose condition holds: a guest panic on this vCPU, with the faulting
   * frame (the one a trap interrupted, else the crash site's caller) as where it happened.
   */
  private async crash(thread: number, pc: bigint, site: CrashSite): Promise<StopEvent | undefined> {
    if (
      site.when &&
      !(await this.p
        .hooks()
        .evaluateCondition(site.when, thread)
        .catch(() => true))
    )
      return undefined;
    const record = await this.p
      .os()
      ?.panic()
      .catch(() => undefined);
    return { kind: 'panic', ...this.place(thread, pc), panic: record ?? (await this.crashRecord(thread, site)) };
  }

  /** A dump written at a crash site (--dump-on-panic after a crash duster caught): that vCPU's crash. */
  private async crashedInDump(): Promise<PlacedStop | undefined> {
    const sites = this.p.os()?.crashSites ?? [];
    if (!sites.length) return undefined;
    for (const t of await this.p.target.threads()) {
      const pc = (await this.p.target.readRegisters(t.id)).get('rip');
      const site = sites.find((s) => s.address === pc);
      if (site && pc !== undefined) return { kind: 'panic', ...this.place(t.id, pc), panic: await this.crashRecord(t.id, site) };
    }
    return undefined;
  }

  private async crashRecord(thread: number, site: CrashSite): Promise<GuestPanic> {
    const { frames } = await this.p.backtrace(thread);
    const trap = frames.findIndex((f) => f.signalFrame);
    const fault = trap >= 0 ? frames[trap + 1] : frames[1];
    // The function that gave up: the trap handler above the trap frame, else the crash site's caller.
    const handler = trap > 0 ? frames[trap - 1] : undefined;
    const cpu = (await this.p.target.threads()).find((t) => t.id === thread)?.cpu ?? 0;
    const name = this.p.os()?.name ?? 'guest';
    const message = `${name} crashed: ${handler?.function && handler.function !== site.function ? `${handler.function} called ` : ''}${site.meaning}`;
    if (!fault) return { cpu, pc: frames[0]?.pc ?? 0n, message, caughtAt: site.function, frame: 0 };
    const program = this.p.program();
    const [inner] = program ? program.symbols.symbolize(fault.lookupPc, { gdb: true }) : [];
    const instruction =
      trap >= 0 ? await this.p.code.instructionAt(fault.pc, await this.p.code.bitness(thread)).catch(() => undefined) : undefined;
    return {
      cpu,
      pc: fault.pc,
      message,
      ...(inner?.function && {
        location: `${inner.function}${inner.file && program ? ` at ${program.displayFile(inner.file, fault.pc)}:${inner.line}` : ''}`,
      }),
      ...(instruction && { instruction: instruction.text }),
      caughtAt: site.function,
      frame: fault.level,
    };
  }

  /** The stop's place moved to the vCPU of the guest's CPU number (the target's `cpu` of a thread), when it has one. */
  private async onCpu(cpu: number, thread: number, pc: bigint): Promise<StopPlace> {
    const vcpu = (await this.p.target.threads()).find((t) => t.cpu === cpu)?.id;
    if (vcpu === undefined || vcpu === thread) return this.place(thread, pc);
    const at = (await this.p.target.readRegisters(vcpu)).get('rip');
    return at === undefined ? this.place(thread, pc) : this.place(vcpu, at);
  }
}
