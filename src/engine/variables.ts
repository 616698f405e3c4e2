// Handles for lazily expanded values: a front end gets a number per expandable thing (a scope, a
// struct, an array) and asks for its children later. Every handle dies when the guest resumes.
import type { FramePosition, ValueFormat, ValueView } from './model.js';

type ChildSource = (start: number, count: number, format: ValueFormat) => Promise<ValueView[]>;

export class VariableStore {
  private readonly sources = new Map<number, { source: ChildSource; frame: FramePosition }>();
  private next = 1;

  /** A handle for `source`, whose children are named (evaluated, assigned) in `frame`. */
  add(source: ChildSource, frame: FramePosition): number {
    const ref = this.next++;
    this.sources.set(ref, { source, frame });
    return ref;
  }

  get(ref: number): ChildSource | undefined {
    return this.sources.get(ref)?.source;
  }

  frameOf(ref: number): FramePosition | undefined {
    return this.sources.get(ref)?.frame;
  }

  /** Forgets every handle (on resume); numbers keep growing so stale ones never alias new ones. */
  clear(): void {
    this.sources.clear();
  }
}
