// What a command runs against: the session, the thread and frame selected in this front end, where
// its output goes, and the owner's hooks (killing the QEMU that `duster run` started, writing a dump).
import type { FramePosition } from '../engine/model.js';
import type { Session } from '../engine/session.js';
import type { FormatOptions } from '../engine/values.js';
import type { Display } from './display.js';
import type { CommandResult } from './interpreter.js';

export interface CommandContext {
  session: Session;
  /** The selected thread (a vCPU, or a guest thread's saved context) and frame: every command's default. */
  selected: FramePosition;
  out(text: string): void;
  err(text: string): void;
  /** Ends the guest (kill QEMU) when duster started it; undefined when attached to someone else's. */
  kill?: () => Promise<void>;
  /** The QEMU duster started, for state queries and crash dumps. */
  qemu?: { status(): Promise<string>; dumpGuestMemory(file: string): Promise<void> };
  /** The command was typed by a person, not read from a script (gdb's from_tty): `display` shows at once. */
  fromTty?: boolean;
  /** gdb's breakpoint command lists, by breakpoint number. */
  breakCommands?: Map<number, string[]>;
  /** Breakpoints made by dprintf: their list is one printf, and a hit goes on without stopping. */
  dprintfs?: Set<number>;
  /** The lines after a `commands` line up to its `end`, handed over by the front end with it. */
  body?: string[];
  /** The command lists of the breakpoints the last stop is at, for the interpreter to run next. */
  pendingActions?: string[];
  /** A breakpoint's list is running (its `continue` does not say `Continuing.`, as in gdb). */
  inBreakpointCommands?: boolean;
  /** Told the result of each command a breakpoint's list ran (for `--json`, which reports each). */
  actionDone?: (line: string, result: CommandResult) => void;
  /** `display` expressions, made on first use. */
  displays?: { list: Display[]; next: number };
  /** What `x` showed last: its format, and where a bare `x` (or Enter) goes on. */
  examine?: { count: number; format: string; size: number; next: bigint };
  /** What `list` showed last, at which stop: a bare `list` (or Enter) goes on from there. */
  listing?: { file: string; first: number; next: number; stop: unknown };
  /** The last source file a stop showed a line of, and whether it could not be found (gdb says so once in a row). */
  lastSource?: { file: string; missing: boolean };
  /** gdb's `set print pretty|elements|repeats`, applied wherever a command prints a value. */
  print?: FormatOptions;
  /** Set by `quit`/`detach`/`kill`: the front end ends its loop. */
  finished?: boolean;
}

/** The pc of the selected frame (gdb's `$pc`), undefined when there is no stopped frame. */
export async function selectedPc(ctx: CommandContext): Promise<bigint | undefined> {
  if (!ctx.session.stop || ctx.session.isRunning) return undefined;
  return (await ctx.session.inspector.frame(ctx.selected.thread, ctx.selected.level).catch(() => undefined))?.pc;
}

/** The selection a new front end starts with: the innermost frame of the thread the session stopped on. */
export function initialSelection(session: Session): FramePosition {
  const stop = session.stop;
  return { thread: stop && stop.kind !== 'exited' ? stop.thread : 1, level: stopLevel(stop) };
}

/** The frame a stop selects: a crash caught on its way selects the frame that faulted. */
export function stopLevel(stop: Session['stop']): number {
  return (stop?.kind === 'panic' && stop.panic?.frame) || 0;
}
