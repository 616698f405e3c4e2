// launch and attach configurations: validated from the client's JSON into what the engine needs,
// then turned into a stopped debuggee (QEMU booted paused, a gdbstub attached to, or a crash dump).
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { Program } from '../src/engine/program.js';
import { Session } from '../src/engine/session.js';
import { launchQemu, type QemuInstance } from '../src/qemu/index.js';
import { LiveTarget, openDump, type Target } from '../src/targets/index.js';
import { ArgumentError, type Args } from './args.js';

export interface LaunchConfig {
  request: 'launch';
  image: string;
  symbols: string;
  smp: number;
  memory?: string;
  append?: string;
  qemuArgs: string[];
  stopOnEntry: boolean;
}

/** Post-mortem: a crash dump with the image's symbols, read-only. */
export interface DumpConfig {
  request: 'launch';
  coreDump: string;
  symbols: string;
  stopOnEntry: true;
}

export interface AttachConfig {
  request: 'attach';
  target: string;
  symbols?: string;
  stopOnEntry: boolean;
}

/**
 * QEMU options duster sets itself. Passing them again would move the gdbstub or QMP (possibly onto
 * all interfaces: `-s` is tcp::1234), steal the serial console, or pull in a config file.
 */
const RESERVED_QEMU_OPTIONS = new Set(['gdb', 's', 'S', 'qmp', 'qmp-pretty', 'monitor', 'mon', 'serial', 'kernel', 'append', 'smp', 'm', 'daemonize', 'readconfig', 'display', 'nographic']);

/** What only booting uses: with coreDump these are mistakes, not options to ignore. */
const BOOT_ONLY = ['image', 'smp', 'memory', 'append', 'qemuArgs'];

export function launchConfig(args: Args): LaunchConfig | DumpConfig {
  const cwd = args.optStr('cwd');
  if (args.has('coreDump')) {
    const extra = BOOT_ONLY.find((k) => args.has(k));
    if (extra) throw new ArgumentError(`${args.name(extra)} does not apply to a crash dump (coreDump): nothing is booted`);
    const coreDump = readableFile(args, 'coreDump', cwd);
    if (!args.has('symbols')) throw new ArgumentError('symbols is missing: a crash dump holds no symbols (give the image it was taken from)');
    return { request: 'launch', coreDump, symbols: readableFile(args, 'symbols', cwd), stopOnEntry: true };
  }
  if (!args.has('image')) throw new ArgumentError('image is missing (or coreDump and symbols, to open a crash dump)');
  const image = readableFile(args, 'image', cwd);
  const qemuArgs = args.has('qemuArgs') ? args.strings('qemuArgs') : [];
  qemuArgs.forEach((a, i) => {
    const option = /^--?([A-Za-z][\w-]*)$/.exec(a)?.[1];
    if (option && RESERVED_QEMU_OPTIONS.has(option)) {
      throw new ArgumentError(`qemuArgs[${i}] '${a}' is set by duster itself (use image, smp, memory, append; the gdbstub stays on a private socket)`);
    }
  });
  const memory = args.optStr('memory');
  if (memory !== undefined && !/^\d+[KMGT]?$/i.test(memory)) throw new ArgumentError(`memory '${memory}' is not a size (want e.g. 128M or 1G)`);
  return {
    request: 'launch',
    image,
    symbols: args.has('symbols') ? readableFile(args, 'symbols', cwd) : image,
    smp: args.optInt('smp', 1, 64) ?? 2,
    ...(memory !== undefined && { memory }),
    ...(args.has('append') && { append: args.str('append') }),
    qemuArgs,
    stopOnEntry: args.optBool('stopOnEntry') ?? false,
  };
}

export function attachConfig(args: Args): AttachConfig {
  const target = args.str('target');
  const tcp = /^tcp:([^:\s]+):(\d+)$/.exec(target);
  if (tcp ? Number(tcp[2]) < 1 || Number(tcp[2]) > 65535 : !/^unix:.+$/.test(target)) {
    throw new ArgumentError(`target '${target}' is not a gdbstub address (want tcp:HOST:PORT or unix:PATH)`);
  }
  const cwd = args.optStr('cwd');
  return {
    request: 'attach',
    target,
    ...(args.has('symbols') && { symbols: readableFile(args, 'symbols', cwd) }),
    stopOnEntry: args.optBool('stopOnEntry') ?? false,
  };
}

function readableFile(args: Args, key: string, cwd: string | undefined): string {
  const p = path.resolve(cwd ?? process.cwd(), args.str(key));
  try {
    accessSync(p, constants.R_OK);
    if (statSync(p).isFile()) return p;
  } catch {
    // reported below
  }
  throw new ArgumentError(`${args.name(key)} '${args.str(key)}' is not a readable file`);
}

export interface Started {
  session: Session;
  qemu?: QemuInstance;
  image?: string;
}

/** Boots the image in QEMU with its vCPUs stopped at the first instruction and attaches. */
export async function startLaunch(cfg: LaunchConfig): Promise<Started> {
  const qemu = await launchQemu({
    image: cfg.image,
    smp: cfg.smp,
    ...(cfg.memory !== undefined && { memory: cfg.memory }),
    ...(cfg.append !== undefined && { append: cfg.append }),
    extraArgs: cfg.qemuArgs,
    gdb: 'unix',
    paused: true,
    // A guest panic then stops the VM and is reported as an exception instead of going unnoticed.
    pvpanic: true,
  });
  try {
    const started = await open(cfg.symbols, () => LiveTarget.connect(qemu.gdbAddress!), 'entry');
    return { ...started, qemu, image: cfg.image };
  } catch (e) {
    await qemu.kill();
    throw e;
  }
}

export function startAttach(cfg: AttachConfig): Promise<Started> {
  return open(cfg.symbols, () => LiveTarget.connect(cfg.target), 'interrupt');
}

/** Opens a crash dump read-only, frozen where the guest stood when it was written. */
export function startDump(cfg: DumpConfig): Promise<Started> {
  return open(cfg.symbols, () => openDump(cfg.coreDump), 'dump');
}

/** Symbols first (a bad ELF fails before the target is touched), then the target, then the session. */
async function open(symbols: string | undefined, openTarget: () => Promise<Target>, kind: 'entry' | 'interrupt' | 'dump'): Promise<Started> {
  const program = symbols ? await Program.load(symbols) : undefined;
  const target = await openTarget().catch((e: unknown) => {
    program?.close();
    throw e;
  });
  try {
    const session = new Session(target);
    if (program) await session.loadProgram(program);
    await session.start(kind);
    return { session };
  } catch (e) {
    program?.close();
    await target.close();
    throw e;
  }
}
