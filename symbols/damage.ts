// Damaged input that reading goes on without: a unit, line program, CFI entry, location list or
// name index that failed to parse is recorded once (section, offset, what failed) and skipped, so
// one bad byte costs the answers that needed it and nothing else. Listeners hear each record once.
import { FormatError } from './reader.js';

interface Damage {
  /** The section (or ELF structure) holding what was skipped, and the offset of that thing in it. */
  section: string;
  offset: number;
  /** What was skipped and why, one line: `unit skipped: <the parse error>`. */
  message: string;
}

export class DamageLog {
  readonly found: Damage[] = [];
  private readonly seen = new Set<string>();
  private readonly listeners: Array<(d: Damage) => void> = [];

  /** Calls `listener` for every record so far and every later one. */
  onDamage(listener: (d: Damage) => void): void {
    for (const d of this.found) listener(d);
    this.listeners.push(listener);
  }

  record(section: string, offset: number, message: string): void {
    const key = `${section}:${offset}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const d = { section, offset, message };
    this.found.push(d);
    for (const l of this.listeners) l(d);
  }

  /**
   * `parse()`, or `fallback` when it throws a FormatError: then the damage is recorded as `what`
   * at (section, offset). Any other error is a bug and propagates.
   */
  guard<T>(section: string, offset: number, what: string, parse: () => T, fallback: T): T {
    try {
      return parse();
    } catch (e) {
      if (!(e instanceof FormatError)) throw e;
      this.record(section, offset, `${what} skipped: ${e.message}`);
      return fallback;
    }
  }
}

/** The same for a query over the whole image: the damage is recorded where the error says it is. */
export function tolerate<T>(log: DamageLog, what: string, parse: () => T, fallback: T): T {
  try {
    return parse();
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    log.record(e.what, e.at ?? 0, `${what} failed: ${e.message}`);
    return fallback;
  }
}
