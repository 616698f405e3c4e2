// display, undisplay, info display: expressions shown at every stop, as gdb shows them. A display
// that names a frame's locals is shown only in frames that see those same variables (gdb's
// innermost block), so `display w->steps` made in worker_step stays quiet inside fib.
import type { CommandContext } from './context.js';
import { examineCommand, parseExamineFormat } from './data.js';
import { errorLine } from '../engine/errors.js';
import { CommandError } from './interpreter.js';
import type { Out } from './table.js';
import { formatValue, type PrintFormat } from '../engine/values.js';

export interface Display {
  id: number;
  expression: string;
  /** A print/FMT letter (print style), or `i` or `s` (examine style, with a count). */
  format?: PrintFormat | 'i';
  count: number;
  /** DIE offsets of the locals the expression names where it was made. */
  locals: number[];
}

/** The context's displays, numbered from 1 for the whole session as gdb numbers them. */
function displays(ctx: CommandContext): { list: Display[]; next: number } {
  ctx.displays ??= { list: [], next: 1 };
  return ctx.displays;
}

export async function displayCommand(ctx: CommandContext, args: string, out: Out): Promise<unknown> {
  let rest = args.trim();
  if (!rest) return showDisplays(ctx, out);
  let format: Display['format'];
  let count = 1;
  if (rest.startsWith('/')) {
    const m = /^\/(\d*)([a-z]*)\s*/.exec(rest)!;
    const f = m[2]!;
    if (f === 'i' || f === 's') {
      count = parseExamineFormat(`/${m[1]}${f}`).count;
      format = f;
    } else if (f.length === 1 && 'xzotducaf'.includes(f) && !m[1]) format = f as PrintFormat;
    else throw new CommandError(`display takes /FMT (x z o t d u c a f) or /Ni, /Ns, got '/${m[1]}${f}'`);
    rest = rest.slice(m[0].length);
  }
  if (!rest) throw new CommandError('display needs an expression');
  const s = ctx.session;
  // As gdb: an expression that does not parse or names nothing known is refused; one that cannot
  // be read now (a wild pointer) is kept, and shows its error at each stop.
  const locals = s.stop ? await s.inspector.localsOf(rest, ctx.selected.thread, ctx.selected.level) : [];
  if (s.stop) {
    const problem = await s.value(rest, ctx.selected).then(
      () => undefined,
      (e: Error) => e,
    );
    if (problem && /^No symbol /.test(problem.message)) throw problem;
  }
  const state = displays(ctx);
  const d: Display = { id: state.next++, expression: rest, ...(format && { format }), count, locals };
  state.list.push(d);
  if (ctx.fromTty) await showOne(ctx, d, out);
  return { display: d.id };
}

export function undisplayCommand(ctx: CommandContext, args: string, out: Out): unknown {
  const state = displays(ctx);
  const words = args.trim().split(/\s+/).filter(Boolean);
  if (!words.length) {
    state.list = [];
    return { deleted: 'all' };
  }
  const ids: number[] = [];
  for (const w of words) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(w);
    if (!m) throw new CommandError('Arguments must be display numbers.');
    for (let n = Number(m[1]); n <= Number(m[2] ?? m[1]); n++) ids.push(n);
  }
  for (const id of ids) {
    if (!state.list.some((d) => d.id === id)) out(`No display number ${id}.\n`);
    state.list = state.list.filter((d) => d.id !== id);
  }
  return { deleted: ids };
}

export async function infoDisplay(ctx: CommandContext, _args: string, out: Out): Promise<unknown> {
  const { list } = displays(ctx);
  if (!list.length) {
    out('There are no auto-display expressions now.\n');
    return [];
  }
  out('Auto-display expressions now in effect:\nNum Enb Expression\n');
  const s = ctx.session;
  for (const d of list) {
    // gdb gives examine-style displays the byte size: `/1bi`.
    const fmt = d.format === 'i' || d.format === 's' ? `/${d.count}b${d.format} ` : d.format ? `/${d.format} ` : '';
    const seen = !s.stop || (await s.inspector.sees(d.locals, ctx.selected.thread, ctx.selected.level));
    out(`${d.id}:   y  ${fmt}${d.expression}${seen ? '' : ' (cannot be evaluated in the current context)'}\n`);
  }
  return list.map((d) => ({ id: d.id, expression: d.expression, format: d.format }));
}

/** Every display the selected frame can show, in number order: at each stop and for a bare `display`. */
export async function showDisplays(ctx: CommandContext, out: Out): Promise<unknown> {
  const shown: number[] = [];
  for (const d of ctx.displays?.list ?? []) if (await showOne(ctx, d, out)) shown.push(d.id);
  return { shown };
}

async function showOne(ctx: CommandContext, d: Display, out: Out): Promise<boolean> {
  const s = ctx.session;
  if (!s.stop || !(await s.inspector.sees(d.locals, ctx.selected.thread, ctx.selected.level).catch(() => false))) return false;
  if (d.format === 'i' || d.format === 's') {
    const many = d.count !== 1 || d.format === 'i';
    out(`${d.id}: x/${d.count !== 1 ? d.count : ''}${d.format} ${d.expression}${many ? '\n' : '  '}`);
    try {
      let text = '';
      await examineCommand(ctx, `/${d.count}${d.format} ${d.expression}`, (t) => (text += t));
      out(text);
    } catch (e) {
      out(`<error: ${errorLine(e)}>\n`);
    }
    return true;
  }
  out(`${d.id}: ${d.format ? `/${d.format} ` : ''}${d.expression} = `);
  try {
    const v = await s.value(d.expression, ctx.selected);
    out(`${await formatValue(s.inspector.readerFor(ctx.selected.thread), v, { ...ctx.print, ...(d.format && { format: d.format }) })}\n`);
  } catch (e) {
    out(`<error: ${errorLine(e)}>\n`);
  }
  return true;
}
