// `duster` command line: dispatches to one module per subcommand.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { attachCommand } from './commands/attach.js';
import { runCommand } from './commands/run.js';
import type { Io } from './io.js';

const USAGE = `duster: a source-level debugger for unikernels

Usage:
  duster run IMAGE [--smp N] [--append ARGS] [--qemu-arg X]...
                                   boot IMAGE in QEMU (TCG) stopped at its entry and debug it
  duster attach tcp:HOST:PORT|unix:PATH --symbols ELF
                                   debug a guest behind a gdbstub
Debugging options (run, attach): --batch, -ex CMD, -x FILE, --json
  duster --help | --version

Run 'duster COMMAND --help' for a command's options.`;

type Command = (argv: string[], io: Io) => Promise<number>;

const commands: Record<string, Command> = {
  run: runCommand,
  attach: attachCommand,
};

export async function main(argv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(USAGE + '\n');
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    io.stdout.write(`duster ${version()}\n`);
    return 0;
  }
  const cmd = commands[name];
  if (!cmd) {
    io.stderr.write(`duster: unknown command '${name}' (try 'duster --help')\n`);
    return 2;
  }
  try {
    return await cmd(rest, io);
  } catch (e) {
    io.stderr.write(`duster ${name}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

function version(): string {
  const pkg = fileURLToPath(new URL('../../../package.json', import.meta.url));
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
}
