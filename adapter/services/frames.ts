// frameId handles: DAP names a frame by one number, the engine by (vCPU, level). Handles live until
// the guest resumes; numbers keep growing so a stale id never lands on a frame of a later stop.
import { ArgumentError, type Args } from '../args.js';

interface FrameRef {
  thread: number;
  level: number;
}

export class FrameHandles {
  private next = 1;
  private readonly byId = new Map<number, FrameRef>();
  private readonly byKey = new Map<string, number>();

  id(thread: number, level: number): number {
    const key = `${thread}:${level}`;
    let id = this.byKey.get(key);
    if (id === undefined) {
      id = this.next++;
      this.byKey.set(key, id);
      this.byId.set(id, { thread, level });
    }
    return id;
  }

  require(args: Args, key = 'frameId'): FrameRef {
    const id = args.int(key);
    const ref = this.byId.get(id);
    if (!ref)
      throw new ArgumentError(`${args.name(key)} ${id} is not a frame of the current stop (frame ids expire when the guest resumes)`);
    return ref;
  }

  /**
   * `key` names a frame of an earlier stop: VS Code's views still ask for the frame they showed
   * while the guest runs to the next stop, which is no mistake of the user (an id never handed out is).
   */
  expired(args: Args, key = 'frameId'): boolean {
    const id = args.int(key);
    return id >= 1 && id < this.next && !this.byId.has(id);
  }

  clear(): void {
    this.byId.clear();
    this.byKey.clear();
  }
}
