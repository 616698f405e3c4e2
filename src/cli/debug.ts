// What `run` and `attach` share: connecting, loading symbols, and handing the session to the console.
import type { QemuInstance } from '../qemu/index.js';
import { Program } from '../engine/program.js';
import { Session } from '../engine/session.js';
import { LiveTarget } from '../targets/index.js';
import { DebugConsole, type ConsoleOptions } from './console.js';
import type { Io } from './io.js';

/** A target connected for us, and what must follow its detach (Xen: stopping gdbsx, the domain's pause state). */
export interface Attached {
  target: LiveTarget;
  description: string;
  cleanup(): Promise<void>;
}

export async function debugLive(
  to: string | Attached,
  symbols: string | undefined,
  io: Io,
  opts: ConsoleOptions,
  qemu?: QemuInstance,
  onConsole?: (con: DebugConsole) => void,
): Promise<number> {
  const attached = typeof to === 'string' ? undefined : to;
  // Symbols first: a bad ELF is reported before anything touches the guest.
  const program = symbols ? await Program.load(symbols) : undefined;
  const target = attached?.target ?? (await LiveTarget.connect(to as string));
  const session = new Session(target);
  // Leaving, even on a signal, must take our breakpoints out and let go of the guest properly.
  const release = async () => {
    if (session.isAlive) await session.detach().catch((e: Error) => io.stderr.write(`duster: ${e.message}\n`));
    await target.close();
    await attached?.cleanup();
  };
  const onSignal = (signal: NodeJS.Signals) => void release().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  if (attached) for (const s of EXIT_SIGNALS) process.on(s, onSignal);
  try {
    if (program) await session.loadProgram(program);
    const con = new DebugConsole(session, io, opts);
    qemu?.on('serial', (d) => con.serial(d));
    onConsole?.(con);
    const stop = await session.start(qemu ? 'entry' : 'interrupt');
    if (!opts.json) io.stdout.write(`duster: attached to ${attached?.description ?? to}${symbols ? `, symbols from ${symbols}` : ''}; stopped at 0x${stop.pc!.toString(16)}\n`);
    return await con.run();
  } finally {
    for (const s of EXIT_SIGNALS) process.off(s, onSignal);
    if (attached) await release();
    else await target.close();
  }
}

const EXIT_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
