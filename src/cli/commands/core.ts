// `duster core DUMP --symbols ELF`: post-mortem debugging of a QEMU or Xen crash dump (read-only
// REPL or batch), or `--report` for the crash report (`--json` for tools).
import { crashReport } from '../../engine/crash-report.js';
import { formatReport, reportData } from '../../commands/report.js';
import { warningLine } from '../../commands/warnings.js';
import { openSession, type OpenedSession } from '../../open/index.js';
import { parseArgs, UsageError } from '../args.js';
import { CONSOLE_HELP, CONSOLE_OPTIONS, consoleOptions } from '../console-options.js';
import type { Io } from '../io.js';

const HELP = `Usage: duster core DUMP --symbols ELF [options]
  DUMP             a QEMU dump-guest-memory ELF core or a Xen xl dump-core file
  --symbols ELF    the guest's ELF image with debug info
  --report         print the crash report and exit (with --json: as JSON)
${CONSOLE_HELP}`;

/** The crash report of a dump file as text (what `run --dump-on-panic` prints). */
export function dumpReportText(dump: string, symbols: string): Promise<string> {
  return withDump(dump, symbols, async ({ session }) => {
    const text = await formatReport(session, await crashReport(session));
    return session.warnings.map(warningLine).join('') + text;
  });
}

/** A read-only session over a dump with its symbols, closed when `use` is done. */
async function withDump<T>(file: string, symbols: string, use: (opened: OpenedSession) => Promise<T>): Promise<T> {
  const opened = await openSession({ kind: 'dump', file, symbols });
  try {
    return await use(opened);
  } finally {
    await opened.close();
  }
}

export async function coreCommand(argv: string[], io: Io): Promise<number> {
  if (argv.includes('--help')) {
    io.stdout.write(HELP + '\n');
    return 0;
  }
  const p = parseArgs(argv, { symbols: {}, report: { flag: true }, ...CONSOLE_OPTIONS });
  const [dump, ...extra] = p.positionals;
  if (!dump || extra.length) {
    io.stderr.write(HELP + '\n');
    return 2;
  }
  const symbols = p.options.get('symbols')?.[0];
  if (!symbols) throw new UsageError('--symbols ELF is required (the dump holds no symbols)');
  return withDump(dump, symbols, async ({ session }) => {
    if (p.flags.has('report')) {
      const report = await crashReport(session);
      // The JSON carries the warnings as fields; the text report has them on stderr (all of them,
      // those its own lookups found included).
      const text = p.flags.has('json')
        ? JSON.stringify(await reportData(session, report), null, 2) + '\n'
        : await formatReport(session, report);
      if (!p.flags.has('json')) for (const w of session.warnings) io.stderr.write(warningLine(w));
      io.stdout.write(text);
      return 0;
    }
    // The console (readline, the whole command language) is loaded only for the REPL and batch.
    const { DebugConsole } = await import('../console.js');
    const opts = consoleOptions(p);
    if (!opts.json) io.stdout.write(`duster: crash dump ${dump} (read-only), symbols from ${symbols}\n`);
    return new DebugConsole(session, io, opts).run();
  });
}
