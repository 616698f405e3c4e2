// The debug console's command language, given to the adapter by whoever starts it (`duster dap`
// and the VS Code extension give duster's gdb commands). The adapter only routes console lines:
// a line the language calls a command runs there, anything else is evaluated as an expression.
import type { FramePosition } from '../src/engine/model.js';
import type { Session } from '../src/engine/session.js';
import type { QemuInstance } from '../src/qemu/index.js';

export interface ConsoleLanguage {
  isCommand(line: string): boolean;
  /** Command words completing the first word of a line. */
  complete(textBeforeCursor: string): string[];
  /** A console over one session; commands print through `out`. `qemu`: the QEMU the adapter started. */
  open(session: Session, out: (text: string) => void, qemu?: QemuInstance): CommandConsole;
}

export interface CommandConsole {
  run(line: string): Promise<{ ok: boolean; error?: string }>;
  /** The console's selected frame (moved by its commands, and to the innermost frame at every stop). */
  selected: FramePosition;
  /** A command ended debugging (detach, kill, quit). */
  readonly finished: boolean;
}
