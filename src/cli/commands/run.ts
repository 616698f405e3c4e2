// `duster run IMAGE`: boot an image in QEMU (TCG, gdbstub on a private unix socket), attach stopped
// at its first instruction, and debug it (REPL, or batch with -ex/-x).
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { openSession } from '../../open/index.js';
import { dumpReportText } from './core.js';
import { intOption, parseArgs } from '../args.js';
import { CONSOLE_HELP, CONSOLE_OPTIONS, consoleOptions } from '../console-options.js';
import { debugLive } from '../debug.js';
import type { Io } from '../io.js';

const HELP = `Usage: duster run IMAGE [options]
  --smp N          vCPUs (default 2)
  --memory SIZE    guest memory (default 128M)
  --append ARGS    kernel command line (PVH cmdline)
  --qemu-arg X     extra QEMU argument (repeatable)
  --symbols ELF    symbols (default: IMAGE.dbg beside IMAGE, as Unikraft names them, else IMAGE)
  --dump-on-panic DIR  when the guest panics (pvpanic, or a crash its OS plugin catches), write a crash dump into DIR
${CONSOLE_HELP}`;

export async function runCommand(argv: string[], io: Io): Promise<number> {
  if (argv.includes('--help')) {
    io.stdout.write(HELP + '\n');
    return 0;
  }
  const p = parseArgs(argv, {
    smp: {},
    memory: {},
    append: {},
    'qemu-arg': { repeat: true },
    symbols: {},
    'dump-on-panic': {},
    ...CONSOLE_OPTIONS,
  });
  const [image, ...extra] = p.positionals;
  if (!image || extra.length) {
    io.stderr.write(HELP + '\n');
    return 2;
  }
  const opts = consoleOptions(p);
  const opened = await openSession({
    kind: 'launch',
    image,
    ...(p.options.has('symbols') && { symbols: p.options.get('symbols')![0]! }),
    smp: intOption(p, 'smp', 1, 64) ?? 2,
    ...(p.options.has('memory') && { memory: p.options.get('memory')![0]! }),
    ...(p.options.has('append') && { append: p.options.get('append')![0]! }),
    qemuArgs: p.options.get('qemu-arg') ?? [],
  });
  const q = opened.qemu!;
  const { symbols } = opened;
  const dumpDir = p.options.get('dump-on-panic')?.[0];
  // The dump and its report, when a panic started one: QEMU must live until the file is whole.
  let dumping: Promise<void> | undefined;
  const endQemu = async () => {
    await dumping;
    await q.kill();
  };
  try {
    return await debugLive(opened, io, { ...opts, kill: endQemu }, (con) => {
      if (!dumpDir) return;
      // Every guest panic the engine stops at: pvpanic's, and a crash the OS plugin caught on its way.
      opened.session.on('stopped', (stop) => {
        if (stop.kind !== 'panic' || dumping || !symbols) return;
        mkdirSync(dumpDir, { recursive: true });
        const file = path.resolve(dumpDir, `duster-core-${new Date().toISOString().replace(/[:.]/g, '-')}.elf`);
        dumping = q
          .dumpGuestMemory(file)
          .then(
            async () => {
              con.notice(`duster: guest panicked; wrote ${file} (duster core ${file} --symbols ${symbols})`);
              con.notice(await dumpReportText(file, symbols));
            },
            (e: Error) => {
              // A partial dump would only be mistaken for a whole one later.
              rmSync(file, { force: true });
              con.notice(`duster: guest panicked; dump failed: ${e.message}`);
            },
          )
          .catch((e: Error) => con.notice(`duster: crash report failed: ${e.message}`));
      });
    });
  } finally {
    await endQemu();
  }
}
