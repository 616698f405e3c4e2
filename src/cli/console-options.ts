// The console's command-line options, shared by the commands that open one (run, attach, core).
import type { OptionSpec, Parsed } from './args.js';
import type { ConsoleOptions } from './console.js';

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
