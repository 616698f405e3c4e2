// `duster run IMAGE`: boot an image in QEMU with its gdbstub on a private unix socket and show
// its serial console.
import { launchQemu } from '../../qemu/index.js';
import { intOption, parseArgs } from '../args.js';
import type { Io } from '../io.js';

const HELP = `Usage: duster run IMAGE [options]
  --smp N          vCPUs (default 2)
  --memory SIZE    guest memory (default 128M)
  --append ARGS    kernel command line (PVH cmdline)
  --qemu-arg X     extra QEMU argument (repeatable)
  --seconds S      stop the guest after S seconds (default: run until Ctrl-C)`;

export async function runCommand(argv: string[], io: Io): Promise<number> {
  if (argv.includes('--help')) {
    io.stdout.write(HELP + '\n');
    return 0;
  }
  const p = parseArgs(argv, { smp: {}, memory: {}, append: {}, 'qemu-arg': { repeat: true }, seconds: {} });
  const [image, ...extra] = p.positionals;
  if (!image || extra.length) {
    io.stderr.write(HELP + '\n');
    return 2;
  }
  const seconds = intOption(p, 'seconds', 1, 86_400);
  const q = await launchQemu({
    image,
    smp: intOption(p, 'smp', 1, 64) ?? 2,
    memory: p.options.get('memory')?.[0],
    append: p.options.get('append')?.[0],
    extraArgs: p.options.get('qemu-arg'),
    gdb: 'unix',
  });
  io.stderr.write(`duster: QEMU pid ${q.pid}, gdbstub at ${q.gdbAddress}\n`);
  q.on('serial', (d) => io.stdout.write(d));
  const stop = () => void q.kill();
  process.once('SIGINT', stop);
  const timer = seconds ? setTimeout(stop, seconds * 1000) : undefined;
  await q.waitForExit();
  clearTimeout(timer);
  process.off('SIGINT', stop);
  return 0;
}
