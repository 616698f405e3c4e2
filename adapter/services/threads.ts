// Threads are the guest's vCPUs. The list is kept from the last stop because a running gdbstub
// answers nothing, and every threadId a client sends is checked against it: QEMU never replies
// to a request for a thread it does not have, so an unknown id must not reach the stub.
import type { Session } from '../../src/engine/session.js';
import type { TargetThread } from '../../src/targets/index.js';
import { ArgumentError, type Args } from '../args.js';

export class ThreadList {
  private known: TargetThread[] = [];

  constructor(private readonly session: Session) {}

  async list(): Promise<TargetThread[]> {
    if (!this.session.isRunning && this.session.isAlive) this.known = await this.session.threads();
    return this.known;
  }

  /** The vCPU named by `args[key]`, or an ArgumentError naming it. */
  async require(args: Args, key = 'threadId'): Promise<number> {
    const id = args.int(key);
    const threads = this.known.length ? this.known : await this.list();
    if (!threads.some((t) => t.id === id)) {
      throw new ArgumentError(`${args.name(key)} ${id} is not a vCPU of this guest (threads: ${threads.map((t) => t.id).join(', ') || 'none'})`);
    }
    return id;
  }
}

/** "CPU#0 [running]" from QEMU becomes "CPU#0": the state part is stale as soon as it is read. */
export function threadName(t: TargetThread): string {
  return t.description.replace(/\s*\[[^\]]*\]\s*$/, '') || `vCPU ${t.id}`;
}
