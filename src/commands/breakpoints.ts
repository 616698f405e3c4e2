// break, tbreak, hbreak, watch, delete, enable/disable, condition, ignore, info breakpoints.
import type { Breakpoint } from '../engine/breakpoints.js';
import { parseLocation, formatLocation, type LocationSpec } from '../engine/location.js';
import type { WatchAccess } from '../targets/index.js';
import { typeName } from '../../symbols/index.js';
import { selectedPc, type CommandContext } from './context.js';
import { CommandError } from './interpreter.js';
import type { Out } from './table.js';
import { hex, hex64 } from './format.js';
import { guestThread, parseThreadRef, vcpuOf, type ThreadRef } from './threads.js';

/** Splits `LOCATION [thread N] [if COND]`. */
export function splitBreakArgs(args: string): { location: string; thread?: ThreadRef; condition?: string } {
  let rest = args.trim();
  let condition: string | undefined;
  const ifAt = /(^|\s)if(\s|\()/.exec(rest);
  if (ifAt) {
    condition = rest.slice(ifAt.index + ifAt[0].length - (ifAt[2] === '(' ? 1 : 0)).trim();
    rest = rest.slice(0, ifAt.index).trim();
    if (!condition) throw new CommandError("'if' needs a condition");
  }
  let thread: ThreadRef | undefined;
  const th = /(?:^|\s+)thread\s+(\S+)$/.exec(rest);
  if (th) {
    thread = parseThreadRef(th[1]!);
    rest = rest.slice(0, th.index).trim();
  }
  return { location: rest, ...(thread !== undefined && { thread }), ...(condition !== undefined && { condition }) };
}

export async function breakCommand(
  ctx: CommandContext,
  args: string,
  out: Out,
  opts: { temporary?: boolean; hardware?: boolean },
): Promise<unknown> {
  const { location, thread, condition } = splitBreakArgs(args);
  const s = ctx.session;
  let spec;
  if (location === '') {
    const pc = await selectedPc(ctx);
    if (pc === undefined) throw new CommandError('no default breakpoint location: the guest is not stopped');
    spec = { kind: 'address' as const, address: pc };
  } else spec = await locationSpec(ctx, location);
  const only =
    thread?.kind === 'vcpu'
      ? { thread: await vcpuOf(s, thread.id) }
      : thread
        ? { guestThread: { address: (await guestThread(s, thread.id)).address, id: thread.id } }
        : {};
  const b = await s.addBreakpoint(spec, { ...opts, ...only, ...(condition !== undefined && { condition }), pendingOk: false });
  out(`${describeBreakpoint(b)}\n`);
  return pointData(b);
}

/** dprintf LOCATION,"FORMAT",ARGS...: a breakpoint that prints and goes on (gdb's logpoint). */
export async function dprintfCommand(ctx: CommandContext, args: string, out: Out): Promise<unknown> {
  const comma = args.indexOf(',');
  const format = comma < 0 ? '' : args.slice(comma + 1).trim();
  if (!format) throw new CommandError('Format string required');
  if (!format.startsWith('"')) throw new CommandError('Bad format string');
  const b = await ctx.session.addBreakpoint(await locationSpec(ctx, args.slice(0, comma)), { pendingOk: false });
  ctx.breakCommands ??= new Map();
  ctx.breakCommands.set(b.id, [`printf ${format}`]);
  (ctx.dprintfs ??= new Set()).add(b.id);
  out(`${describeBreakpoint(b).replace(/^Breakpoint/, 'Dprintf')}\n`);
  return { ...(pointData(b) as object), dprintf: format };
}

export function describeBreakpoint(b: Breakpoint): string {
  const what = b.temporary ? 'Temporary breakpoint' : b.hardware ? 'Hardware assisted breakpoint' : 'Breakpoint';
  if (b.locations.length === 0) return `${what} ${b.id} (${formatLocation(b.spec)}) pending.`;
  if (b.locations.length > 1)
    return `${what} ${b.id} at ${hex(b.locations[0]!.address)}: ${formatLocation(b.spec)}. (${b.locations.length} locations)`;
  const l = b.locations[0]!;
  return `${what} ${b.id} at ${hex(l.address)}${l.file ? `: file ${l.file}, line ${l.line}` : ''}.`;
}

/**
 * watch|rwatch|awatch [-l|-location] EXPR [if COND]. The debug register watches EXPR's address
 * either way; -location (gdb's) also reads the value there as EXPR's type, whatever the frame.
 */
export async function watchCommand(ctx: CommandContext, args: string, out: Out, access: WatchAccess): Promise<unknown> {
  const split = splitBreakArgs(args);
  const located = /^-l(?:ocation)?\s+/.exec(split.location);
  const expression = located ? split.location.slice(located[0].length).trim() : split.location;
  if (!expression) throw new CommandError('watch needs an expression');
  const lvalue = await ctx.session.watchTarget(expression, ctx.selected);
  const typed = located ? `{${typeName((await ctx.session.value(expression, ctx.selected)).type)}} ${hex(lvalue.address)}` : expression;
  const shown = located ? `-location ${expression}` : expression;
  const w = await ctx.session.addWatchpoint({
    expression: typed,
    address: lvalue.address,
    length: lvalue.size,
    access,
    ...(split.condition !== undefined && { condition: split.condition }),
    ...(located && { label: shown }),
  });
  const label =
    access === 'write' ? 'Hardware watchpoint' : access === 'read' ? 'Hardware read watchpoint' : 'Hardware access (read/write) watchpoint';
  out(`${label} ${w.id}: ${shown}\n`);
  return { id: w.id, expression: shown, address: hex(w.address), length: w.length, access };
}

function ids(ctx: CommandContext, args: string): number[] {
  const words = args.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return ctx.session.breakpoints().map((p) => p.id);
  return words.map((w) => {
    if (!/^\d+$/.test(w)) throw new CommandError(`bad breakpoint number '${w}'`);
    return Number(w);
  });
}

export async function deleteCommand(ctx: CommandContext, args: string): Promise<unknown> {
  const list = ids(ctx, args);
  for (const id of list) await ctx.session.deletePoint(id);
  return { deleted: list };
}

export async function enableCommand(ctx: CommandContext, args: string, enabled: boolean): Promise<unknown> {
  const list = ids(ctx, args);
  for (const id of list) await ctx.session.setEnabled(id, enabled);
  return { [enabled ? 'enabled' : 'disabled']: list };
}

export function conditionCommand(ctx: CommandContext, args: string, out: Out): unknown {
  const m = /^\s*(\d+)\s*(.*)$/s.exec(args);
  if (!m) throw new CommandError('usage: condition N [EXPR]');
  const p = ctx.session.point(Number(m[1]));
  const cond = m[2]!.trim();
  if (cond) p.condition = cond;
  else {
    delete p.condition;
    out(`Breakpoint ${p.id} now unconditional.\n`);
  }
  return { id: p.id, condition: cond || null };
}

export function ignoreCommand(ctx: CommandContext, args: string, out: Out): unknown {
  const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(args);
  if (!m) throw new CommandError('usage: ignore N COUNT');
  const p = ctx.session.point(Number(m[1]));
  if (p.type !== 'breakpoint') throw new CommandError(`${p.id} is a watchpoint; ignore counts apply to breakpoints`);
  p.ignoreCount = Number(m[2]);
  out(`Will ignore next ${p.ignoreCount} crossings of breakpoint ${p.id}.\n`);
  return { id: p.id, ignoreCount: p.ignoreCount };
}

function pointData(p: ReturnType<CommandContext['session']['breakpoints']>[number]): unknown {
  if (p.type === 'watchpoint')
    return {
      id: p.id,
      type: 'watchpoint',
      expression: p.label ?? p.expression,
      access: p.access,
      address: hex(p.address),
      length: p.length,
      enabled: p.enabled,
      hits: p.hits,
    };
  return {
    id: p.id,
    type: 'breakpoint',
    location: formatLocation(p.spec),
    addresses: p.locations.map((l) => hex(l.address)),
    enabled: p.enabled,
    temporary: p.temporary,
    hardware: p.hardware,
    hits: p.hits,
    ...(p.condition && { condition: p.condition }),
    ...(p.thread !== undefined && { thread: p.thread }),
    ...(p.guestThread && { thread: `2.${p.guestThread.id}` }),
  };
}

/** The breakpoint set last (what `commands` without a number is for, as in gdb); 0 when none. */
export function lastBreakpoint(session: CommandContext['session']): number {
  return Math.max(0, ...session.breakpoints().map((p) => p.id));
}

/** commands [N...]: the lines up to `end` (given with it in ctx.body) run at each stop at breakpoint N. */
export function commandsCommand(ctx: CommandContext, args: string): unknown {
  const body = ctx.body;
  ctx.body = undefined;
  if (!body) throw new CommandError('commands needs its lines, up to a line saying just "end"');
  const points = ctx.session.breakpoints();
  const words = args.trim().split(/\s+/).filter(Boolean);
  const ids = words.length ? words.map((w) => (/^\d+$/.test(w) ? Number(w) : NaN)) : [lastBreakpoint(ctx.session)];
  for (const id of ids) {
    if (!Number.isFinite(id) || id < 1)
      throw new CommandError(words.length ? `bad breakpoint number: '${args.trim()}'` : 'No breakpoints specified.');
    if (!points.some((p) => p.id === id)) throw new CommandError(`No breakpoint number ${id}.`);
  }
  ctx.breakCommands ??= new Map();
  for (const id of ids) {
    if (body.length) ctx.breakCommands.set(id, body);
    else ctx.breakCommands.delete(id);
  }
  return { breakpoints: ids, commands: body };
}

export function infoBreakpoints(ctx: CommandContext, _args: string, out: Out): unknown {
  const points = ctx.session.breakpoints();
  if (points.length === 0) {
    out('No breakpoints or watchpoints.\n');
    return [];
  }
  // gdb's columns: Num 8, Type 15, Disp 5, Enb 4, Address 19 (16 hex digits), What.
  out('Num     Type           Disp Enb Address            What\n');
  for (const p of points) {
    const enb = (p.enabled ? 'y' : 'n').padEnd(4);
    if (p.type === 'watchpoint') {
      const type = p.access === 'write' ? 'hw watchpoint' : p.access === 'read' ? 'read watchpoint' : 'acc watchpoint';
      out(`${String(p.id).padEnd(8)}${type.padEnd(15)}keep ${enb}${' '.repeat(19)}${p.label ?? p.expression}\n`);
      for (const c of ctx.breakCommands?.get(p.id) ?? []) out(`        ${c}\n`);
    } else {
      const type = ctx.dprintfs?.has(p.id) ? 'dprintf' : p.hardware ? 'hw breakpoint' : 'breakpoint';
      const disp = p.temporary ? 'del ' : 'keep';
      const addr = p.locations.length === 1 ? hex64(p.locations[0]!.address) : p.locations.length ? '<MULTIPLE>' : '<PENDING>';
      const what =
        p.locations.length > 1
          ? ''
          : p.locations.length === 1 && p.locations[0]!.function
            ? whereText(p.locations[0]!)
            : formatLocation(p.spec);
      out(`${String(p.id).padEnd(8)}${type.padEnd(15)}${disp} ${enb}${addr.padEnd(18)} ${what}\n`);
      if (p.condition) out(`\tstop only if ${p.condition}\n`);
      if (p.thread !== undefined || p.guestThread) out(`\tstop only in thread ${p.guestThread ? `2.${p.guestThread.id}` : p.thread}\n`);
      if (p.hits) out(`\tbreakpoint already hit ${p.hits} time${p.hits === 1 ? '' : 's'}\n`);
      if (p.ignoreCount) out(`\tWill ignore next ${p.ignoreCount} crossings of breakpoint.\n`);
      for (const c of ctx.breakCommands?.get(p.id) ?? []) out(`        ${c}\n`);
      if (p.locations.length > 1)
        p.locations.forEach((l, i) => out(`${`${p.id}.${i + 1}`.padEnd(28)}${enb}${hex64(l.address)} ${whereText(l)}\n`));
    }
  }
  return points.map(pointData);
}

function whereText(l: { function?: string; file?: string; line?: number }): string {
  if (!l.function) return '';
  return `in ${l.function}${l.file ? ` at ${l.file}:${l.line}` : ''}`;
}

/** A location as the user wrote it; a bare LINE is in the selected frame's source file, as in gdb. */
export async function locationSpec(ctx: CommandContext, text: string): Promise<LocationSpec> {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return parseLocation(t);
  const s = ctx.session;
  const frame = await s.inspector.frame(ctx.selected.thread, ctx.selected.level).catch(() => undefined);
  if (!frame?.file) throw new CommandError(`no default source file for line ${t}: use FILE:${t}`);
  return parseLocation(`${frame.file}:${t}`);
}
