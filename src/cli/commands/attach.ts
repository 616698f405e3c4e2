// `duster attach tcp:HOST:PORT|unix:PATH --symbols ELF`: debug a guest someone else started.
import { parseArgs } from '../args.js';
import { CONSOLE_HELP, CONSOLE_OPTIONS, consoleOptions, debugLive } from '../debug.js';
import type { Io } from '../io.js';

const HELP = `Usage: duster attach TARGET [options]
  TARGET           tcp:HOST:PORT or unix:PATH (a QEMU -gdb or gdbsx stub)
  --symbols ELF    the guest's ELF image with debug info
${CONSOLE_HELP}`;

export async function attachCommand(argv: string[], io: Io): Promise<number> {
  if (argv.includes('--help')) {
    io.stdout.write(HELP + '\n');
    return 0;
  }
  const p = parseArgs(argv, { symbols: {}, ...CONSOLE_OPTIONS });
  const [target, ...extra] = p.positionals;
  if (!target || extra.length) {
    io.stderr.write(HELP + '\n');
    return 2;
  }
  return debugLive(target, p.options.get('symbols')?.[0], io, consoleOptions(p));
}
