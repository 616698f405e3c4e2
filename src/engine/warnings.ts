// What the session warns about, as data: front ends decide how to show each one (a console line,
// a notification, a field of the JSON report). `message` is the one line of text for people.
import path from 'node:path';
import type { Target } from '../targets/index.js';

export type SessionWarning =
  | {
      kind: 'symbols-mismatch';
      /** The symbol file. */
      symbols: string;
      /** Build IDs (hex) of the symbol file and of the guest, when each has one. */
      imageBuildId?: string;
      guestBuildId?: string;
      /** Where the guest's memory was compared, and how many of the samples differed. */
      address: bigint;
      differing: number;
      compared: number;
      message: string;
    }
  | { kind: 'damaged-symbols'; symbols: string; section: string; offset: number; message: string }
  | { kind: 'truncated-dump'; file: string; size: number; expected: number; message: string }
  | { kind: 'no-debug-info'; symbols: string; message: string }
  /** The OS description's thread expressions fail on this image (another version of the unikernel). */
  | { kind: 'os-model'; unikernel: string; message: string };

/** One warning per thing wrong: the same damage found by two lookups is one warning. */
export function warningKey(w: SessionWarning): string {
  switch (w.kind) {
    case 'symbols-mismatch':
      return w.kind;
    case 'damaged-symbols':
      return `${w.kind}:${w.section}:${w.offset}`;
    case 'truncated-dump':
      return `${w.kind}:${w.file}`;
    case 'no-debug-info':
      return `${w.kind}:${w.symbols}`;
    case 'os-model':
      return `${w.kind}:${w.unikernel}`;
  }
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

/** A dump file cut short: how much of it is there, and what that means for reads. */
export function truncationWarning(target: Target, cut: { size: number; expected: number }): SessionWarning {
  const file = 'path' in target && typeof target.path === 'string' ? target.path : 'the dump';
  const missing = cut.expected - cut.size;
  const message = `${path.basename(file)} is truncated: ${cut.size} of ${cut.expected} bytes (${mib(missing)}, ${((100 * missing) / cut.expected).toFixed(0)}% missing); memory past its end reads as unavailable`;
  return { kind: 'truncated-dump', file, size: cut.size, expected: cut.expected, message };
}
