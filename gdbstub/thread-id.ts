import { RspMalformedError } from './errors.js';

/** A thread id; `tid` -1 means all threads, 0 any thread. `pid` is present with the multiprocess extension. */
export interface ThreadId {
  pid?: number;
  tid: number;
}

function num(s: string, whole: string): number {
  if (s === '-1') return -1;
  if (!/^[0-9a-fA-F]+$/.test(s)) throw new RspMalformedError(`bad thread id '${whole}'`);
  return parseInt(s, 16);
}

export function parseThreadId(text: string): ThreadId {
  const m = /^p([^.]+)(?:\.(.+))?$/.exec(text);
  if (m) return { pid: num(m[1]!, text), tid: m[2] === undefined ? -1 : num(m[2], text) };
  return { tid: num(text, text) };
}

export function formatThreadId(t: ThreadId, multiprocess: boolean): string {
  const hex = (n: number) => (n < 0 ? '-1' : n.toString(16));
  if (multiprocess) return `p${hex(t.pid ?? 1)}.${hex(t.tid)}`;
  return hex(t.tid);
}

export function sameThread(a: ThreadId, b: ThreadId): boolean {
  return a.tid === b.tid && (a.pid === undefined || b.pid === undefined || a.pid === b.pid);
}
