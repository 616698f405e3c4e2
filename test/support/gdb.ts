// Real gdb as the oracle: batch runs against an ELF and (optionally) a live gdbstub.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface GdbRun {
  elf: string;
  /** `tcp:127.0.0.1:PORT` or `unix:PATH`, as the QEMU harness reports it. */
  target?: string;
  commands: string[];
  timeoutMs?: number;
}

/** gdb's `target remote` argument for a duster-style address. */
export function gdbRemoteArg(address: string): string {
  if (address.startsWith('tcp:')) return address.slice(4);
  if (address.startsWith('unix:')) return address.slice(5);
  throw new Error(`not a gdbstub address: ${address}`);
}

/** Runs gdb -batch with each command as an -ex; returns stdout (stderr appended on failure). */
export async function gdbBatch({ elf, target, commands, timeoutMs = 60_000 }: GdbRun): Promise<string> {
  const args = ['-nx', '-batch', '-ex', 'set pagination off', '-ex', 'set confirm off', '-ex', 'set width 0'];
  if (target) args.push('-ex', `target remote ${gdbRemoteArg(target)}`);
  for (const c of commands) args.push('-ex', c);
  args.push(elf);
  // Our own deadline, and SIGKILL: gdb quits cleanly on SIGTERM, and a clean exit would pass
  // for a finished run with its output cut short.
  const pending = run('gdb', args, { maxBuffer: 64 * 1024 * 1024 });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    pending.child.kill('SIGKILL');
  }, timeoutMs);
  try {
    const { stdout } = await pending;
    return stdout;
  } catch (e) {
    if (timedOut) throw new GdbTimeoutError(timeoutMs, (e as { stdout?: string }).stdout ?? '');
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** gdb did not finish in time; the message ends with what it printed last (the command it hung in). */
export class GdbTimeoutError extends Error {
  constructor(
    timeoutMs: number,
    readonly stdout: string,
  ) {
    super(`gdb did not finish within ${timeoutMs} ms; its output ended with:\n${stdout.slice(-1500)}`);
  }
}

/** Frames of gdb's `bt` output: function names innermost first, with file:line when shown. */
export function parseGdbBacktrace(out: string): Array<{ level: number; func: string; file?: string; line?: number }> {
  const frames: Array<{ level: number; func: string; file?: string; line?: number }> = [];
  for (const line of out.split('\n')) {
    const m = /^#(\d+)\s+(?:0x[0-9a-f]+ in )?(\S+) \(.*?\)(?: at (\S+):(\d+))?/.exec(line);
    if (m) frames.push({ level: Number(m[1]), func: m[2]!, file: m[3], line: m[4] ? Number(m[4]) : undefined });
  }
  return frames;
}
