// Threads as gdb numbers them with two inferiors: inferior 1 is the machine, whose threads are the
// vCPUs (`N` or `1.N`, as gdb shows QEMU's), inferior 2 the unikernel, whose threads are `2.ID`
// by the unikernel's own ids. thread, info threads, and the `thread N` of break.
import type { Session } from '../engine/session.js';
import type { FrameContext } from '../engine/stack.js';
import { guestThreadTitle, type GuestThread } from '../engine/guest-os.js';
import { cpuLabel } from '../targets/target.js';
import type { CommandContext } from './context.js';
import { hex } from './format.js';
import { CommandError, runLine } from './interpreter.js';
import { frameData, frameLine, printFrame } from './stack.js';
import type { Out } from './table.js';

export type ThreadRef = { kind: 'vcpu'; id: number } | { kind: 'guest'; id: number };

export function parseThreadRef(text: string): ThreadRef {
  const m = /^(?:([12])\.)?(\d+)$/.exec(text.trim());
  if (!m) throw new CommandError(`bad thread id '${text.trim()}': vCPUs are N or 1.N, unikernel threads 2.ID`);
  return { kind: m[1] === '2' ? 'guest' : 'vcpu', id: Number(m[2]) };
}

export function guestLabel(t: GuestThread): string {
  return `2.${t.id} "${guestThreadTitle(t)}"`;
}

function guestModel(s: Session) {
  if (!s.guest) throw new CommandError('no unikernel thread model is known for this image: threads are vCPUs (1.N)');
  return s.guest;
}

/** The vCPU a `thread N` names, or a one-line error listing the ones there are. */
export async function vcpuOf(s: Session, id: number): Promise<number> {
  const ids = await s.threadIds();
  if (!ids.includes(id)) throw new CommandError(`Invalid thread ID: ${id} (vCPUs ${ids.join(', ')} exist)`);
  return id;
}

export async function guestThread(s: Session, id: number): Promise<GuestThread> {
  return guestModel(s)
    .find(id)
    .catch((e: Error) => {
      throw new CommandError(e.message);
    });
}

export async function threadCommand(ctx: CommandContext, args: string, out: Out): Promise<unknown> {
  const s = ctx.session;
  if (/^apply(\s|$)/.test(args.trim())) return threadApply(ctx, args.trim().slice(5), out);
  if (args.trim()) ctx.selected = { thread: await engineThreadOf(s, parseThreadRef(args)), level: 0 };
  const selected = await describeSelected(ctx);
  out(`[${args.trim() ? 'Switching to' : 'Current thread is'} ${selected.text}]\n`);
  const { frames } = await s.backtrace(ctx.selected.thread);
  out('#0  ');
  await printFrame(ctx, ctx.selected.thread, frames, frames[0]!, out, false);
  return { ...selected.data, frame: frameData(frames[0]!) };
}

/** The engine thread a thread reference is inspected through: the vCPU, or a guest thread's vCPU or saved context. */
async function engineThreadOf(s: Session, ref: ThreadRef): Promise<number> {
  if (ref.kind === 'vcpu') return vcpuOf(s, ref.id);
  const t = await guestThread(s, ref.id);
  const key = guestModel(s).engineThread(t);
  if (key === undefined) throw new CommandError(`thread 2.${t.id} is on no vCPU and has no saved context to unwind`);
  return key;
}

/**
 * thread apply all [-ascending] COMMAND | thread apply ID... COMMAND (N, 1.N, N-M, 2.ID): COMMAND in
 * each thread under gdb's `Thread N (target id):` header, `all` from the last vCPU down as gdb;
 * the thread and frame selected before are selected again after.
 */
async function threadApply(ctx: CommandContext, rest: string, out: Out): Promise<unknown> {
  const s = ctx.session;
  const words = rest.trim().split(/\s+/).filter(Boolean);
  let refs: ThreadRef[] = [];
  if (words[0] === 'all') {
    words.shift();
    const ascending = (words[0] as string | undefined) === '-ascending';
    if (ascending) words.shift();
    const ids = [...(await s.threadIds())].sort((a, b) => a - b);
    refs = (ascending ? ids : ids.reverse()).map((id) => ({ kind: 'vcpu', id }));
  } else {
    while (words.length && /^(?:[12]\.)?\d+(?:-\d+)?$/.test(words[0]!)) {
      const w = words.shift()!;
      const range = /^(?:(1)\.)?(\d+)-(\d+)$/.exec(w);
      if (range) for (let id = Number(range[2]); id <= Number(range[3]); id++) refs.push({ kind: 'vcpu', id });
      else refs.push(parseThreadRef(w));
    }
    if (!refs.length) throw new CommandError('Please specify a thread ID list');
  }
  const command = words.join(' ');
  if (!command) throw new CommandError('Please specify a command following the thread ID list');
  const before = ctx.selected;
  const vcpus = await s.threads();
  const results: Array<{ thread: string; result: unknown }> = [];
  try {
    for (const ref of refs) {
      ctx.selected = { thread: await engineThreadOf(s, ref), level: 0 };
      const header =
        ref.kind === 'vcpu'
          ? `Thread ${ref.id} (Thread 1.${ref.id} (${vcpus.find((v) => v.id === ref.id)?.description ?? ''}))`
          : `Thread ${guestLabel(await guestThread(s, ref.id))}`;
      out(`\n${header}:\n`);
      results.push({ thread: ref.kind === 'vcpu' ? String(ref.id) : `2.${ref.id}`, result: await runLine(ctx, command, out) });
    }
  } finally {
    ctx.selected = before;
  }
  return results;
}

/** What is selected, in both numberings: the vCPU and the guest thread it runs, or a saved context. */
async function describeSelected(ctx: CommandContext): Promise<{ text: string; data: Record<string, unknown> }> {
  const s = ctx.session;
  const owner = await s.guest?.ownerOf(ctx.selected.thread);
  const t = owner === undefined ? undefined : (await s.guest!.list()).threads.find((x) => x.address === owner);
  if (s.inspector.isSavedContext(ctx.selected.thread)) {
    return {
      text: `thread ${t ? guestLabel(t) : '2.?'} (${t?.state ?? 'switched out'}, saved context)`,
      data: { thread: t && `2.${t.id}`, name: t?.name, state: t?.state },
    };
  }
  const vcpu = (await s.threads()).find((x) => x.id === ctx.selected.thread);
  const guest = t ? `, running thread ${guestLabel(t)}` : '';
  return {
    text: `thread ${ctx.selected.thread} (${vcpu?.description ?? ''})${guest}`,
    data: { thread: ctx.selected.thread, ...(t && { guestThread: `2.${t.id}`, name: t.name }) },
  };
}

/**
 * A switched-out thread is shown where it waits: the first frame below the scheduler's (and below
 * the interrupt that preempted it), so helpers inlined into the scheduler do not count as its own.
 */
function waitingFrame(s: Session, frames: FrameContext[]): FrameContext {
  let last = frames.length - 1;
  while (last >= 0 && !s.guest!.inScheduler(frames[last]!.function)) last--;
  return frames.slice(last + 1).find((f) => !f.signalFrame) ?? frames[0]!;
}

export async function infoThreads(ctx: CommandContext, _args: string, out: Out): Promise<unknown> {
  const s = ctx.session;
  const threads = await s.threads();
  out('  Id   Target Id                                   Frame\n');
  const rows = [];
  for (const t of threads) {
    const { frames } = await s.backtrace(t.id);
    const line = await frameLine(s, t.id, frames, frames[0]!);
    out(
      `${t.id === ctx.selected.thread ? '*' : ' '} ${String(t.id).padEnd(4)} ${`Thread 1.${t.id} (${t.description})`.padEnd(43)} ${line}\n`,
    );
    rows.push({
      id: t.id,
      cpu: t.cpu,
      description: t.description,
      pc: hex(frames[0]!.pc),
      function: frames[0]!.function,
      current: t.id === ctx.selected.thread,
    });
  }
  if (!s.guest) return rows;
  const { threads: guest, error } = await s.guest.list();
  const owner = await s.guest.ownerOf(ctx.selected.thread);
  out(`\nUnikernel threads (${s.guest.unikernel}):\n  Id     Name              State            Frame\n`);
  const guestRows = [];
  for (const t of guest) {
    const key = s.guest.engineThread(t);
    let where = '<no saved context>';
    let frame: FrameContext | undefined;
    const cpu = threads.find((v) => v.id === t.vcpu)?.cpu;
    if (key !== undefined) {
      const { frames } = await s.backtrace(key);
      frame = t.vcpu !== undefined ? frames[0]! : waitingFrame(s, frames);
      where = `${cpu !== undefined ? `${cpuLabel(cpu)}: ` : ''}${await frameLine(s, key, frames, frame)}`;
    }
    out(`${t.address === owner ? '*' : ' '} ${`2.${t.id}`.padEnd(6)} ${guestThreadTitle(t).padEnd(17)} ${t.state.padEnd(16)} ${where}\n`);
    guestRows.push({
      id: `2.${t.id}`,
      name: t.name,
      state: t.state,
      address: hex(t.address),
      ...(t.vcpu !== undefined && { vcpu: t.vcpu, cpu }),
      ...(frame && { frame: frameData(frame) }),
      current: t.address === owner,
    });
  }
  if (error) out(`  (thread list incomplete: ${error})\n`);
  return { vcpus: rows, threads: guestRows, ...(error && { error }) };
}
