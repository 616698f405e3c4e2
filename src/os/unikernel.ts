// Reading a unikernel's own state through its description: kernel log, panic record, threads.
import { typeName } from '../../symbols/index.js';
import type { Program } from '../engine/program.js';
import type { Session } from '../engine/session.js';
import { asInteger, formatValue, load, type Value } from '../engine/values.js';
import { DESCRIPTIONS, type UnikernelDescription } from './description.js';

export function detectUnikernel(program: Program): UnikernelDescription | undefined {
  return DESCRIPTIONS.find((d) => d.detect.every((s) => program.symbols.findSymbol(s).length > 0));
}

/** The last `max` bytes the kernel logged (the ring holds at most its own size). */
export async function kernelLogTail(session: Session, d: UnikernelDescription, max = 4096): Promise<string | undefined> {
  if (!d.kernelLog) return undefined;
  const buf = await session.value(d.kernelLog.buffer, session.selectedThread, 0);
  const head = await asInteger(session.inspector.reader, await session.value(d.kernelLog.head, session.selectedThread, 0));
  if (buf.place.kind !== 'memory') return undefined;
  const size = BigInt((await load(session.inspector.reader, buf)).length);
  const n = head < size ? head : size;
  const want = n < BigInt(max) ? n : BigInt(max);
  const bytes = new Uint8Array(Number(want));
  const all = await load(session.inspector.reader, buf);
  for (let i = 0n; i < want; i++) bytes[Number(i)] = all[Number((head - want + i) % size)]!;
  return Buffer.from(bytes).toString('latin1').replace(/\r/g, '');
}

export interface PanicRecord {
  cpu: number;
  pc: bigint;
  reason?: string;
}

export async function panicRecord(session: Session, d: UnikernelDescription): Promise<PanicRecord | undefined> {
  if (!d.panic) return undefined;
  const r = session.inspector.reader;
  const v = (e: string) => session.value(e, session.selectedThread, 0);
  if ((await asInteger(r, await v(d.panic.when))) === 0n) return undefined;
  const reason = d.panic.reason ? await formatValue(r, await v(d.panic.reason), {}, false) : undefined;
  return { cpu: Number(await asInteger(r, await v(d.panic.cpu))), pc: await asInteger(r, await v(d.panic.pc)), ...(reason !== undefined && { reason }) };
}

export interface GuestThread {
  address: bigint;
  /** Registers to unwind from when the thread is not on a vCPU (its saved context). */
  saved?: Map<string, bigint>;
  id: number;
  name: string;
  state: string;
  cpu: number;
  running: boolean;
}

const MAX_THREADS = 4096;

/** Walks the thread list; a cycle or an unreadable pointer ends the walk with an error naming it. */
export async function guestThreads(session: Session, d: UnikernelDescription): Promise<{ threads: GuestThread[]; error?: string }> {
  const spec = d.threads;
  if (!spec) return { threads: [] };
  const r = session.inspector.reader;
  const threads: GuestThread[] = [];
  const seen = new Set<bigint>();
  let t: Value = await session.value(spec.first, session.selectedThread, 0);
  for (;;) {
    const address = await asInteger(r, t);
    if (address === 0n) return { threads };
    if (seen.has(address)) return { threads, error: `thread list loops back to 0x${address.toString(16)}` };
    if (threads.length >= MAX_THREADS) return { threads, error: `thread list longer than ${MAX_THREADS}` };
    seen.add(address);
    const vars = new Map([['t', t]]);
    const field = (e: string) => session.value(e, session.selectedThread, 0, vars);
    try {
      const name = await field(spec.name);
      const nameText = (await formatValue(r, name, {}, false)).replace(/^"|"(,.*)?$/g, '').replace(/\\000/g, '');
      const state = await formatValue(r, await field(spec.state), {}, false);
      const running = state === spec.runningState;
      const saved = running ? undefined : await savedRegisters(session, spec.saved, await asInteger(r, await field(spec.saved.sp)));
      threads.push({
        address,
        id: Number(await asInteger(r, await field(spec.id))),
        name: nameText,
        state,
        cpu: Number(await asInteger(r, await field(spec.cpu))),
        running,
        ...(saved && { saved }),
      });
      t = await field(spec.next);
    } catch (e) {
      return { threads, error: `thread at 0x${address.toString(16)} (${typeName(t.type)}) is unreadable: ${(e as Error).message}` };
    }
  }
}

async function savedRegisters(session: Session, spec: { slots: string[] }, sp: bigint): Promise<Map<string, bigint> | undefined> {
  if (sp === 0n) return undefined;
  const bytes = Buffer.from(await session.target.readMemory(sp, 8 * spec.slots.length));
  const regs = new Map<string, bigint>();
  spec.slots.forEach((name, i) => regs.set(name, bytes.readBigUInt64LE(8 * i)));
  regs.set('rsp', sp + BigInt(8 * spec.slots.length));
  return regs;
}
