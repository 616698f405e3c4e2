// gdb's command language as the debug console of a DAP client speaks it: which console lines are
// commands (the rest are C expressions), command-name completion, and a console per session.
import type { Session } from '../engine/session.js';
import type { QemuInstance } from '../qemu/index.js';
import { CommandInterpreter, findCommand } from './interpreter.js';

/** Text after a command word that makes the line an expression instead. */
const CONTINUES_EXPRESSION = /^\s*(=|\+|%|&|\||\^|<|>|!=|\?|\.|\[|\(|,|->|\/\s)/;
/** gdb's `/FMT` glued to a command (`x/4gx`, `p/x`). */
const FORMAT_SUFFIX = /^\/\d*[a-z]*(\s|$)/i;

/**
 * A line is a command when its first word names one and what follows does not continue a C
 * expression (`c = 3`, `x + 1`, `i[2]`); `(x)` always evaluates.
 */
export function isCommandLine(text: string): boolean {
  const m = /^\s*([A-Za-z][\w-]*)(.*)$/s.exec(text);
  if (!m) return false;
  const word = m[1]!;
  const rest = m[2]!;
  if (!CommandInterpreter.names().includes(findCommand(word).name)) return false;
  if (FORMAT_SUFFIX.test(rest)) return true;
  if (rest.startsWith('/')) return false;
  return !CONTINUES_EXPRESSION.test(rest);
}

/** Command names completing the word under the cursor (only the first word is a command). */
export function completeCommand(textBeforeCursor: string): string[] {
  const m = /^\s*([A-Za-z][\w-]*)?$/.exec(textBeforeCursor);
  if (!m) return [];
  const word = m[1] ?? '';
  return CommandInterpreter.names().filter((n) => n.startsWith(word));
}

export const gdbConsole = {
  isCommand: isCommandLine,
  complete: completeCommand,
  open(session: Session, out: (text: string) => void, qemu?: QemuInstance) {
    const interpreter = new CommandInterpreter({
      session,
      fromTty: true,
      out,
      // A failing command comes back as the evaluate request's error response instead.
      err: () => {},
      ...(qemu && { kill: () => qemu.kill(), qemu }),
    });
    return {
      run: (line: string) => interpreter.execute(line),
      get selected() {
        return interpreter.ctx.selected;
      },
      set selected(at) {
        interpreter.ctx.selected = at;
      },
      get finished() {
        return interpreter.ctx.finished === true;
      },
    };
  },
};
