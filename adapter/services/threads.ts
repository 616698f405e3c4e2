// DAP threads are the unikernel's own threads when its thread model is known: a running one is
// shown on its vCPU and inspected through it, a switched-out one through its saved context; a vCPU
// that runs none (early boot, no model) is a thread of its own. Each guest thread keeps one DAP id
// for the whole session, wherever the scheduler moves it. The list is kept from the last stop
// because a running gdbstub answers nothing, and every threadId a client sends is checked against
// it: QEMU never replies to a request for a thread it does not have.
import type { Session } from '../../src/engine/session.js';
import { guestThreadTitle, type GuestThread } from '../../src/engine/guest-os.js';
import { cpuLabel, type TargetThread } from '../../src/targets/index.js';
import { ArgumentError, type Args } from '../args.js';

interface ThreadEntry {
  /** The DAP threadId. */
  id: number;
  name: string;
  /** The engine thread behind it: a vCPU, or a guest thread's saved context (valid until the guest runs). */
  engine: number;
}

/** DAP ids of guest threads start here, above any vCPU number. */
const GUEST_IDS = 1001;

export class ThreadList {
  private known: ThreadEntry[] = [];
  private vcpus: number[] = [];
  private readonly guestIds = new Map<bigint, number>();

  constructor(private readonly session: Session) {}

  async list(): Promise<ThreadEntry[]> {
    if (!this.session.isRunning && this.session.isAlive) {
      this.vcpus = (await this.session.threads()).map((v) => v.id);
      this.known = await this.entries();
    }
    return this.known;
  }

  private async entries(): Promise<ThreadEntry[]> {
    const s = this.session;
    const guest = s.guest ? (await s.guest.list()).threads : [];
    const out: ThreadEntry[] = [];
    const vcpus = await s.threads();
    const busy = new Set(guest.map((t) => t.vcpu));
    for (const v of vcpus) if (!busy.has(v.id)) out.push({ id: v.id, name: threadName(v), engine: v.id });
    for (const t of guest) {
      const engine = s.guest!.engineThread(t);
      if (engine !== undefined)
        out.push({
          id: this.guestId(t.address),
          name: guestThreadName(
            t,
            vcpus.find((v) => v.id === t.vcpu),
          ),
          engine,
        });
    }
    // A thread's name heads its call stack in the client: there every backtrace says the symbols
    // do not belong to the guest.
    return s.symbolsMismatch ? out.map((t) => ({ ...t, name: `${t.name} (symbols do not match the guest)` })) : out;
  }

  private guestId(address: bigint): number {
    let id = this.guestIds.get(address);
    if (id === undefined) this.guestIds.set(address, (id = GUEST_IDS + this.guestIds.size));
    return id;
  }

  /** The engine thread named by `args[key]` (a vCPU's own number names what it runs), or an ArgumentError naming it. */
  async require(args: Args, key = 'threadId'): Promise<number> {
    const id = args.int(key);
    const threads = this.known.length ? this.known : await this.list();
    const entry = threads.find((t) => t.id === id);
    if (entry) return entry.engine;
    if (this.vcpus.includes(id)) return id;
    throw new ArgumentError(
      `${args.name(key)} ${id} is not a thread of this guest (threads: ${threads.map((t) => t.id).join(', ') || 'none'})`,
    );
  }

  /** The DAP id that stands for a vCPU now: the guest thread it runs, else the vCPU itself. */
  async idOf(vcpu: number): Promise<number> {
    return (await this.list()).find((t) => t.engine === vcpu)?.id ?? vcpu;
  }

  /** The DAP id of an engine thread as of the last list (events sent while the guest runs). */
  knownIdOf(engine: number): number {
    return this.known.find((t) => t.engine === engine)?.id ?? engine;
  }
}

/** `CPU 0`: the stub's state of it (`[running]`) is stale as soon as it is read. */
function threadName(t: TargetThread): string {
  return cpuLabel(t.cpu);
}

/** `worker-1 (2.4) on CPU 1`, `worker-2 (2.5) THREAD_SLEEPING`: gdb's thread number in parentheses. */
function guestThreadName(t: GuestThread, vcpu: TargetThread | undefined): string {
  return `${guestThreadTitle(t)} (2.${t.id}) ${vcpu ? `on ${cpuLabel(vcpu.cpu)}` : t.state}`;
}
