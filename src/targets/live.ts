// A running guest behind a gdbstub (QEMU, gdbsx): the Target interface over gdbstub/'s client.
import { EventEmitter } from 'node:events';
import {
  GdbClient,
  RspError,
  RspProtocolError,
  RspTimeoutError,
  SIGINT,
  SIGTRAP,
  type ClientOptions,
  type StopEvent,
  type ThreadId,
} from '../../gdbstub/index.js';
import { PendingBreakpoints } from './pending-breakpoints.js';
import {
  cpuLabel,
  TargetError,
  type BreakpointKind,
  type MemoryRange,
  type RegisterInfo,
  type ResumeAction,
  type StopReason,
  type Target,
  type TargetEvents,
  type TargetThread,
} from './target.js';

export interface LiveTargetOptions extends ClientOptions {
  /** How long a single step may take before the vCPU is taken to be halted (QEMU never answers then). */
  stepTimeoutMs?: number;
  /**
   * Stops the running guest from outside when the stub cannot be interrupted (gdbsx: `xl pause`);
   * the stub then reports the stop, which interrupt() waits for.
   */
  pause?: () => Promise<void>;
  /** Runs just before `D` (Xen: take back a pause the user had, which gdbsx's detach releases). */
  beforeDetach?: () => Promise<void>;
}

/** How long the stub may take to notice an outside pause (gdbsx polls the domain every 10 ms). */
const PAUSE_STOP_TIMEOUT_MS = 5000;
/** How long a vCPU QEMU left single-stepping takes to make its one step (see settleStaleStep). */
const STALE_STEP_MS = 50;

export class LiveTarget extends EventEmitter<TargetEvents> implements Target {
  readonly kind = 'live';
  readonly registers: readonly RegisterInfo[];
  private readonly stepTimeoutMs: number;
  /**
   * The vCPU ids, read once per connection and only as far as asked: vCPUs belong to the machine,
   * not to what it runs. A stop on a vCPU the whole list lacks (one plugged in since) starts over.
   */
  private vcpuIds: number[] = [];
  private vcpuList: AsyncGenerator<ThreadId, void, undefined> | undefined;
  private vcpuListDone = false;
  private readingIds: Promise<void> | undefined;
  /** The vCPUs with QEMU's extra info ("CPU#0 [running]"), asked once per stop. */
  private described: Promise<TargetThread[]> | undefined;
  /** Block reads in flight by thread and block, so concurrent readers of one block (the unwinder) share a packet. */
  private readonly blockReads = new Map<string, Promise<Buffer>>();
  /** The vCPU of the last stop: memory reads that name no vCPU go through its page tables. */
  private stopThread: number | undefined;
  private readonly pause: (() => Promise<void>) | undefined;
  private readonly beforeDetach: (() => Promise<void>) | undefined;
  private readonly pending = new PendingBreakpoints();
  /** Steps still to take in a step of several (see ResumeAction); interrupt() sets it to 0. */
  private stepsLeft = 0;
  /** This connection has resumed the guest at least once. */
  private resumed = false;
  /**
   * Small reads are widened to an aligned block of this size so the stub client's stop cache
   * serves the next ones: the largest power of two one `m` returns (a reply's size costs next to
   * nothing against its round trip; QEMU: 2 KiB, so a shallow stack is one packet).
   */
  private readonly readBlock: bigint;

  private constructor(
    readonly client: GdbClient,
    opts: LiveTargetOptions,
  ) {
    super();
    this.stepTimeoutMs = opts.stepTimeoutMs ?? 2000;
    this.pause = opts.pause;
    this.beforeDetach = opts.beforeDetach;
    this.readBlock = 1n << BigInt(Math.floor(Math.log2(client.quirks.maxMemoryRead)));
    this.registers = client.layout.registers.map((r) => ({ name: r.name, bits: r.bitsize, group: r.group }));
    client.on('console', (text) => this.emit('console', text));
    client.on('close', (e) => this.emit('close', e));
  }

  /**
   * Connects to `tcp:HOST:PORT` or `unix:PATH` and negotiates. Like gdb, asks why the target is
   * stopped (`?`): on QEMU that also clears breakpoints a previous debugger died without removing.
   */
  static async connect(address: string, opts: LiveTargetOptions = {}): Promise<LiveTarget> {
    const client = await wrap(`attach to ${address}`, () => GdbClient.connect(address, opts));
    let stopped: ThreadId | undefined;
    try {
      if (client.quirks.dialect !== 'gdbsx') {
        const ev = await client.haltReason();
        if (ev.kind === 'signal') stopped = ev.thread;
      }
    } catch (e) {
      client.close();
      throw toTargetError(`attach to ${address}`, e);
    }
    const target = new LiveTarget(client, opts);
    target.stopThread = stopped?.tid;
    return target;
  }

  get running(): boolean {
    return this.client.isRunning;
  }

  /** Stub traffic so far (benchmarks count round trips). */
  get stats() {
    return this.client.stats;
  }

  /**
   * Our thread ids are QEMU's, cpu_index + 1, whatever the stub counts from (gdbsx: the vCPU id),
   * so `Thread 1` is CPU 0 on every target: these two convert.
   */
  private tid(thread: number): ThreadId {
    const tid = thread - 1 + this.client.quirks.firstThreadId;
    return this.client.features.multiprocess ? { pid: 1, tid } : { tid };
  }

  private threadOf(stubTid: number): number {
    return stubTid - this.client.quirks.firstThreadId + 1;
  }

  async threadIds(atLeast = Infinity): Promise<readonly number[]> {
    while (!this.vcpuListDone && this.vcpuIds.length < atLeast)
      await (this.readingIds ??= this.readNextId().finally(() => (this.readingIds = undefined)));
    return this.vcpuIds;
  }

  private async readNextId(): Promise<void> {
    this.vcpuList ??= this.client.threadList();
    try {
      const next = await this.vcpuList.next();
      if (next.done) this.vcpuListDone = true;
      else this.vcpuIds = [...this.vcpuIds, this.threadOf(next.value.tid)];
    } catch (e) {
      this.forgetThreadIds();
      throw toTargetError('list the vCPUs', e);
    }
  }

  private forgetThreadIds(): void {
    this.vcpuIds = [];
    this.vcpuList = undefined;
    this.vcpuListDone = false;
  }

  threads(): Promise<TargetThread[]> {
    this.described ??= this.describeThreads();
    this.described.catch(() => (this.described = undefined));
    return this.described;
  }

  /** QEMU's extra info `CPU#0 [running]` becomes `CPU 0 [running]`: its state, our numbering. */
  private async describeThreads(): Promise<TargetThread[]> {
    return Promise.all(
      (await this.threadIds()).map(async (id) => {
        const cpu = id - 1;
        const state = /\[[^\]]*\]\s*$/.exec(await this.client.threadExtraInfo(this.tid(id)).catch(() => ''))?.[0].trim();
        return { id, cpu, description: `${cpuLabel(cpu)}${state ? ` ${state}` : ''}` };
      }),
    );
  }

  /** Drops what is only valid for the current stop. */
  private forgetStop(): void {
    this.described = undefined;
    this.blockReads.clear();
  }

  /** QEMU tells it through its monitor (one round trip, asked only for a vCPU in real mode). */
  async codeSegmentBase(thread: number): Promise<bigint | undefined> {
    if (this.client.quirks.dialect !== 'qemu') return undefined;
    const bases = await wrap('read the segment registers', () => this.client.qemuCodeSegmentBases());
    return bases.get(thread - 1);
  }

  readRegisters(thread: number): Promise<Map<string, bigint>> {
    return wrap('read registers', () => this.client.readRegisters(this.tid(thread)));
  }

  writeRegister(thread: number, name: string, value: bigint): Promise<void> {
    if (!this.client.layout.registers.some((r) => r.name === name)) throw new TargetError(`no register named '${name}'`);
    return wrap(`write register ${name}`, () => this.client.writeRegister(name, value, this.tid(thread)));
  }

  async readMemory(address: bigint, size: number, thread = this.stopThread): Promise<Uint8Array> {
    if (size <= 0) return new Uint8Array(0);
    const via = thread === undefined ? undefined : this.tid(thread);
    const block = this.readBlock;
    const start = address - (address % block);
    const end = address + BigInt(size);
    const wideEnd = end % block === 0n ? end : end + block - (end % block);
    if (wideEnd - start <= 4n * block) {
      // Aligned blocks never cross a page, so widening cannot turn a good read into a fault.
      try {
        const key = `${thread ?? ''}:${start}:${wideEnd - start}`;
        let read = this.blockReads.get(key);
        if (!read) {
          read = this.client.readMemory(start, Number(wideEnd - start), undefined, via);
          this.blockReads.set(key, read);
          read.catch(() => this.blockReads.delete(key));
        }
        const block = await read;
        return block.subarray(Number(address - start), Number(address - start) + size);
      } catch (e) {
        if (!(e instanceof RspError)) throw toTargetError(`read ${size} bytes at 0x${address.toString(16)}`, e);
      }
    }
    return wrap(`read ${size} bytes at 0x${address.toString(16)}`, () => this.client.readMemory(address, size, undefined, via));
  }

  writeMemory(address: bigint, data: Uint8Array, thread = this.stopThread): Promise<void> {
    this.forgetStop();
    return wrap(`write ${data.length} bytes at 0x${address.toString(16)}`, () =>
      this.client.writeMemory(address, data, thread === undefined ? undefined : this.tid(thread)),
    );
  }

  async insertBreakpoint(kind: BreakpointKind, address: bigint, length: number): Promise<void> {
    if (this.defers(kind)) return this.pending.note({ kind, address, length }, true);
    return this.applyBreakpoint(kind, address, length, true);
  }

  breakpointInMemory(address: bigint): boolean {
    return this.client.quirks.dialect === 'gdbsx' || this.client.hasSoftBreakpoint(address);
  }

  async removeBreakpoint(kind: BreakpointKind, address: bigint, length: number): Promise<void> {
    // An int3 we wrote ourselves (a stub without Z0) is in memory: it goes at once.
    if (this.defers(kind) && !this.client.hasSoftBreakpoint(address)) return this.pending.note({ kind, address, length }, false);
    return this.applyBreakpoint(kind, address, length, false);
  }

  /** Code breakpoints wait for the next resume, except on gdbsx, whose breakpoints are int3s in memory. */
  private defers(kind: BreakpointKind): kind is 'sw' | 'hw' {
    return PendingBreakpoints.holds(kind) && this.client.quirks.dialect !== 'gdbsx';
  }

  private applyBreakpoint(kind: BreakpointKind, address: bigint, length: number, insert: boolean): Promise<void> {
    this.blockReads.clear(); // without Z0 the stub client writes an int3 into memory
    return insert
      ? wrap(`insert ${kind} breakpoint at 0x${address.toString(16)}`, () => this.client.insertBreakpoint(kind, address, length))
      : wrap(`remove ${kind} breakpoint at 0x${address.toString(16)}`, () => this.client.removeBreakpoint(kind, address, length));
  }

  /**
   * Before a resume: the breakpoint changes the run can meet (a single step: only the one at its
   * pc). Where the stub takes them in order before the resume, that follows them at once instead
   * of after their replies (a round trip less); `sent` settles with the replies (see confirm).
   */
  private async flushBreakpoints(action: ResumeAction): Promise<{ sent: Promise<void> } | undefined> {
    if (this.pending.size === 0) return undefined;
    const pc = action.kind === 'step' && (action.count ?? 1) === 1 ? (await this.readRegisters(action.thread)).get('rip') : undefined;
    const ahead = this.client.breakpointPacketsInOrder;
    const sent = this.pending.flush((bp, insert) => this.applyBreakpoint(bp.kind, bp.address, bp.length, insert), pc);
    if (!ahead) {
      await sent;
      return undefined;
    }
    sent.catch(() => undefined);
    return { sent };
  }

  /** After a resume that went out ahead of its breakpoint changes' replies: if one failed, the guest is stopped again and the failure thrown. */
  private async confirm(ahead: { sent: Promise<void> } | undefined): Promise<void> {
    if (!ahead) return;
    try {
      await ahead.sent;
    } catch (e) {
      await this.interrupt();
      await wrap('wait for stop', () => this.client.waitForStop(PAUSE_STOP_TIMEOUT_MS));
      throw e;
    }
  }

  async resume(action: ResumeAction, readAtStop: readonly MemoryRange[] = []): Promise<StopReason> {
    const stop = await this.run(action);
    if (stop.kind !== 'exited') {
      this.stopThread = stop.thread;
      await Promise.all([
        this.readRegisters(stop.thread),
        ...readAtStop.map((r) => this.readMemory(r.address, r.size).catch(() => undefined)),
      ]);
    }
    return stop;
  }

  private async run(action: ResumeAction): Promise<StopReason> {
    this.resumed = true;
    let ahead = await this.flushBreakpoints(action);
    this.forgetStop();
    if (action.kind === 'continue') {
      await wrap('continue', () => this.client.cont());
      await this.confirm(ahead);
      this.emit('running');
      return this.stopReason(await wrap('wait for stop', () => this.client.waitForStop(2 ** 31 - 1)));
    }
    // Several steps go one after the other, with no registers read in between.
    this.stepsLeft = action.count ?? 1;
    try {
      for (;;) {
        const stop = await this.stepOnce(action.thread, ahead);
        ahead = undefined;
        if (--this.stepsLeft <= 0 || stop.kind !== 'trap' || stop.watch || stop.thread !== action.thread) return stop;
        this.forgetStop();
      }
    } finally {
      this.stepsLeft = 0;
    }
  }

  private async stepOnce(thread: number, ahead?: { sent: Promise<void> }): Promise<StopReason> {
    await wrap('step', () => this.client.step(this.tid(thread)));
    await this.confirm(ahead);
    try {
      return this.stopReason(await this.client.waitForStop(this.stepTimeoutMs));
    } catch (e) {
      if (!(e instanceof RspProtocolError) || this.client.isRunning === false) throw toTargetError('step', e);
      // A vCPU parked in `hlt` never finishes a step under QEMU: take control back.
      if (this.pause) await this.interrupt();
      else {
        this.client.interrupt();
        await wrap('wait for stop', () => this.client.waitForStop(this.stepTimeoutMs));
      }
      return { kind: 'interrupt', thread };
    }
  }

  private async stopReason(ev: StopEvent): Promise<StopReason> {
    if (ev.kind === 'exited') return { kind: 'exited', code: ev.code };
    if (ev.kind === 'terminated') return { kind: 'exited', code: 128 + ev.signal };
    const thread = this.threadOf(ev.thread?.tid ?? (await this.client.currentThread()).tid);
    if (this.vcpuListDone && !this.vcpuIds.includes(thread)) this.forgetThreadIds();
    if (ev.signal === SIGINT) return { kind: 'interrupt', thread };
    if (ev.signal !== SIGTRAP) return { kind: 'signal', thread, signal: ev.signal };
    if (ev.watch) {
      const access = ev.watch.kind === 'watch' ? 'write' : ev.watch.kind === 'rwatch' ? 'read' : 'access';
      return { kind: 'trap', thread, watch: { access, address: ev.watch.address } };
    }
    const offset = this.client.quirks.swBreakpointPcOffset;
    if (offset) {
      // gdbsx reports the PC after the int3 we wrote: put it back on the breakpoint.
      const pc = await this.client.readRegister('rip', this.tid(thread));
      if (this.client.hasSoftBreakpoint(pc - offset)) await this.client.writeRegister('rip', pc - offset, this.tid(thread));
    }
    return { kind: 'trap', thread };
  }

  async interrupt(): Promise<void> {
    // Between two steps of several: no more steps.
    this.stepsLeft = 0;
    if (!this.client.isRunning) return;
    if (this.pause) {
      await wrap('pause the guest', this.pause);
      await wrap('wait for the stop after pausing', () => this.client.waitForStop(PAUSE_STOP_TIMEOUT_MS));
      return;
    }
    try {
      this.client.interrupt();
    } catch (e) {
      throw toTargetError('interrupt', e);
    }
  }

  async detach(): Promise<void> {
    // What never reached the stub need not leave it; QEMU's `D` removes the rest itself.
    if (this.pending.dropInserts() && !this.client.quirks.detachRemovesBreakpoints)
      await this.pending.flush((bp) => this.applyBreakpoint(bp.kind, bp.address, bp.length, false));
    this.pending.clear();
    if (this.beforeDetach) await wrap('prepare to detach', this.beforeDetach);
    if (this.client.quirks.dialect === 'qemu' && !this.resumed) await wrap('prepare to detach', () => this.settleStaleStep());
    await wrap('detach', () => this.client.detach());
  }

  /**
   * QEMU turns a vCPU's single-step off in its stop handler, which does nothing while no debugger
   * is attached: one that went away mid-step leaves that vCPU stepping, and the guest would stop
   * again one instruction after this detach, with no one told. So a session that never resumed
   * the guest lets that stop happen while it is attached: it continues, and takes control back.
   */
  private async settleStaleStep(): Promise<void> {
    await this.client.cont();
    if (
      await this.client.waitForStop(STALE_STEP_MS).then(
        () => true,
        () => false,
      )
    )
      return;
    this.client.interrupt();
    await this.client.waitForStop(PAUSE_STOP_TIMEOUT_MS);
  }

  async close(): Promise<void> {
    this.client.close();
  }
}

function toTargetError(what: string, e: unknown): TargetError {
  if (e instanceof TargetError) return e;
  const why = e instanceof RspTimeoutError ? 'the gdbstub did not answer' : e instanceof Error ? e.message : String(e);
  return new TargetError(`cannot ${what}: ${why}`);
}

async function wrap<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toTargetError(what, e);
  }
}
