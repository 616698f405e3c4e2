// Session warnings as the CLI shows them: one `warning: ` line each, and as JSON fields (numbers
// as they are, addresses as hex strings) that a batch over many dumps can sort by `kind`.
import type { SessionWarning } from '../engine/warnings.js';

export function warningLine(w: SessionWarning): string {
  return `warning: ${w.message}\n`;
}

export function warningData(w: SessionWarning): Record<string, unknown> {
  return Object.fromEntries(Object.entries(w).map(([k, v]) => [k, typeof v === 'bigint' ? `0x${v.toString(16)}` : v]));
}
