// A scripted machine for engine unit tests: vCPUs with registers, sparse memory, breakpoint sites
// recorded as a log, and resumes answered by a script (each answer may move the vCPUs first). No
// QEMU: what the engine decides from a sequence of stops is tested in milliseconds.
import { EventEmitter } from 'node:events';
import type {
  BreakpointKind,
  RegisterInfo,
  ResumeAction,
  StopReason,
  Target,
  TargetEvents,
  TargetThread,
} from '../../src/targets/index.js';

/** One scripted answer to a resume: move the machine (optional), then report `stop`. */
export interface ScriptedStop {
  /** New register values per vCPU before the stop is reported. */
  set?: Record<number, Record<string, bigint>>;
  stop: StopReason;
}

export class ScriptedTarget extends EventEmitter<TargetEvents> implements Target {
  kind: 'live' | 'dump' = 'live';
  readonly registers: readonly RegisterInfo[] = ['rax', 'rsp', 'rip'].map((name) => ({ name, bits: 64, group: 'general' }));
  running = false;
  /** Every request that changes the machine, in order: `Z sw 1000`, `z hw 1000`, `continue`, `step 1`, `D`. */
  readonly log: string[] = [];
  readonly regs = new Map<number, Map<string, bigint>>();
  private readonly memory = new Map<bigint, number>();
  /** Answers to resumes, in order; a resume with none left throws. */
  script: Array<ScriptedStop | ((action: ResumeAction) => ScriptedStop)> = [];
  private interruptWaiter: ((r: StopReason) => void) | undefined;

  constructor(vcpus: Record<number, Record<string, bigint>>) {
    super();
    for (const [id, r] of Object.entries(vcpus)) this.regs.set(Number(id), new Map(Object.entries(r)));
  }

  /** Puts bytes into memory at an address. */
  poke(address: bigint, bytes: ArrayLike<number>): void {
    for (let i = 0; i < bytes.length; i++) this.memory.set(address + BigInt(i), bytes[i]!);
  }

  async threadIds(): Promise<readonly number[]> {
    return [...this.regs.keys()];
  }

  async threads(): Promise<TargetThread[]> {
    return [...this.regs.keys()].map((id) => ({ id, cpu: id - 1, description: `CPU ${id - 1}` }));
  }

  async readRegisters(thread: number): Promise<Map<string, bigint>> {
    const r = this.regs.get(thread);
    if (!r) throw new Error(`no vCPU ${thread}`);
    return new Map(r);
  }

  async writeRegister(thread: number, name: string, value: bigint): Promise<void> {
    this.regs.get(thread)!.set(name, value);
  }

  async readMemory(address: bigint, size: number): Promise<Uint8Array> {
    const out = new Uint8Array(size);
    for (let i = 0; i < size; i++) {
      const b = this.memory.get(address + BigInt(i));
      if (b === undefined) throw new Error(`cannot read 0x${(address + BigInt(i)).toString(16)}`);
      out[i] = b;
    }
    return out;
  }

  async writeMemory(address: bigint, data: Uint8Array): Promise<void> {
    this.poke(address, data);
  }

  async insertBreakpoint(kind: BreakpointKind, address: bigint): Promise<void> {
    this.log.push(`Z ${kind} ${address.toString(16)}`);
  }

  async removeBreakpoint(kind: BreakpointKind, address: bigint): Promise<void> {
    this.log.push(`z ${kind} ${address.toString(16)}`);
  }

  async resume(action: ResumeAction): Promise<StopReason> {
    this.log.push(action.kind === 'step' ? `step ${action.thread}` : 'continue');
    const next = this.script.shift();
    if (!next) {
      // Nothing scripted: the guest runs until interrupted.
      this.running = true;
      this.emit('running');
      return new Promise((resolve) => (this.interruptWaiter = resolve));
    }
    const { set, stop } = typeof next === 'function' ? next(action) : next;
    for (const [id, r] of Object.entries(set ?? {})) for (const [k, v] of Object.entries(r)) this.regs.get(Number(id))!.set(k, v);
    return stop;
  }

  async interrupt(): Promise<void> {
    this.log.push('interrupt');
    const w = this.interruptWaiter;
    this.interruptWaiter = undefined;
    this.running = false;
    w?.({ kind: 'interrupt', thread: 1 });
  }

  async detach(): Promise<void> {
    this.log.push('D');
  }

  async close(): Promise<void> {
    this.emit('close', new Error('closed'));
  }
}
