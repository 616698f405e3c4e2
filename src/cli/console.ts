// The terminal front end over the command interpreter: batch mode (-ex, -x, --batch) and the
// interactive REPL (history, completion, Enter repeats, Ctrl-C interrupts the guest).
import { readFileSync } from 'node:fs';
import readline from 'node:readline';
import { Chalk, type ChalkInstance } from 'chalk';
import { lastBreakpoint } from '../commands/breakpoints.js';
import type { CommandContext } from '../commands/context.js';
import { CommandInterpreter, findCommand, type CommandResult } from '../commands/interpreter.js';
import type { Session } from '../engine/session.js';
import type { SessionWarning } from '../engine/warnings.js';
import { warningData, warningLine } from '../commands/warnings.js';
import type { Io } from './io.js';

export interface ConsoleOptions {
  commands: string[];
  scriptFiles: string[];
  batch: boolean;
  json: boolean;
  /** Ends the guest when duster started it. */
  kill?: () => Promise<void>;
  /** The QEMU duster started (state queries, dumps). */
  qemu?: CommandContext['qemu'];
}

/** JSON.stringify that writes bigints as hex strings. */
function toJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `0x${x.toString(16)}` : x));
}

export class DebugConsole {
  readonly interpreter: CommandInterpreter;
  private readonly ctx: CommandContext;
  private readonly color: ChalkInstance;
  private serialLine = '';
  /** A command printed a line it did not end (`output`, `echo` without \n): ours start on a new one. */
  private midLine = false;
  failures = 0;

  constructor(
    readonly session: Session,
    private readonly io: Io,
    private readonly opts: ConsoleOptions,
  ) {
    const tty = (io.stdout as NodeJS.WriteStream).isTTY === true && !opts.json;
    this.color = new Chalk({ level: tty ? 1 : 0 });
    const ctx: Omit<CommandContext, 'selected'> = {
      session,
      out: (s) => {
        if (opts.json || !s) return;
        io.stdout.write(s);
        this.midLine = !s.endsWith('\n');
      },
      err: (s) => {
        if (!opts.json) io.stderr.write(this.color.red(s));
      },
      ...(opts.kill && { kill: opts.kill }),
      ...(opts.qemu && { qemu: opts.qemu }),
    };
    ctx.actionDone = (line, r) => this.json(line, r, true);
    this.interpreter = new CommandInterpreter(ctx);
    this.ctx = this.interpreter.ctx;
    // Warnings from opening the session first, then each one as it is found.
    const warn = (w: SessionWarning) => {
      if (opts.json) io.stdout.write(toJson({ event: 'warning', ...warningData(w) }) + '\n');
      else io.stderr.write(this.color.yellow(warningLine(w)));
    };
    for (const w of session.warnings) warn(w);
    session.on('warning', warn);
    session.on('output', (category, text) => {
      if (opts.json) io.stdout.write(toJson({ event: 'output', category, text }) + '\n');
      else (category === 'stderr' ? io.stderr : io.stdout).write(text);
    });
  }

  /** Guest serial output, line-buffered and marked so it never splits duster's own lines. */
  serial(chunk: string): void {
    this.serialLine += chunk.replace(/\r/g, '');
    let nl: number;
    while ((nl = this.serialLine.indexOf('\n')) >= 0) {
      const line = this.serialLine.slice(0, nl);
      this.serialLine = this.serialLine.slice(nl + 1);
      if (this.opts.json) this.io.stdout.write(toJson({ event: 'serial', text: line }) + '\n');
      else this.io.stdout.write(this.newLine() + this.color.dim(`guest| ${line}`) + '\n');
    }
  }

  private newLine(): string {
    const nl = this.midLine ? '\n' : '';
    this.midLine = false;
    return nl;
  }

  /** A line of duster's own (not a command result): a notice from the front end. */
  notice(text: string): void {
    if (this.opts.json) this.io.stdout.write(toJson({ event: 'notice', text }) + '\n');
    else this.io.stdout.write(text + '\n');
  }

  /** One JSON object per command result under --json (a breakpoint list's commands marked as such). */
  private json(line: string, r: CommandResult, action = false): void {
    if (this.opts.json && r.command)
      this.io.stdout.write(
        toJson({
          command: line,
          ...(action && { action: true }),
          ok: r.ok,
          ...(r.data !== undefined && { data: r.data }),
          ...(r.error && { error: r.error }),
          text: r.text,
        }) + '\n',
      );
  }

  /** Runs one command; `fromTty` as gdb has it: typed at the prompt, or an -ex outside --batch. */
  async execute(line: string, fromTty = false, body?: string[]): Promise<CommandResult> {
    if (!this.opts.json && this.opts.batch) this.io.stdout.write(this.newLine() + this.color.bold(`(duster) ${line}`) + '\n');
    this.ctx.fromTty = fromTty;
    this.ctx.body = body;
    const r = await this.interpreter.execute(line);
    if (!r.ok) this.failures++;
    this.json(line, r);
    return r;
  }

  /** Lines of a script or of -ex arguments: a `commands` line takes the lines up to its `end`. */
  private async runLines(lines: readonly string[], fromTty: boolean): Promise<void> {
    for (let i = 0; i < lines.length && !this.ctx.finished; i++) {
      if (!isCommandsLine(lines[i]!)) {
        await this.execute(lines[i]!, fromTty);
        continue;
      }
      const end = lines.findIndex((l, k) => k > i && l.trim() === 'end');
      const stop = end < 0 ? lines.length : end;
      await this.execute(
        lines[i]!,
        fromTty,
        lines.slice(i + 1, stop).map((l) => l.trim()),
      );
      i = stop;
    }
  }

  /** Runs -x files and -ex commands in order, then the REPL unless --batch. Returns the exit status. */
  async run(): Promise<number> {
    for (const file of this.opts.scriptFiles) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        this.io.stderr.write(`cannot read command file ${file}: ${(e as Error).message}\n`);
        return 1;
      }
      await this.runLines(text.split('\n'), false);
    }
    await this.runLines(this.opts.commands, !this.opts.batch);
    if (!this.opts.batch && !this.ctx.finished) await this.repl();
    if (!this.ctx.finished && this.session.isAlive) await this.execute('quit');
    return this.failures ? 1 : 0;
  }

  private repl(): Promise<void> {
    const rl = readline.createInterface({
      input: this.io.stdin,
      output: this.io.stdout,
      prompt: this.color.bold('(duster) '),
      historySize: 1000,
      completer: (line: string) => {
        const names = CommandInterpreter.names();
        const hits = names.filter((n) => n.startsWith(line.trim()));
        return [hits.length ? hits : names, line];
      },
    });
    rl.on('SIGINT', () => {
      if (this.session.isRunning) void this.session.interrupt();
      else {
        this.io.stdout.write('^C\n');
        rl.prompt();
      }
    });
    return new Promise((resolve) => {
      let chain = Promise.resolve();
      // A `commands` line collects the lines that follow, at gdb's `>` prompt, up to `end`.
      let collecting: { line: string; body: string[] } | undefined;
      rl.on('line', (line) => {
        chain = chain.then(async () => {
          if (collecting) {
            if (line.trim() !== 'end') {
              collecting.body.push(line.trim());
              return rl.prompt();
            }
            const { line: head, body } = collecting;
            collecting = undefined;
            rl.setPrompt(this.color.bold('(duster) '));
            await this.execute(head, true, body);
          } else if (isCommandsLine(line)) {
            collecting = { line, body: [] };
            const ids = line.trim().split(/\s+/).slice(1).join(' ') || String(lastBreakpoint(this.session));
            this.io.stdout.write(`Type commands for breakpoint(s) ${ids}, one per line.\nEnd with a line saying just "end".\n`);
            rl.setPrompt('>');
            return rl.prompt();
          } else await this.execute(line, true);
          if (this.ctx.finished) rl.close();
          else rl.prompt();
        });
      });
      rl.on('close', () => void chain.then(resolve));
      rl.prompt();
    });
  }
}

/** A `commands` line (or an abbreviation of it): the lines after it are its body. */
function isCommandsLine(line: string): boolean {
  const word = /^\s*([A-Za-z][\w-]*)/.exec(line)?.[1];
  return word !== undefined && findCommand(word).name === 'commands';
}
