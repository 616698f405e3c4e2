// A unikernel's threads read through its description: the list walk, which thread a vCPU runs (the
// per-CPU current-thread pointer) and the registers a switched-out thread resumes with. The engine
// calls this through its GuestThreadModel interface.
import { sizeOf, stripTypedefs, typeName } from '../../symbols/index.js';
import type { GuestAccess, GuestThread, GuestThreadList, GuestThreadModel } from '../engine/guest-os.js';
import type { MemoryRange } from '../targets/index.js';
import { EvalError } from '../engine/evaluate.js';
import { asInteger, formatValue, isCharType, load, type Value } from '../engine/values.js';
import type { ThreadModel } from './description.js';

const MAX_THREADS = 4096;
const MAX_NAME = 64;

export class DescribedThreads implements GuestThreadModel {
  constructor(
    private readonly access: GuestAccess,
    private readonly model: ThreadModel,
  ) {}

  /** Ids given to threads that have none, in the order walks first met them: stable for the session. */
  private readonly ids = new Map<bigint, number>();

  private listedId(address: bigint): number {
    let id = this.ids.get(address);
    if (id === undefined) this.ids.set(address, (id = this.ids.size + 1));
    return id;
  }

  inScheduler(fn: string | undefined): boolean {
    return fn !== undefined && this.model.scheduler.includes(fn);
  }

  private async integer(expression: string, vars?: Map<string, Value>, vcpu?: number): Promise<bigint> {
    return asInteger(
      this.access.reader,
      await this.access.evaluate(expression, { ...(vars && { vars }), ...(vcpu !== undefined && { vcpu }) }),
    );
  }

  /** The per-CPU pointer `current` names for a vCPU, through `currentByCpu` when the registers cannot tell. */
  private async current(vcpu: number): Promise<Value | undefined> {
    const byRegisters = await this.access.evaluate(this.model.current, { vcpu }).catch(() => undefined);
    if (byRegisters || !this.model.currentByCpu) return byRegisters;
    // Engine thread ids are CPU numbers + 1 on every target (TargetThread).
    const vars = new Map([['cpu', await this.access.evaluate(String(vcpu - 1))]]);
    return this.access.evaluate(this.model.currentByCpu, { vars }).catch(() => undefined);
  }

  async currentLocation(vcpu: number): Promise<MemoryRange | undefined> {
    const v = await this.current(vcpu);
    return v?.place.kind === 'memory' ? { address: v.place.address, size: sizeOf(v.type) } : undefined;
  }

  async currentOn(vcpu: number): Promise<bigint | undefined> {
    const v = await this.current(vcpu);
    const address = v && (await asInteger(this.access.reader, v).catch(() => undefined));
    return address ? address : undefined;
  }

  async list(): Promise<GuestThreadList> {
    const m = this.model;
    const { reader } = this.access;
    const eval_ = (expression: string, vars?: Map<string, Value>) => this.access.evaluate(expression, vars && { vars });
    const onCpu = new Map<bigint, number>();
    for (const v of await this.access.vcpus()) {
      const t = await this.currentOn(v);
      if (t !== undefined && !onCpu.has(t)) onCpu.set(t, v);
    }
    const threads: GuestThread[] = [];
    const seen = new Set<bigint>();
    let end = 0n;
    let n: Value;
    try {
      if (m.end) end = await this.integer(m.end);
      n = await eval_(m.first);
    } catch (e) {
      return { threads, error: `cannot find the thread list: ${(e as Error).message}`, ...(e instanceof EvalError && { unfit: true }) };
    }
    for (;;) {
      const node = await asInteger(reader, n).catch(() => 0n);
      if (node === 0n || node === end) return { threads };
      if (seen.has(node)) return { threads, error: `thread list loops back to 0x${node.toString(16)}` };
      if (threads.length >= MAX_THREADS) return { threads, error: `thread list longer than ${MAX_THREADS}` };
      seen.add(node);
      try {
        const vars = new Map([['n', n]]);
        const t = m.thread ? await eval_(m.thread, vars) : n;
        vars.set('t', t);
        const address = await asInteger(reader, t);
        const vcpu = onCpu.get(address);
        // A wild saved stack pointer leaves the thread listed, without a context to unwind.
        const saved = vcpu === undefined ? await this.savedRegisters(vars).catch(() => undefined) : undefined;
        const notStarted = saved !== undefined && (await this.notStarted(vars));
        threads.push({
          address,
          id: m.id !== undefined ? Number(await this.integer(m.id, vars)) : this.listedId(address),
          ...(m.id === undefined && { addressed: true }),
          name: await this.text(await eval_(m.name, vars)),
          state: (await this.text(await eval_(m.state, vars))) + (notStarted ? ', not started' : ''),
          ...(vcpu !== undefined && { vcpu }),
          ...(saved && { saved }),
        });
        n = await eval_(m.next, vars);
      } catch (e) {
        return {
          threads,
          error: `thread at 0x${node.toString(16)} (${typeName(n.type)}) is unreadable: ${(e as Error).message}`,
          ...(e instanceof EvalError && { unfit: true }),
        };
      }
    }
  }

  private async savedRegisters(vars: Map<string, Value>): Promise<Map<string, bigint> | undefined> {
    const sp = await this.access.evaluate(this.model.saved.sp, { vars });
    if ((await asInteger(this.access.reader, sp)) === 0n) return undefined;
    vars.set('saved', sp);
    const regs = new Map<string, bigint>();
    for (const [name, expr] of Object.entries(this.model.saved.registers)) regs.set(name, await this.integer(expr, vars));
    return regs;
  }

  /** Whether a switched-out thread (`$saved` set) has not run yet, as far as the model can tell. */
  private async notStarted(vars: Map<string, Value>): Promise<boolean> {
    const expr = this.model.saved.notStarted;
    return expr !== undefined && (await this.integer(expr, vars).catch(() => 0n)) !== 0n;
  }

  /** A name field: a char array or a pointer to a string, up to its NUL. */
  private async text(v: Value): Promise<string> {
    const { reader } = this.access;
    const t = stripTypedefs(v.type);
    if (t.kind === 'array' && isCharType(t.element)) {
      const bytes = await load(reader, v);
      const nul = bytes.indexOf(0);
      return Buffer.from(nul < 0 ? bytes : bytes.subarray(0, nul)).toString('latin1');
    }
    if (t.kind === 'pointer' && isCharType(t.target)) return this.access.readCString(await asInteger(reader, v), MAX_NAME);
    return formatValue(reader, v, {}, false);
  }
}
