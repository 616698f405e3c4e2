// What `run` and `attach` share: open the session, hand it to the console, and let go of the guest
// properly however the console ends (a signal included).
import type { OpenedSession } from '../open/index.js';
import { DebugConsole, type ConsoleOptions } from './console.js';
import type { Io } from './io.js';

export async function debugLive(
  opened: OpenedSession,
  io: Io,
  opts: ConsoleOptions,
  onConsole?: (con: DebugConsole) => void,
): Promise<number> {
  const { session, qemu, stop } = opened;
  // Leaving an attached guest, even on a signal, must take our breakpoints out and let go of it
  // properly (a QEMU we started is ended by its launcher's own signal handling).
  const onSignal = (signal: NodeJS.Signals) =>
    void opened
      .close()
      .catch((e: Error) => io.stderr.write(`duster: ${e.message}\n`))
      .finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  if (!qemu) for (const s of EXIT_SIGNALS) process.on(s, onSignal);
  try {
    const con = new DebugConsole(session, io, { ...(qemu && { kill: () => qemu.kill(), qemu }), ...opts });
    qemu?.on('serial', (d) => con.serial(d));
    onConsole?.(con);
    if (!opts.json)
      io.stdout.write(
        `duster: attached to ${opened.description}${opened.symbols ? `, symbols from ${opened.symbols}` : ''}; stopped at 0x${stop.pc.toString(16)}\n`,
      );
    return await con.run();
  } finally {
    for (const s of EXIT_SIGNALS) process.off(s, onSignal);
    await opened.close().catch((e: Error) => io.stderr.write(`duster: ${e.message}\n`));
  }
}

const EXIT_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
