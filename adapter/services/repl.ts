// The debug console speaks both languages: gdb commands (the CLI's interpreter) and expressions.
// A line is a command when its first word names one and what follows does not continue a C
// expression (`c = 3`, `x + 1`, `i[2]`); `(x)` always evaluates.
import { OutputEvent } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { CommandInterpreter, findCommand, type CommandResult } from '../../src/commands/interpreter.js';
import type { Session } from '../../src/engine/session.js';
import type { QemuInstance } from '../../src/qemu/index.js';

/** Text after a command word that makes the line an expression instead. */
const CONTINUES_EXPRESSION = /^\s*(=|\+|%|&|\||\^|<|>|!=|\?|\.|\[|\(|,|->|\/\s)/;
/** gdb's `/FMT` glued to a command (`x/4gx`, `p/x`). */
const FORMAT_SUFFIX = /^\/\d*[a-z]*(\s|$)/i;

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
export function completeCommand(textBeforeCursor: string): DebugProtocol.CompletionItem[] {
  const m = /^\s*([A-Za-z][\w-]*)?$/.exec(textBeforeCursor);
  if (!m) return [];
  const word = m[1] ?? '';
  return CommandInterpreter.names()
    .filter((n) => n.startsWith(word))
    .map((label) => ({ label, type: 'keyword' as const }));
}

export class Repl {
  private readonly interpreter: CommandInterpreter;

  constructor(session: Session, send: (e: DebugProtocol.Event) => void, qemu?: QemuInstance) {
    this.interpreter = new CommandInterpreter({
      session,
      fromTty: true,
      out: (text) => send(new OutputEvent(text, 'console')),
      // A failing command comes back as the evaluate request's error response instead.
      err: () => {},
      ...(qemu && { kill: () => qemu.kill(), qemu }),
    });
  }

  run(line: string): Promise<CommandResult> {
    return this.interpreter.execute(line);
  }

  /** `detach`, `kill` or `quit` ended the debugging session. */
  get finished(): boolean {
    return this.interpreter.ctx.finished === true;
  }
}
