// continue, stepi, nexti, interrupt, detach, kill, quit, and how a stop is announced.
import path from 'node:path';
import type { StopEvent } from '../engine/stop-event.js';
import type { CommandContext } from './context.js';
import { CommandError } from './interpreter.js';
import { hex } from './format.js';
import { locationSpec } from './breakpoints.js';
import { showDisplays } from './display.js';
import { announceFrame, frameLine } from './stack.js';
import { formatValue } from '../engine/values.js';
import type { Out } from './table.js';

function count(args: string): number {
  const t = args.trim();
  if (!t) return 1;
  if (!/^\d+$/.test(t) || Number(t) < 1) throw new CommandError(`bad count '${t}'`);
  return Number(t);
}

export async function continueCommand(ctx: CommandContext, args: string, out: Out): Promise<unknown> {
  const s = ctx.session;
  const n = count(args);
  if (n > 1) {
    const bp = s.stop?.kind === 'breakpoint' ? s.stop.breakpoints[0] : undefined;
    if (!bp) throw new CommandError('not stopped at a breakpoint; continue takes no count here');
    bp.ignoreCount = n - 1;
    out(`Will ignore next ${n - 1} crossings of breakpoint ${bp.id}.  Continuing.\n`);
  } else if (!ctx.inBreakpointCommands) out('Continuing.\n');
  return report(ctx, await s.continue(), out);
}

export async function stepiCommand(ctx: CommandContext, args: string, out: Out, over: boolean): Promise<unknown> {
  // gdb tells a changed frame by the frame the last instruction was stepped from.
  const n = count(args);
  if (n > 1) {
    const stop = await ctx.session.stepInstructions(ctx.selected.thread, n - 1, over);
    if (stop.kind !== 'step') return report(ctx, stop, out);
  }
  const before = await whereNow(ctx);
  return report(ctx, await ctx.session.stepInstructions(ctx.selected.thread, 1, over), out, before);
}

export async function stepLineCommand(ctx: CommandContext, args: string, out: Out, kind: 'into' | 'over'): Promise<unknown> {
  const before = await whereNow(ctx);
  let stop: StopEvent | undefined;
  for (let i = count(args); i > 0; i--) {
    stop = await ctx.session.stepLine(kind, ctx.selected);
    if (stop.kind !== 'step') break;
  }
  return report(ctx, stop!, out, before);
}

/** `until` (a `next` that does not go back to an earlier line) or `until LOCATION` / `advance LOCATION`. */
export async function untilCommand(ctx: CommandContext, args: string, out: Out, anywhere: boolean): Promise<unknown> {
  const where = args.trim();
  if (!where && anywhere) throw new CommandError('usage: advance LOCATION');
  // Reaching a location is announced with its frame, as a breakpoint is; the plain `until` is a step.
  if (where) return report(ctx, await ctx.session.runUntil(await locationSpec(ctx, where), anywhere, ctx.selected), out);
  const before = await whereNow(ctx);
  return report(ctx, await ctx.session.stepUntil(ctx.selected), out, before);
}

/** The selected frame's function and CFA: a step that ends in the same frame prints only the line. */
async function whereNow(ctx: CommandContext): Promise<{ function?: string; cfa?: bigint } | undefined> {
  const f = await ctx.session.inspector.frame(ctx.selected.thread, ctx.selected.level).catch(() => undefined);
  return f && { ...(f.function !== undefined && { function: f.function }), ...(f.cfa !== undefined && { cfa: f.cfa }) };
}

export async function finishCommand(ctx: CommandContext, _args: string, out: Out): Promise<unknown> {
  const s = ctx.session;
  const { frames } = await s.backtrace(ctx.selected.thread);
  const from = frames[ctx.selected.level];
  if (from) out(`Run till exit from #${from.level}  ${await frameLine(s, ctx.selected.thread, frames, from)}\n`);
  const stop = await s.finish(ctx.selected);
  const data = (await report(ctx, stop, out)) as Record<string, unknown>;
  if (stop.kind === 'step' && stop.returned) {
    const text = await formatValue(s.inspector.reader, stop.returned.value, ctx.print);
    out(`Value returned is $${await s.inspector.record(stop.returned.value)} = ${text}\n`);
    data.returned = text;
  }
  return data;
}

export async function interruptCommand(ctx: CommandContext): Promise<unknown> {
  if (!ctx.session.isRunning) throw new CommandError('the guest is not running');
  await ctx.session.interrupt();
  return {};
}

export async function detachCommand(ctx: CommandContext, _args: string, out: Out): Promise<unknown> {
  await ctx.session.detach();
  out('Detached; the guest keeps running.\n');
  ctx.finished = true;
  return { detached: true };
}

export async function killCommand(ctx: CommandContext, _args: string, out: Out): Promise<unknown> {
  if (!ctx.kill) throw new CommandError('duster did not start this guest; use detach');
  await ctx.kill();
  out('[guest killed]\n');
  ctx.finished = true;
  return { killed: true };
}

export async function quitCommand(ctx: CommandContext): Promise<unknown> {
  if (ctx.session.isAlive) {
    if (ctx.kill) await ctx.kill();
    else await ctx.session.detach();
  }
  ctx.finished = true;
  return { quit: true };
}

/** Prints a stop the way gdb announces it and returns its data. */
export async function report(
  ctx: CommandContext,
  stop: StopEvent,
  shown: Out,
  before?: { function?: string; cfa?: bigint },
): Promise<unknown> {
  const s = ctx.session;
  // The command lists of the breakpoints hit run after this (the interpreter runs them); a list
  // that starts with `silent` keeps the stop quiet, displays included.
  const hit = stop.kind === 'breakpoint' ? stop.breakpoints.map((b) => b.id) : stop.kind === 'watchpoint' ? [stop.watch.point.id] : [];
  const lists = hit.flatMap((id) => ctx.breakCommands?.get(id) ?? []);
  // Only dprintfs hit: print and go on, as if their lists were `silent`, printf, `continue`.
  const printOnly = hit.length > 0 && hit.every((id) => ctx.dprintfs?.has(id));
  const silent = printOnly || hit.some((id) => ctx.breakCommands?.get(id)?.[0]?.trim() === 'silent');
  const actions = [...lists.filter((l) => l.trim() !== 'silent'), ...(printOnly ? ['continue'] : [])];
  if (actions.length) ctx.pendingActions = actions;
  const out: Out = silent ? () => {} : shown;
  const multi = (await s.threadIds(2).catch(() => [])).length > 1;
  if (stop.kind === 'exited') {
    out(`[Guest exited with code ${stop.exitCode}]\n`);
    return { reason: stop.kind, exitCode: stop.exitCode };
  }
  const data: Record<string, unknown> = { reason: stop.kind, thread: stop.thread };
  switch (stop.kind) {
    case 'breakpoint': {
      const b = stop.breakpoints[0]!;
      // A breakpoint of several locations names the one hit, as gdb does (`Breakpoint 2.3,`).
      const location = b.locations.length > 1 ? b.locations.findIndex((l) => l.address === stop.pc) : -1;
      out(
        `\n${multi ? `Thread ${stop.thread} hit ` : ''}${b.temporary ? 'Temporary breakpoint' : 'Breakpoint'} ${b.id}${location >= 0 ? `.${location + 1}` : ''}, `,
      );
      data.breakpoints = stop.breakpoints.map((x) => x.id);
      break;
    }
    case 'watchpoint': {
      const w = stop.watch;
      out(
        `\n${multi ? `Thread ${stop.thread} hit ` : ''}${w.point.access === 'write' ? 'Hardware watchpoint' : w.point.access === 'read' ? 'Hardware read watchpoint' : 'Hardware access (read/write) watchpoint'} ${w.point.id}: ${w.point.label ?? w.point.expression}\n\n`,
      );
      const oldText = w.old ? await s.formatWatchValue(w.point, w.old, stop.thread) : undefined;
      const newText = await s.formatWatchValue(w.point, w.value, stop.thread);
      // gdb: a write shows old and new; an access shows them only when the value changed.
      const changed = w.old !== undefined && Buffer.compare(Buffer.from(w.old), Buffer.from(w.value)) !== 0;
      if (oldText !== undefined && (w.point.access === 'write' || (w.point.access === 'access' && changed)))
        out(`Old value = ${oldText}\nNew value = ${newText}\n`);
      else out(`Value = ${newText}\n`);
      data.watchpoint = w.point.id;
      data.old = oldText;
      data.new = newText;
      break;
    }
    case 'interrupt':
      out(`\n${multi ? `Thread ${stop.thread} received` : 'Program received'} signal SIGINT, Interrupt.\n`);
      break;
    case 'signal':
      out(`\n${multi ? `Thread ${stop.thread} received` : 'Program received'} signal ${signalText(stop.signal)}.\n`);
      data.signal = stop.signal;
      break;
    case 'panic': {
      const p = stop.panic;
      out(
        p?.caughtAt
          ? `\nGuest crashed: stopped at ${p.caughtAt} on its way out (all vCPUs stopped).\n`
          : `\nGuest panicked (pvpanic): all vCPUs stopped.\n`,
      );
      if (p) out(`Panic on cpu ${p.cpu}: ${p.message ?? `vector ${p.reason}`}\n`);
      if (p?.instruction) out(`Faulting instruction: ${hex(p.pc)}: ${p.instruction}\n`);
      data.panic = p
        ? {
            cpu: p.cpu,
            pc: hex(p.pc),
            ...(p.message && { message: p.message }),
            ...(p.caughtAt && { caughtAt: p.caughtAt, frame: p.frame }),
          }
        : true;
      break;
    }
    default:
      break;
  }
  data.pc = hex(stop.pc);
  data.frame = await announceFrame(ctx, stop, out, stop.kind === 'step' ? before : undefined);
  await showDisplays(ctx, out);
  return data;
}

export async function dumpCommand(ctx: CommandContext, args: string, out: Out): Promise<unknown> {
  const file = args.trim();
  if (!file) throw new CommandError('usage: dump FILE');
  if (!ctx.qemu) throw new CommandError('dump needs a guest duster started (duster run); QEMU writes the dump');
  if (ctx.session.isRunning) throw new CommandError('interrupt the guest before dumping it');
  const abs = path.resolve(file);
  await ctx.qemu.dumpGuestMemory(abs);
  out(`Wrote ${abs}; open it with: duster core ${abs} --symbols ELF\n`);
  return { file: abs };
}

function signalText(n: number): string {
  return { 5: 'SIGTRAP, Trace/breakpoint trap', 2: 'SIGINT, Interrupt', 11: 'SIGSEGV, Segmentation fault' }[n] ?? `${n}`;
}
