// Boots an image in QEMU (TCG) with its gdbstub on a unix socket or 127.0.0.1 (never all
// interfaces), QMP on a unix socket and the serial console captured. Spawned with an argument
// array, never through a shell; every instance is killed when this process exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { accessSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { findIn, isExecutable } from '../util/executable.js';
import { QmpClient, type QmpEvent } from './qmp.js';

export class QemuError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QemuError';
  }
}

export interface LaunchOptions {
  image: string;
  smp?: number;
  memory?: string;
  append?: string;
  /** Where the gdbstub listens: a unix socket in a private temp dir (default) or 127.0.0.1:free port. */
  gdb?: 'unix' | 'tcp' | 'none';
  /** Start with vCPUs stopped (-S) so a debugger sees the very first instruction. */
  paused?: boolean;
  /** Add the ISA pvpanic device; a guest panic then pauses the VM and raises QMP GUEST_PANICKED. */
  pvpanic?: boolean;
  /** Extra arguments appended verbatim (the user's own `--qemu-arg`s). */
  extraArgs?: string[];
  qemuBinary?: string;
  /** How long to wait for the gdb/QMP sockets to appear. */
  startTimeoutMs?: number;
}

/** Running QEMUs and their private socket directories. */
const live = new Map<ChildProcess, string>();
const killAll = () => {
  for (const [p, dir] of live) {
    p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
};
process.on('exit', killAll);

/**
 * A signal that ends duster skips 'exit' handlers, which would orphan its QEMUs: kill them first.
 * When nothing else handles the signal, re-raise it so the process still ends as it would have.
 */
let signalsWatched = false;
function watchSignals(): void {
  if (signalsWatched) return;
  signalsWatched = true;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      killAll();
      if (process.listenerCount(sig) === 1) {
        process.off(sig, onSignal);
        process.kill(process.pid, sig);
      }
    };
    process.on(sig, onSignal);
  }
}

/** The QEMU binary: $DUSTER_QEMU, else qemu-system-x86_64 on PATH. */
/**
 * QEMU options a launch sets itself. Passing them again would move the gdbstub or QMP (possibly onto
 * all interfaces: `-s` is tcp::1234), steal the serial console, or pull in a config file.
 */
export const RESERVED_QEMU_OPTIONS: ReadonlySet<string> = new Set([
  'gdb',
  's',
  'S',
  'qmp',
  'qmp-pretty',
  'monitor',
  'mon',
  'serial',
  'kernel',
  'append',
  'smp',
  'm',
  'daemonize',
  'readconfig',
  'display',
  'nographic',
]);

export function findQemu(explicit?: string): string {
  const wanted = explicit ?? process.env.DUSTER_QEMU;
  if (wanted) {
    if (!isExecutable(wanted)) throw new QemuError(`QEMU binary ${wanted} is not an executable file`);
    return wanted;
  }
  const found = findIn(
    (process.env.PATH ?? '').split(path.delimiter).map((d) => d || '.'),
    'qemu-system-x86_64',
  );
  if (found) return found;
  throw new QemuError('qemu-system-x86_64 not found on PATH (Debian: apt-get install qemu-system-x86)');
}

/** A free TCP port on 127.0.0.1 (bound and released: QEMU takes it a moment later). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export function qemuArgs(opts: LaunchOptions, sockets: { gdb?: string; qmp: string }): string[] {
  const args = [
    '-kernel',
    opts.image,
    '-machine',
    'q35,accel=tcg',
    '-cpu',
    'max',
    '-m',
    opts.memory ?? '128M',
    '-smp',
    String(opts.smp ?? 1),
    '-nodefaults',
    '-display',
    'none',
    '-serial',
    'stdio',
    '-monitor',
    'none',
    '-no-reboot',
    '-qmp',
    `unix:${sockets.qmp},server=on,wait=off`,
    // Named threads: dumpGuestMemory waits for the one that writes a dump to end.
    '-name',
    'duster,debug-threads=on',
  ];
  if (opts.append !== undefined) args.push('-append', opts.append);
  if (sockets.gdb) args.push('-gdb', sockets.gdb);
  if (opts.paused) args.push('-S');
  if (opts.pvpanic) args.push('-device', 'pvpanic', '-action', 'panic=pause');
  args.push(...(opts.extraArgs ?? []));
  return args;
}

export class QemuInstance extends EventEmitter<{ serial: [string]; exit: [number | null, NodeJS.Signals | null] }> {
  serialText = '';
  stderrText = '';
  exited = false;
  exitCode: number | null = null;
  private readonly exitPromise: Promise<void>;

  constructor(
    readonly proc: ChildProcess,
    readonly args: string[],
    /** `unix:PATH` or `tcp:127.0.0.1:PORT`, as duster's gdbstub client takes it. */
    readonly gdbAddress: string | undefined,
    readonly qmpPath: string,
    private readonly dir: string,
  ) {
    super();
    proc.stdout!.setEncoding('utf8');
    proc.stdout!.on('data', (d: string) => {
      this.serialText += d;
      this.emit('serial', d);
    });
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (d: string) => {
      this.stderrText += d;
    });
    this.exitPromise = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        live.delete(proc);
        this.exited = true;
        this.exitCode = code;
        rmSync(this.dir, { recursive: true, force: true });
        this.emit('exit', code, signal);
        resolve();
      });
    });
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /**
   * Resolves once `re` matches the serial text from offset `since` on (to wait for output newer
   * than what was seen); rejects on timeout or QEMU exit.
   */
  waitForSerial(re: RegExp, timeoutMs = 10_000, since = 0): Promise<RegExpMatchArray> {
    const now = this.serialText.slice(since).match(re);
    if (now) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const done = (err?: Error, m?: RegExpMatchArray) => {
        clearTimeout(timer);
        this.off('serial', onSerial);
        this.off('exit', onExit);
        if (err) reject(err);
        else resolve(m!);
      };
      const onSerial = () => {
        const m = this.serialText.slice(since).match(re);
        if (m) done(undefined, m);
      };
      const onExit = () =>
        done(new QemuError(`QEMU exited before serial output matched ${re}; stderr: ${this.stderrText.trim() || '(none)'}`));
      const timer = setTimeout(
        () =>
          done(
            new QemuError(`serial output did not match ${re} within ${timeoutMs} ms; got: ${JSON.stringify(this.serialText.slice(-300))}`),
          ),
        timeoutMs,
      );
      this.on('serial', onSerial);
      this.on('exit', onExit);
    });
  }

  /** QMP, connected at launch; its events (GUEST_PANICKED, STOP, ...) are re-emitted by the client. */
  qmp!: QmpClient;

  /** QEMU's run state ("running", "paused", "debug", "guest-panicked", ...). */
  async status(): Promise<string> {
    const r = (await this.qmp.execute('query-status')) as { status: string };
    return r.status;
  }

  /**
   * Writes a crash dump of guest memory and vCPU state (QEMU's ELF core format) to `file`.
   * paging:false is deliberate: QEMU's paging:true mappings are wrong for our guests; duster
   * translates virtual addresses itself from the dump's CR3. detach:true has QEMU write it from
   * a thread, so its gdbstub and QMP keep answering meanwhile (a 512 MiB dump can take longer than
   * a debugger waits for a packet); DUMP_COMPLETED says when the file is whole.
   */
  dumpGuestMemory(file: string): Promise<void> {
    // QEMU writes one dump at a time and refuses a second meanwhile: later ones wait their turn.
    const dump = this.dumps.then(() => this.writeDump(file));
    this.dumps = dump.catch(() => undefined);
    return dump;
  }

  private dumps: Promise<unknown> = Promise.resolve();

  private async writeDump(file: string): Promise<void> {
    let off = () => {};
    const completed = new Promise<void>((resolve, reject) => {
      const onEvent = (ev: QmpEvent) => {
        if (ev.event !== 'DUMP_COMPLETED') return;
        off();
        if (typeof ev.data?.error === 'string') reject(new QemuError(`dump-guest-memory failed: ${ev.data.error}`));
        else resolve();
      };
      const onClose = () => {
        off();
        reject(new QemuError('QEMU went away while writing the dump'));
      };
      off = () => {
        this.qmp.off('event', onEvent);
        this.qmp.off('close', onClose);
      };
      this.qmp.on('event', onEvent);
      this.qmp.on('close', onClose);
    });
    try {
      await this.qmp.execute('dump-guest-memory', { paging: false, detach: true, protocol: `file:${file}` });
    } catch (e) {
      off();
      throw e;
    }
    try {
      await completed;
    } finally {
      await this.dumpThreadEnd();
    }
  }

  /**
   * QEMU (7.2) sends DUMP_COMPLETED before its dump thread closes the file and frees the dump
   * state the next dump reuses: a dump begun in between fails ("Bad file descriptor"). So wait
   * for the thread, by its name in /proc (nothing to wait on where there is none).
   */
  private async dumpThreadEnd(deadlineMs = 10_000): Promise<void> {
    const tasks = `/proc/${this.proc.pid}/task`;
    const named = (tid: string) => {
      try {
        return readFileSync(path.join(tasks, tid, 'comm'), 'utf8') === 'dump_thread\n';
      } catch {
        return false; // that thread has just ended
      }
    };
    for (const end = Date.now() + deadlineMs; Date.now() < end; await new Promise((r) => setTimeout(r, 2))) {
      let ids: string[];
      try {
        ids = readdirSync(tasks);
      } catch {
        return;
      }
      if (!ids.some(named)) return;
    }
  }

  waitForExit(): Promise<void> {
    return this.exitPromise;
  }

  /** Stops QEMU: SIGTERM, then SIGKILL if it has not gone within `graceMs`. */
  async kill(graceMs = 2000): Promise<void> {
    if (this.exited) return;
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await this.exitPromise;
    clearTimeout(t);
  }
}

export async function launchQemu(opts: LaunchOptions): Promise<QemuInstance> {
  const binary = findQemu(opts.qemuBinary);
  if (!isReadableFile(opts.image)) throw new QemuError(`image ${opts.image} is not a readable file`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'duster-qemu-'));
  const qmp = path.join(dir, 'qmp.sock');
  let gdbAddress: string | undefined;
  let gdbArg: string | undefined;
  let gdbSocket: string | undefined;
  switch (opts.gdb ?? 'unix') {
    case 'unix':
      gdbSocket = path.join(dir, 'gdb.sock');
      gdbArg = `unix:${gdbSocket},server=on,wait=off`;
      gdbAddress = `unix:${gdbSocket}`;
      break;
    case 'tcp': {
      const port = await freeLoopbackPort();
      gdbArg = `tcp:127.0.0.1:${port}`;
      gdbAddress = `tcp:127.0.0.1:${port}`;
      break;
    }
    case 'none':
      break;
  }
  const args = qemuArgs(opts, { gdb: gdbArg, qmp });
  const proc = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'], shell: false });
  live.set(proc, dir);
  watchSignals();
  const q = new QemuInstance(proc, args, gdbAddress, qmp, dir);
  const spawnError = new Promise<never>((_, reject) =>
    proc.once('error', (e) => reject(new QemuError(`cannot start ${binary}: ${e.message}`))),
  );
  const ready = waitForSockets([qmp, ...(gdbSocket ? [gdbSocket] : [])], opts.startTimeoutMs ?? 10_000, q);
  try {
    await Promise.race([ready, spawnError]);
    // QEMU opens its sockets before it loads the kernel; QMP answers only once the machine is built.
    q.qmp = await connectQmp(qmp, opts.startTimeoutMs ?? 10_000, q);
    await q.qmp.execute('query-status');
  } catch (e) {
    if (q.exited || (await exitedSoon(q))) {
      throw new QemuError(`QEMU exited at startup (code ${q.exitCode}): ${q.stderrText.trim() || '(no message)'}`);
    }
    await q.kill();
    throw e;
  }
  return q;
}

function exitedSoon(q: QemuInstance): Promise<boolean> {
  return Promise.race([q.waitForExit().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 500))]);
}

function isReadableFile(p: string): boolean {
  try {
    accessSync(p, constants.R_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

async function waitForSockets(paths: string[], timeoutMs: number, q: QemuInstance): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (q.exited) throw new QemuError(`QEMU exited at startup (code ${q.exitCode}): ${q.stderrText.trim() || '(no message)'}`);
    if (paths.every(exists)) return;
    if (Date.now() > deadline) throw new QemuError(`QEMU did not open its sockets within ${timeoutMs} ms: ${q.stderrText.trim()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The socket file appears when QEMU binds it, a moment before it listens: retry a refused connect. */
async function connectQmp(path: string, timeoutMs: number, q: QemuInstance): Promise<QmpClient> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await QmpClient.connect(path);
    } catch (e) {
      if (!/ECONNREFUSED/.test((e as Error).message) || q.exited || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

function exists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}
