// Reading a unikernel's own state through its description: which one it is, kernel log, panic record.
import type { Program } from '../engine/program.js';
import type { Session } from '../engine/session.js';
import { asInteger, formatValue, load } from '../engine/values.js';
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
