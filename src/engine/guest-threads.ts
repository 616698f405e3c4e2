// The guest's threads as the engine uses them: the OS plugin's thread model, plus the engine thread
// each guest thread is inspected through (its vCPU, or its saved context as a pseudo thread) and
// which guest thread an engine thread stands for (what steps and thread breakpoints keep to).
import type { GuestThread, GuestThreadList, GuestThreadModel } from './guest-os.js';
import type { Inspector } from './inspect.js';
import type { MemoryRange } from '../targets/index.js';

export class GuestThreads {
  /** Every thread address a walk has found: threads stay where they were allocated. */
  private readonly seen = new Set<bigint>();

  constructor(
    /** The unikernel's name. */
    readonly unikernel: string,
    private readonly model: GuestThreadModel,
    private readonly inspector: Inspector,
    /** Told once when the model does not fit this image: the session then shows vCPUs only. */
    private readonly unfit: (reason: string) => void = () => {},
  ) {}

  async list(): Promise<GuestThreadList> {
    const l = await this.model.list();
    if (l.unfit && l.error) this.unfit(l.error);
    for (const t of l.threads) this.seen.add(t.address);
    return l;
  }

  currentOn(vcpu: number): Promise<bigint | undefined> {
    return this.model.currentOn(vcpu);
  }

  currentLocation(vcpu: number): Promise<MemoryRange | undefined> {
    return this.model.currentLocation(vcpu);
  }

  inScheduler(fn: string | undefined): boolean {
    return this.model.inScheduler(fn);
  }

  /** A thread by the unikernel's own id, or a one-line error naming the ids there are. */
  async find(id: number): Promise<GuestThread> {
    const { threads, error } = await this.list();
    const t = threads.find((x) => x.id === id);
    if (!t)
      throw new Error(`no unikernel thread ${id} (${threads.map((x) => x.id).join(', ') || 'none'} exist${error ? `; ${error}` : ''})`);
    return t;
  }

  /** The engine thread to inspect a guest thread through: its vCPU, or its saved context. */
  engineThread(t: GuestThread): number | undefined {
    if (t.vcpu !== undefined) return t.vcpu;
    return t.saved && this.inspector.contextFor(t.address, t.saved);
  }

  /**
   * The guest thread an engine thread stands for (what a vCPU runs, or whose saved context it is).
   * A vCPU's pointer counts only when it names a listed thread: before the scheduler is up it
   * holds whatever the memory under it does.
   */
  async ownerOf(thread: number): Promise<bigint | undefined> {
    if (this.inspector.isSavedContext(thread)) return this.inspector.ownerOf(thread);
    const address = await this.currentOn(thread);
    if (address === undefined) return undefined;
    if (!this.seen.has(address)) await this.list();
    return this.seen.has(address) ? address : undefined;
  }
}
