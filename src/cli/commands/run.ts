// `duster run IMAGE`: boot an image in QEMU (TCG, gdbstub on a private unix socket), attach stopped
// at its first instruction, and debug it (REPL, or batch with -ex/-x).
import { launchQemu } from '../../qemu/index.js';
import { intOption, parseArgs } from '../args.js';
import { CONSOLE_HELP, CONSOLE_OPTIONS, consoleOptions, debugLive } from '../debug.js';
import type { Io } from '../io.js';

const HELP = `Usage: duster run IMAGE [options]
  --smp N          vCPUs (default 2)
  --memory SIZE    guest memory (default 128M)
  --append ARGS    kernel command line (PVH cmdline)
  --qemu-arg X     extra QEMU argument (repeatable)
  --symbols ELF    symbols (default: IMAGE itself)
${CONSOLE_HELP}`;

export async function runCommand(argv: string[], io: Io): Promise<number> {
  if (argv.includes('--help')) {
    io.stdout.write(HELP + '\n');
    return 0;
  }
  const p = parseArgs(argv, { smp: {}, memory: {}, append: {}, 'qemu-arg': { repeat: true }, symbols: {}, ...CONSOLE_OPTIONS });
  const [image, ...extra] = p.positionals;
  if (!image || extra.length) {
    io.stderr.write(HELP + '\n');
    return 2;
  }
  const opts = consoleOptions(p);
  const q = await launchQemu({
    image,
    smp: intOption(p, 'smp', 1, 64) ?? 2,
    memory: p.options.get('memory')?.[0],
    append: p.options.get('append')?.[0],
    extraArgs: p.options.get('qemu-arg'),
    gdb: 'unix',
    paused: true,
  });
  try {
    return await debugLive(q.gdbAddress!, p.options.get('symbols')?.[0] ?? image, io, { ...opts, kill: () => q.kill() }, q);
  } finally {
    await q.kill();
  }
}
