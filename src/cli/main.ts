// `duster` command line: dispatches to one module per subcommand.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Io } from './io.js';

const USAGE = `duster: a source-level debugger for unikernels

Usage:
  duster run IMAGE [--smp N] [--append ARGS] [--qemu-arg X]...
                                   boot IMAGE in QEMU (TCG) stopped at its entry and debug it
  duster attach tcp:HOST:PORT|unix:PATH --symbols ELF
                                   debug a guest behind a gdbstub
  duster core DUMP --symbols ELF [--report [--json]]
                                   post-mortem: a QEMU or Xen crash dump, read-only
  duster dap [--port N]            Debug Adapter Protocol server (stdio, or 127.0.0.1:N)
  duster symbolize -e ELF [-f] [-i] [ADDR...]
                                   addresses to function/file:line, as addr2line prints them
Debugging options (run, attach): --batch, -ex CMD, -x FILE, --json
  duster --help | --version

Run 'duster COMMAND --help' for a command's options.`;

type Command = (argv: string[], io: Io) => Promise<number>;

// Loaded on demand: `duster --version` or `symbolize` should not pay for QEMU, DAP or disassembler code.
const commands: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./commands/run.js')).runCommand,
  attach: async () => (await import('./commands/attach.js')).attachCommand,
  core: async () => (await import('./commands/core.js')).coreCommand,
  dap: async () => (await import('./commands/dap.js')).dapCommand,
  symbolize: async () => {
    const { symbolizeCommand } = await import('./commands/symbolize.js');
    return (argv, io) =>
      symbolizeCommand(argv, { stdout: (t) => io.stdout.write(t), stderr: (t) => io.stderr.write(t), stdin: lines(io.stdin) });
  },
};

/** Complete lines of a stream, in the batches that arrived together (a chunk may end mid-line). */
async function* lines(stream: NodeJS.ReadableStream): AsyncIterable<string[]> {
  let rest = '';
  for await (const chunk of stream) {
    rest += chunk.toString();
    const parts = rest.split('\n');
    rest = parts.pop()!;
    if (parts.length) yield parts;
  }
  if (rest) yield [rest];
}

// Node builds each of these streams on first use; a crash report never reads stdin.
const processIo: Io = {
  get stdout() {
    return process.stdout;
  },
  get stderr() {
    return process.stderr;
  },
  get stdin() {
    return process.stdin;
  },
};

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(USAGE + '\n');
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    io.stdout.write(`duster ${version()}\n`);
    return 0;
  }
  const load = commands[name];
  if (!load) {
    io.stderr.write(`duster: unknown command '${name}' (try 'duster --help')\n`);
    return 2;
  }
  try {
    return await (
      await load()
    )(rest, io);
  } catch (e) {
    io.stderr.write(`duster ${name}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

function version(): string {
  const pkg = fileURLToPath(new URL('../../../package.json', import.meta.url));
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
}
