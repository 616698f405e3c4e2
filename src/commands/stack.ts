// Frames and threads: how a stop location is shown, thread, info threads.
import type { StopInfo } from '../engine/session.js';
import type { CommandContext } from './context.js';
import { CommandError } from './interpreter.js';
import { hex, hex64 } from './format.js';
import type { Out } from './table.js';

/** The `func (args) at file:line` line and the source line, as gdb prints after a stop. */
export async function announceFrame(ctx: CommandContext, stop: StopInfo, out: Out): Promise<unknown> {
  const pc = stop.pc!;
  const sym = ctx.session.hooks.symbolAt(pc);
  const name = sym?.name ?? '??';
  out(`${hex64(pc)} in ${name} ()\n`);
  return { pc: hex(pc), function: sym?.name };
}

export async function threadCommand(ctx: CommandContext, args: string, out: Out): Promise<unknown> {
  const s = ctx.session;
  const t = args.trim();
  const threads = await s.threads();
  if (t) {
    if (!/^\d+$/.test(t)) throw new CommandError(`bad thread id '${t}'`);
    const found = threads.find((x) => x.id === Number(t));
    if (!found) throw new CommandError(`unknown thread ${t} (${threads.map((x) => x.id).join(', ')} exist)`);
    s.selectedThread = found.id;
  }
  const cur = threads.find((x) => x.id === s.selectedThread);
  const pc = (await s.frameRegisters()).get('rip')!;
  out(`[Current thread is ${s.selectedThread} (${cur?.description ?? ''})]\n`);
  await announceFrame(ctx, { kind: 'step', thread: s.selectedThread, pc }, out);
  return { thread: s.selectedThread };
}

export async function infoThreads(ctx: CommandContext, _args: string, out: Out): Promise<unknown> {
  const s = ctx.session;
  const threads = await s.threads();
  out('  Id   Target Id                                   Frame\n');
  const rows = [];
  for (const t of threads) {
    const pc = (await s.target.readRegisters(t.id)).get('rip')!;
    const sym = s.hooks.symbolAt(pc);
    out(`${t.id === s.selectedThread ? '*' : ' '} ${String(t.id).padEnd(4)} Thread 1.${t.id} (${t.description})`.padEnd(50) + ` ${hex64(pc)} in ${sym?.name ?? '??'} ()\n`);
    rows.push({ id: t.id, description: t.description, pc: hex(pc), function: sym?.name, current: t.id === s.selectedThread });
  }
  return rows;
}
