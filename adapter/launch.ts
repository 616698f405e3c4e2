// launch and attach configurations: validated from the client's JSON into the engine's session
// configuration (boot an image, attach to a gdbstub or a Xen domain, open a crash dump).
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import type { SessionConfig } from '../src/open/index.js';
import { RESERVED_QEMU_OPTIONS } from '../src/qemu/index.js';
import { parseXenTarget } from '../src/xen/index.js';
import { ArgumentError, type Args } from './args.js';

/** A session to open and whether to show its first stop (else the guest runs at configurationDone). */
export interface DebugConfig {
  request: 'launch' | 'attach';
  session: SessionConfig;
  stopOnEntry: boolean;
}

/** What only booting uses: with coreDump these are mistakes, not options to ignore. */
const BOOT_ONLY = ['image', 'smp', 'memory', 'append', 'qemuArgs'];

export function launchConfig(args: Args): DebugConfig {
  const cwd = args.optStr('cwd');
  if (args.has('coreDump')) {
    const extra = BOOT_ONLY.find((k) => args.has(k));
    if (extra) throw new ArgumentError(`${args.name(extra)} does not apply to a crash dump (coreDump): nothing is booted`);
    const file = readableFile(args, 'coreDump', cwd);
    if (!args.has('symbols'))
      throw new ArgumentError('symbols is missing: a crash dump holds no symbols (give the image it was taken from)');
    return { request: 'launch', session: { kind: 'dump', file, symbols: readableFile(args, 'symbols', cwd) }, stopOnEntry: true };
  }
  if (!args.has('image')) throw new ArgumentError('image is missing (or coreDump and symbols, to open a crash dump)');
  const image = readableFile(args, 'image', cwd);
  const qemuArgs = args.has('qemuArgs') ? args.strings('qemuArgs') : [];
  qemuArgs.forEach((a, i) => {
    const option = /^--?([A-Za-z][\w-]*)$/.exec(a)?.[1];
    if (option && RESERVED_QEMU_OPTIONS.has(option)) {
      throw new ArgumentError(
        `qemuArgs[${i}] '${a}' is set by duster itself (use image, smp, memory, append; the gdbstub stays on a private socket)`,
      );
    }
  });
  const memory = args.optStr('memory');
  if (memory !== undefined && !/^\d+[KMGT]?$/i.test(memory))
    throw new ArgumentError(`memory '${memory}' is not a size (want e.g. 128M or 1G)`);
  return {
    request: 'launch',
    session: {
      kind: 'launch',
      image,
      ...(args.has('symbols') && { symbols: readableFile(args, 'symbols', cwd) }),
      smp: args.optInt('smp', 1, 64) ?? 2,
      ...(memory !== undefined && { memory }),
      ...(args.has('append') && { append: args.str('append') }),
      qemuArgs,
      ...(args.has('sourceMap') && { sourceMap: sourceMap(args) }),
    },
    stopOnEntry: args.optBool('stopOnEntry') ?? false,
  };
}

/** `target` is a gdbstub (`tcp:HOST:PORT`, `unix:PATH`) or, on a Xen dom0, a domain (`xen:NAME`, `xen:ID`, `ID`). */
export function attachConfig(args: Args): DebugConfig {
  const target = args.str('target');
  const cwd = args.optStr('cwd');
  const symbols = args.has('symbols') ? readableFile(args, 'symbols', cwd) : undefined;
  const stopOnEntry = args.optBool('stopOnEntry') ?? false;
  const domain = parseXenTarget(target);
  if (domain !== undefined) return { request: 'attach', session: { kind: 'xen', domain, ...(symbols && { symbols }) }, stopOnEntry };
  const tcp = /^tcp:([^:\s]+):(\d+)$/.exec(target);
  if (tcp ? Number(tcp[2]) < 1 || Number(tcp[2]) > 65535 : !/^unix:.+$/.test(target)) {
    throw new ArgumentError(`target '${target}' is not a gdbstub address (tcp:HOST:PORT or unix:PATH) or a Xen domain (xen:NAME, xen:ID)`);
  }
  return { request: 'attach', session: { kind: 'attach', target, ...(symbols && { symbols }) }, stopOnEntry };
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

/** `sourceMap`: an object of directory paths (as the debug info has them) to directories here. */
function sourceMap(args: Args): Record<string, string> {
  const m = args.optObj('sourceMap')!;
  return Object.fromEntries(Object.keys(m.raw).map((k) => [k, m.str(k)]));
}
