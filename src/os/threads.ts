// The unikernel's own threads, read through its description: the list walk, which vCPU runs which
// thread (the per-CPU current-thread pointer), and the registers a switched-out thread resumes
// with. The engine asks this to keep steps and thread-specific breakpoints with one guest thread.
import { sizeOf, stripTypedefs, typeName } from '../../symbols/index.js';
import { evaluateText } from '../engine/evaluate.js';
import type { Session } from '../engine/session.js';
import { asInteger, formatValue, isCharType, load, type Value } from '../engine/values.js';
import type { ThreadModel, UnikernelDescription } from './description.js';

export interface GuestThread {
  /** The thread's own address (what the current-thread pointer holds): its identity. */
  address: bigint;
  id: number;
  name: string;
  state: string;
  /** The vCPU (target thread id) running it now; undefined when it is switched out. */
  vcpu?: number;
  /** The registers it resumes with, when it is switched out and saved them. */
  saved?: Map<string, bigint>;
}

export interface GuestThreadList {
  threads: GuestThread[];
  /** Why the walk ended early (a cycle, an unreadable thread): what was read is still listed. */
  error?: string;
}

const MAX_THREADS = 4096;
const MAX_NAME = 64;

export class GuestThreads {
  constructor(
    private readonly session: Session,
    readonly unikernel: string,
    private readonly model: ThreadModel,
  ) {}

  /** Every thread address a walk has found: threads stay where they were allocated. */
  private readonly seen = new Set<bigint>();

  /** True for a function of the scheduler's switch path (where every switched-out thread waits). */
  inScheduler(fn: string | undefined): boolean {
    return fn !== undefined && this.model.scheduler.includes(fn);
  }

  static of(session: Session, d: UnikernelDescription): GuestThreads | undefined {
    return d.threads && new GuestThreads(session, d.name, d.threads);
  }

  /** An expression over globals (never a frame's locals), with a vCPU's registers for `$reg`. */
  private async eval(expression: string, vars?: Map<string, Value>, vcpu?: number): Promise<Value> {
    const s = this.session;
    const registers = vcpu === undefined ? undefined : await s.target.readRegisters(vcpu);
    return evaluateText(
      { target: s.target, ...(s.program && { program: s.program }), reader: s.inspector.reader, ...(registers && { registers }), ...(vars && { convenience: vars }) },
      expression,
    );
  }

  private async integer(expression: string, vars?: Map<string, Value>, vcpu?: number): Promise<bigint> {
    return asInteger(this.session.inspector.reader, await this.eval(expression, vars, vcpu));
  }

  /** Where a vCPU's current-thread pointer is (no memory read), when it is in memory. */
  async currentLocation(vcpu: number): Promise<{ address: bigint; size: number } | undefined> {
    const v = await this.eval(this.model.current, undefined, vcpu).catch(() => undefined);
    return v?.place.kind === 'memory' ? { address: v.place.address, size: sizeOf(v.type) } : undefined;
  }

  /** The guest thread a vCPU runs now, or undefined when it runs none (early boot, garbage). */
  async currentOn(vcpu: number): Promise<bigint | undefined> {
    const address = await this.integer(this.model.current, undefined, vcpu).catch(() => undefined);
    return address ? address : undefined;
  }

  /** Walks the thread list; a cycle or an unreadable pointer ends the walk with an error naming it. */
  async list(): Promise<GuestThreadList> {
    const m = this.model;
    const onCpu = new Map<bigint, number>();
    for (const v of await this.session.threadIds()) {
      const t = await this.currentOn(v);
      if (t !== undefined && !onCpu.has(t)) onCpu.set(t, v);
    }
    const threads: GuestThread[] = [];
    const seen = new Set<bigint>();
    let end = 0n;
    let n: Value;
    try {
      if (m.end) end = await this.integer(m.end);
      n = await this.eval(m.first);
    } catch (e) {
      return { threads, error: `cannot find the thread list: ${(e as Error).message}` };
    }
    for (;;) {
      const node = await asInteger(this.session.inspector.reader, n).catch(() => 0n);
      if (node === 0n || node === end) return { threads };
      if (seen.has(node)) return { threads, error: `thread list loops back to 0x${node.toString(16)}` };
      if (threads.length >= MAX_THREADS) return { threads, error: `thread list longer than ${MAX_THREADS}` };
      seen.add(node);
      try {
        const vars = new Map([['n', n]]);
        const t = m.thread ? await this.eval(m.thread, vars) : n;
        vars.set('t', t);
        const address = await asInteger(this.session.inspector.reader, t);
        this.seen.add(address);
        const vcpu = onCpu.get(address);
        // A wild saved stack pointer leaves the thread listed, without a context to unwind.
        const saved = vcpu === undefined ? await this.savedRegisters(vars).catch(() => undefined) : undefined;
        threads.push({
          address,
          id: Number(await this.integer(m.id, vars)),
          name: await this.text(await this.eval(m.name, vars)),
          state: await formatValue(this.session.inspector.reader, await this.eval(m.state, vars), {}, false),
          ...(vcpu !== undefined && { vcpu }),
          ...(saved && { saved }),
        });
        n = await this.eval(m.next, vars);
      } catch (e) {
        return { threads, error: `thread at 0x${node.toString(16)} (${typeName(n.type)}) is unreadable: ${(e as Error).message}` };
      }
    }
  }

  /** A thread by the unikernel's own id, or a one-line error naming the ids there are. */
  async find(id: number): Promise<GuestThread> {
    const { threads, error } = await this.list();
    const t = threads.find((x) => x.id === id);
    if (!t) throw new Error(`no unikernel thread ${id} (${threads.map((x) => x.id).join(', ') || 'none'} exist${error ? `; ${error}` : ''})`);
    return t;
  }

  /** The engine thread to inspect a guest thread through: its vCPU, or its saved context. */
  engineThread(t: GuestThread): number | undefined {
    if (t.vcpu !== undefined) return t.vcpu;
    return t.saved && this.session.inspector.contextFor(t.address, t.saved);
  }

  /**
   * The guest thread an engine thread stands for (what a vCPU runs, or whose saved context it is).
   * A vCPU's pointer counts only when it names a listed thread: before the scheduler is up it
   * holds whatever the memory under it does.
   */
  async ownerOf(thread: number): Promise<bigint | undefined> {
    if (this.session.inspector.isSavedContext(thread)) return this.session.inspector.ownerOf(thread);
    const address = await this.currentOn(thread);
    if (address === undefined) return undefined;
    if (!this.seen.has(address)) await this.list();
    return this.seen.has(address) ? address : undefined;
  }

  private async savedRegisters(vars: Map<string, Value>): Promise<Map<string, bigint> | undefined> {
    const sp = await this.eval(this.model.saved.sp, vars);
    if ((await asInteger(this.session.inspector.reader, sp)) === 0n) return undefined;
    vars.set('saved', sp);
    const regs = new Map<string, bigint>();
    for (const [name, expr] of Object.entries(this.model.saved.registers)) regs.set(name, await this.integer(expr, vars));
    return regs;
  }

  /** A name field: a char array or a pointer to a string, up to its NUL. */
  private async text(v: Value): Promise<string> {
    const t = stripTypedefs(v.type);
    if (t.kind === 'array' && isCharType(t.element)) {
      const bytes = await load(this.session.inspector.reader, v);
      const nul = bytes.indexOf(0);
      return Buffer.from(nul < 0 ? bytes : bytes.subarray(0, nul)).toString('latin1');
    }
    if (t.kind === 'pointer' && isCharType(t.target)) return (await this.session.readCString(await asInteger(this.session.inspector.reader, v), MAX_NAME)).value;
    return formatValue(this.session.inspector.reader, v, {}, false);
  }
}
