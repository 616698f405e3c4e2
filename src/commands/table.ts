// The command table: gdb's names and abbreviations for what duster does.
import type { CommandContext } from './context.js';
import * as bp from './breakpoints.js';
import * as data from './data.js';
import * as display from './display.js';
import * as printf from './printf.js';
import * as run from './running.js';
import * as sources from './sources.js';
import * as stack from './stack.js';
import * as threads from './threads.js';

export type Out = (text: string) => void;

export interface CommandSpec {
  name: string;
  aliases?: string[];
  help: string;
  run(ctx: CommandContext, args: string, out: Out): Promise<unknown> | unknown;
}

export const COMMANDS: CommandSpec[] = [
  {
    name: 'break',
    aliases: ['b', 'br'],
    help: 'break LOCATION [thread N] [if COND]: stop at FILE:LINE, FUNCTION, FILE:FUNCTION or *ADDRESS',
    run: (c, a, o) => bp.breakCommand(c, a, o, {}),
  },
  {
    name: 'tbreak',
    help: 'tbreak LOCATION: a breakpoint deleted after its first stop',
    run: (c, a, o) => bp.breakCommand(c, a, o, { temporary: true }),
  },
  {
    name: 'hbreak',
    help: 'hbreak LOCATION: a hardware breakpoint (debug register)',
    run: (c, a, o) => bp.breakCommand(c, a, o, { hardware: true }),
  },
  { name: 'watch', help: 'watch EXPR: stop when EXPR is written', run: (c, a, o) => bp.watchCommand(c, a, o, 'write') },
  { name: 'rwatch', help: 'rwatch EXPR: stop when EXPR is read', run: (c, a, o) => bp.watchCommand(c, a, o, 'read') },
  { name: 'awatch', help: 'awatch EXPR: stop when EXPR is read or written', run: (c, a, o) => bp.watchCommand(c, a, o, 'access') },
  { name: 'delete', aliases: ['d'], help: 'delete [N...]: delete breakpoints (all without arguments)', run: bp.deleteCommand },
  { name: 'disable', aliases: ['dis', 'disa'], help: 'disable [N...]: disable breakpoints', run: (c, a) => bp.enableCommand(c, a, false) },
  { name: 'enable', help: 'enable [N...]: enable breakpoints', run: (c, a) => bp.enableCommand(c, a, true) },
  {
    name: 'condition',
    help: 'condition N [EXPR]: stop at breakpoint N only when EXPR is true (no EXPR: always)',
    run: bp.conditionCommand,
  },
  { name: 'dprintf', help: 'dprintf LOCATION,"FORMAT",ARGS...: at each hit print as printf does, and go on', run: bp.dprintfCommand },
  {
    name: 'commands',
    help: 'commands [N...]: the lines up to "end" run at each stop at breakpoint N (the last one set without N); "silent" first: no stop announcement',
    run: bp.commandsCommand,
  },
  { name: 'ignore', help: 'ignore N COUNT: pass breakpoint N COUNT times before stopping', run: bp.ignoreCommand },
  {
    name: 'continue',
    aliases: ['c', 'cont'],
    help: 'continue [N]: resume all vCPUs (N: ignore the current breakpoint N-1 more times)',
    run: run.continueCommand,
  },
  { name: 'stepi', aliases: ['si'], help: 'stepi [N]: one machine instruction', run: (c, a, o) => run.stepiCommand(c, a, o, false) },
  {
    name: 'nexti',
    aliases: ['ni'],
    help: 'nexti [N]: one instruction, running calls to their return',
    run: (c, a, o) => run.stepiCommand(c, a, o, true),
  },
  {
    name: 'next',
    aliases: ['n'],
    help: 'next [N]: the next source line, running over calls',
    run: (c, a, o) => run.stepLineCommand(c, a, o, 'over'),
  },
  {
    name: 'step',
    aliases: ['s'],
    help: 'step [N]: the next source line, entering calls that have line info',
    run: (c, a, o) => run.stepLineCommand(c, a, o, 'into'),
  },
  {
    name: 'until',
    aliases: ['u'],
    help: 'until [LOCATION]: next, without stopping at jumps back (loops); or run to LOCATION in this frame or until it returns',
    run: (c, a, o) => run.untilCommand(c, a, o, false),
  },
  {
    name: 'advance',
    help: 'advance LOCATION: run to LOCATION in any frame, or until the current frame returns',
    run: (c, a, o) => run.untilCommand(c, a, o, true),
  },
  { name: 'finish', aliases: ['fin'], help: 'finish: run until the selected frame returns and show its value', run: run.finishCommand },
  {
    name: 'backtrace',
    aliases: ['bt', 'where'],
    help: 'backtrace [N] [full]: the call stack of the current thread',
    run: stack.backtraceCommand,
  },
  { name: 'frame', aliases: ['f'], help: 'frame [N]: show or select a frame', run: (c, a, o) => stack.frameCommand(c, a, o) },
  { name: 'up', help: 'up [N]: select an outer frame', run: (c, a, o) => stack.frameCommand(c, a, o, 'up') },
  { name: 'down', help: 'down [N]: select an inner frame', run: (c, a, o) => stack.frameCommand(c, a, o, 'down') },
  {
    name: 'print',
    aliases: ['p', 'inspect'],
    help: 'print[/FMT] [EXPR]: evaluate a C expression (FMT: x z o t d u c a f s)',
    run: data.printCommand,
  },
  {
    name: 'display',
    help: 'display[/FMT|/Ni|/Ns] [EXPR]: show EXPR at every stop (no EXPR: show them all now)',
    run: display.displayCommand,
  },
  { name: 'undisplay', help: 'undisplay [N...]: stop showing displays (all without arguments)', run: display.undisplayCommand },
  {
    name: 'output',
    help: 'output[/FMT] EXPR: the value as print shows it, without a history number or newline',
    run: printf.outputCommand,
  },
  {
    name: 'printf',
    help: 'printf "FORMAT", ARGS...: C printf (%d %u %x %o %c %s %p %f %g %e with flags, width, precision, l/ll/z)',
    run: printf.printfCommand,
  },
  { name: 'echo', help: 'echo TEXT: print TEXT (C escapes: \\n, \\t, \\033, ...)', run: printf.echoCommand },
  {
    name: 'set',
    help: 'set var EXPR = VALUE: assign to a variable, register or memory; set substitute-path FROM TO: find sources recorded under FROM in TO',
    run: data.setCommand,
  },
  {
    name: 'show',
    help: 'show convenience: the convenience variables set with set $NAME = VALUE (and $_, $__, $bpnum)',
    run: data.showCommand,
  },
  { name: 'ptype', help: 'ptype EXPR|TYPE: the full type', run: (c, a, o) => data.ptypeCommand(c, a, o, false) },
  { name: 'whatis', help: 'whatis EXPR|TYPE: the type name', run: (c, a, o) => data.ptypeCommand(c, a, o, true) },
  {
    name: 'directory',
    aliases: ['dir'],
    help: 'directory DIR...: look for source files in DIR too (see also set substitute-path FROM TO)',
    run: data.directoryCommand,
  },
  { name: 'list', aliases: ['l'], help: 'list [LOCATION]: source lines around a location or the current line', run: data.listCommand },
  { name: 'interrupt', help: 'interrupt: stop a running guest', run: run.interruptCommand },
  {
    name: 'thread',
    help: 'thread [N|1.N|2.ID]: show or select a vCPU (N, 1.N) or a unikernel thread (2.ID: its vCPU when running, else its saved context)',
    run: threads.threadCommand,
  },
  {
    name: 'info',
    aliases: ['i'],
    help: 'info breakpoints|registers [REG|GROUP...]|all-registers|float|vector|threads|frame|line|source|sources|...: show state',
    run: infoCommand,
  },
  { name: 'x', help: 'x/NFU ADDRESS: examine memory (F: x d u o t c a i s; U: b h w g)', run: data.examineCommand },
  {
    name: 'disassemble',
    aliases: ['disas'],
    help: 'disassemble [/r] [START[,END|,+LENGTH]]: machine code around the PC or in a range',
    run: data.disassembleCommand,
  },
  { name: 'dump', help: 'dump FILE: write a crash dump of the guest (QEMU ELF core) for duster core', run: run.dumpCommand },
  { name: 'detach', help: 'detach: remove every breakpoint and leave the guest running', run: run.detachCommand },
  { name: 'kill', aliases: ['k'], help: 'kill: stop the guest QEMU duster started', run: run.killCommand },
  { name: 'quit', aliases: ['q', 'exit'], help: 'quit: detach (or kill a guest duster started) and exit', run: run.quitCommand },
  { name: 'help', aliases: ['h'], help: 'help [COMMAND]: list commands or describe one', run: helpCommand },
];

const INFO: Record<string, (c: CommandContext, args: string, out: Out) => unknown> = {
  breakpoints: bp.infoBreakpoints,
  watchpoints: bp.infoBreakpoints,
  registers: data.infoRegisters,
  'all-registers': (c, a, o) => data.infoRegisters(c, a, o, true),
  float: data.infoFloat,
  vector: data.infoVector,
  threads: threads.infoThreads,
  locals: (c, _a, o) => stack.infoVariables(c, o, 'local'),
  args: (c, _a, o) => stack.infoVariables(c, o, 'arg'),
  frame: stack.infoFrame,
  line: stack.infoLine,
  source: sources.infoSource,
  sources: sources.infoSources,
  symbol: stack.infoSymbol,
  display: display.infoDisplay,
  functions: (c, a, o) => stack.infoSymbols(c, a, o, 'functions'),
  variables: (c, a, o) => stack.infoSymbols(c, a, o, 'variables'),
};

function infoCommand(ctx: CommandContext, args: string, out: Out): unknown {
  const [sub = '', ...rest] = args.trim().split(/\s+/);
  const names = Object.keys(INFO).filter((n) => n.startsWith(sub) && sub !== '');
  // gdb's own abbreviation wins where prefixes collide: `info f` is info frame.
  const name = names.includes(sub) ? sub : sub === 'f' ? 'frame' : names.length === 1 ? names[0] : undefined;
  if (!name) throw new Error(`info: want one of ${Object.keys(INFO).join(', ')}${sub ? ` (got '${sub}')` : ''}`);
  return INFO[name]!(ctx, rest.join(' '), out);
}

function helpCommand(_ctx: CommandContext, args: string, out: Out): void {
  const name = args.trim();
  if (name) {
    const spec = COMMANDS.find((c) => c.name === name || c.aliases?.includes(name));
    if (!spec) throw new Error(`no command '${name}'`);
    out(`${spec.help}${spec.aliases ? `\nAliases: ${spec.aliases.join(', ')}` : ''}\n`);
    return;
  }
  for (const c of COMMANDS) out(`  ${c.help}\n`);
}
