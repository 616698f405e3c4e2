// gdb's command language over the engine: what the CLI's REPL and batch mode run, and what the DAP
// adapter's debug console accepts. Each command reports text for people and data for `--json`.
import { errorLine } from '../engine/errors.js';
import { CommandError } from './command-error.js';
import { initialSelection, stopLevel, type CommandContext } from './context.js';
import { COMMANDS, type CommandSpec } from './table.js';

export interface CommandResult {
  ok: boolean;
  command: string;
  /** What a person reads (already printed through `out` as it happened). */
  text: string;
  /** Structured result for `--json` and the adapter. */
  data?: unknown;
  error?: string;
}

export { CommandError } from './command-error.js';

/** Commands that let the guest run. */
const RESUMING = new Set(['continue', 'next', 'step', 'stepi', 'nexti', 'finish', 'until', 'advance']);

/** Commands that a bare Enter repeats, as in gdb. */
const REPEATABLE = new Set(['next', 'step', 'stepi', 'nexti', 'continue', 'finish', 'x', 'until', 'list']);
/** Those an Enter repeats without their arguments: they go on where they stopped (gdb's `x`, `list`). */
const REPEAT_BARE = new Set(['x', 'list']);

export class CommandInterpreter {
  private last: string | undefined;
  readonly ctx: CommandContext;

  /** Without a selection, commands start in the innermost frame of the thread the session stopped on. */
  constructor(ctx: Omit<CommandContext, 'selected'> & Partial<Pick<CommandContext, 'selected'>>) {
    ctx.selected ??= initialSelection(ctx.session);
    this.ctx = ctx as CommandContext;
    // The selection follows the guest: every stop selects its thread's innermost frame, whoever ran
    // it; a crash caught on its way selects the frame that faulted.
    ctx.session.on('stopped', (stop) => {
      if (stop.kind !== 'exited') this.ctx.selected = { thread: stop.thread, level: stopLevel(stop) };
    });
  }

  /** Every command's name, for completion (as gdb, abbreviations like `b` and `disas` are not offered). */
  static names(): string[] {
    return COMMANDS.map((c) => c.name).sort();
  }

  /** Runs a line, then the command lists of the breakpoints it stopped at (gdb's bpstat_do_actions). */
  async execute(line: string): Promise<CommandResult> {
    const result = await this.executeOne(line);
    // A list ends early where a command of it fails or resumes the guest; the lists of the stop
    // that resuming comes to run next, so a `continue` in a list traces without recursing.
    for (let actions = this.takeActions(); actions; actions = this.takeActions()) {
      for (const l of actions) {
        this.ctx.inBreakpointCommands = true;
        const r = await this.executeOne(l).finally(() => (this.ctx.inBreakpointCommands = false));
        this.ctx.actionDone?.(l, r);
        if (!r.ok || RESUMING.has(r.command) || this.ctx.pendingActions || this.ctx.finished) break;
      }
    }
    return result;
  }

  private takeActions(): string[] | undefined {
    const a = this.ctx.pendingActions;
    this.ctx.pendingActions = undefined;
    return this.ctx.finished ? undefined : a;
  }

  private async executeOne(line: string): Promise<CommandResult> {
    let input = line.trim();
    if (input === '' && this.last) input = this.last;
    if (input === '' || input.startsWith('#')) return { ok: true, command: '', text: '' };
    const { spec, args } = resolve(input);
    let text = '';
    const out = (s: string) => {
      text += s;
      this.ctx.out(s);
    };
    try {
      const data = await spec.run(this.ctx, args, out);
      this.last = !REPEATABLE.has(spec.name) ? undefined : REPEAT_BARE.has(spec.name) ? spec.name : input;
      return { ok: true, command: spec.name, text, ...(data !== undefined && { data }) };
    } catch (e) {
      const message = errorLine(e);
      this.ctx.err(message + '\n');
      return { ok: false, command: spec.name, text, error: message };
    }
  }
}

/** Runs one command line inside another command (thread apply): no repeat, no breakpoint lists. */
export async function runLine(ctx: CommandContext, line: string, out: (text: string) => void): Promise<unknown> {
  const { spec, args } = resolve(line.trim());
  return spec.run(ctx, args, out);
}

function resolve(input: string): { spec: CommandSpec; args: string } {
  // `x/4gx` and `p/x` carry their format glued to the name.
  const m = /^([A-Za-z][\w-]*)(\/\S*)?\s*(.*)$/s.exec(input);
  if (!m) throw new CommandError(`cannot parse '${input}'`);
  const [, word, fmt, rest] = m;
  const spec = findCommand(word!);
  return { spec, args: (fmt ?? '') + (fmt && rest ? ' ' : '') + rest! };
}

export function findCommand(word: string): CommandSpec {
  const exact = COMMANDS.find((c) => c.name === word || c.aliases?.includes(word));
  if (exact) return exact;
  // gdb accepts any unambiguous prefix.
  const prefixed = COMMANDS.filter((c) => c.name.startsWith(word));
  if (prefixed.length === 1) return prefixed[0]!;
  if (prefixed.length > 1) return unknown(word, `ambiguous command '${word}': ${prefixed.map((c) => c.name).join(', ')}`);
  return unknown(word, `undefined command: '${word}' (try 'help')`);
}

function unknown(word: string, message: string): CommandSpec {
  return {
    name: word,
    help: '',
    run: () => {
      throw new CommandError(message);
    },
  };
}
