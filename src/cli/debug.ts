// What `run` and `attach` share: connecting, loading symbols, and handing the session to the console.
import type { QemuInstance } from '../qemu/index.js';
import { Session } from '../engine/session.js';
import { LiveTarget } from '../targets/index.js';
import type { OptionSpec, Parsed } from './args.js';
import { DebugConsole, type ConsoleOptions } from './console.js';
import type { Io } from './io.js';

export const CONSOLE_OPTIONS: Record<string, OptionSpec> = {
  batch: { flag: true },
  ex: { repeat: true, short: 'ex' },
  x: { repeat: true, short: 'x' },
  json: { flag: true },
};

export const CONSOLE_HELP = `  --batch          run the -ex/-x commands, then exit (status 1 if any failed)
  -ex CMD          run a command (repeatable, in order)
  -x FILE          run the commands in FILE
  --json           one JSON object per command result (and per event)`;

export function consoleOptions(p: Parsed): ConsoleOptions {
  return {
    commands: p.options.get('ex') ?? [],
    scriptFiles: p.options.get('x') ?? [],
    batch: p.flags.has('batch'),
    json: p.flags.has('json'),
  };
}

export async function debugLive(
  address: string,
  symbols: string | undefined,
  io: Io,
  opts: ConsoleOptions,
  qemu?: QemuInstance,
  onConsole?: (con: DebugConsole) => void,
): Promise<number> {
  const target = await LiveTarget.connect(address);
  try {
    const session = new Session(target);
    const con = new DebugConsole(session, io, opts);
    qemu?.on('serial', (d) => con.serial(d));
    onConsole?.(con);
    const stop = await session.start(qemu ? 'entry' : 'interrupt');
    if (!opts.json) io.stdout.write(`duster: attached to ${address}${symbols ? `, symbols from ${symbols}` : ''}; stopped at 0x${stop.pc!.toString(16)}\n`);
    return await con.run();
  } finally {
    await target.close();
  }
}
