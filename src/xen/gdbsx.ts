// Xen's gdbsx, started as `gdbsx -a DOMID 64 PORT` (argument array, no shell). gdbsx pauses the
// domain as it attaches, then accepts exactly one connection; on `D` or end of connection it turns
// debugging off, unpauses the domain and exits (status 1 after `D`: that is its normal end).
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { findIn, isExecutable } from '../util/executable.js';
import { XenError } from './errors.js';

interface GdbsxExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** gdbsx on PATH, else where Debian's xen-utils packages keep it (/usr/lib/xen-VERSION/bin). */
export function findGdbsx(explicit?: string): string {
  if (explicit) {
    if (!isExecutable(explicit)) throw new XenError(`gdbsx ${explicit} is not an executable file`);
    return explicit;
  }
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter((d) => d);
  let xenLibs: string[] = [];
  try {
    xenLibs = readdirSync('/usr/lib')
      .filter((d) => /^xen-\d/.test(d))
      .sort()
      .reverse()
      .map((d) => `/usr/lib/${d}/bin`);
  } catch {
    // No /usr/lib: PATH alone decides.
  }
  const found = findIn([...dirs, ...xenLibs], 'gdbsx');
  if (found) return found;
  throw new XenError('gdbsx not found on PATH or in /usr/lib/xen-*/bin (Debian: apt-get install xen-utils-common)');
}

export class Gdbsx {
  /** What gdbsx printed on stderr (its ERROR lines say why an attach failed). */
  stderrText = '';
  /** Set once the process has ended. */
  exit: GdbsxExit | undefined;
  readonly exited: Promise<GdbsxExit>;

  private constructor(
    readonly proc: ChildProcess,
    readonly binary: string,
    readonly port: number,
  ) {
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (d: string) => {
      if (this.stderrText.length < 64 * 1024) this.stderrText += d;
    });
    // gdbsx's stdout is block-buffered when piped: nothing useful arrives in time, so drain it.
    proc.stdout!.resume();
    this.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        unconnected.delete(proc);
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  static start(binary: string, domid: number, bitness: 32 | 64, port: number): Promise<Gdbsx> {
    // Its own process group: a Ctrl-C at duster's terminal must not kill gdbsx, which would die
    // without restoring anything and leave the domain paused.
    const proc = spawn(binary, ['-a', String(domid), String(bitness), String(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: false,
      detached: true,
    });
    unconnected.add(proc);
    return new Promise((resolve, reject) => {
      proc.once('error', (e) => reject(new XenError(`cannot start ${binary}: ${e.message}`)));
      proc.once('spawn', () => resolve(new Gdbsx(proc, binary, port)));
    });
  }

  /**
   * Our connection now decides gdbsx's end: when it closes, even because duster died, gdbsx
   * detaches, unpauses the domain and exits by itself.
   */
  connected(): void {
    unconnected.delete(this.proc);
  }

  /** One line: how gdbsx ended and the last thing it said. */
  describeExit(): string {
    const how = !this.exit ? 'is running' : this.exit.signal ? `was killed by ${this.exit.signal}` : `exited with status ${this.exit.code}`;
    const said = this.stderrText
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l)
      .pop();
    return `gdbsx ${how}${said ? ` (${said})` : ''}`;
  }

  /** Waits up to `graceMs` for gdbsx to finish by itself (after `D`), then terminates it. */
  async stop(graceMs = 2000): Promise<void> {
    if (this.exit) return;
    const timer = setTimeout(() => this.proc.kill('SIGTERM'), graceMs);
    const hard = setTimeout(() => this.proc.kill('SIGKILL'), graceMs * 2);
    await this.exited;
    clearTimeout(timer);
    clearTimeout(hard);
  }
}

// A gdbsx still waiting for its connection would wait forever, listening on every interface:
// end it if duster exits first.
const unconnected = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of unconnected) p.kill('SIGTERM');
});
