// `duster attach tcp:HOST:PORT|unix:PATH|DOMID|xen:DOMAIN --symbols ELF`: debug a guest someone
// else started, behind a gdbstub or (on a Xen dom0) a domain through gdbsx.
import { openSession } from '../../open/index.js';
import { parseXenTarget } from '../../xen/index.js';
import { parseArgs } from '../args.js';
import { CONSOLE_HELP, CONSOLE_OPTIONS, consoleOptions } from '../console-options.js';
import { debugLive } from '../debug.js';
import type { Io } from '../io.js';

const HELP = `Usage: duster attach TARGET [options]
  TARGET           tcp:HOST:PORT or unix:PATH (a QEMU -gdb or gdbsx stub), or on a Xen dom0
                   DOMID or xen:DOMID|xen:NAME (runs gdbsx for the domain; needs root)
  --symbols ELF    the guest's ELF image with debug info (Xen: default the kernel xl booted)
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
  const symbols = p.options.get('symbols')?.[0];
  const domain = parseXenTarget(target);
  const opened = await openSession(
    domain === undefined
      ? { kind: 'attach', target, ...(symbols && { symbols }) }
      : { kind: 'xen', domain, ...(symbols && { symbols }), xen: { log: (line) => io.stderr.write(`duster: ${line}\n`) } },
  );
  return debugLive(opened, io, consoleOptions(p));
}
