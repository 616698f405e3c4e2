// The crash report: why the guest died, where, every vCPU's registers and backtrace, the guest's
// own threads and the tail of its kernel log. Built from any stopped session (a dump, or live).
import { displayFile, frameLine } from '../commands/stack.js';
import type { Session } from '../engine/session.js';
import type { Backtrace } from '../engine/stack.js';
import { cpuLabel } from '../targets/index.js';
import type { UnikernelDescription } from './description.js';
import { detectUnikernel, kernelLogTail, panicRecord, type PanicRecord } from './unikernel.js';

export interface CrashReport {
  unikernel?: string;
  panic?: PanicDetails;
  /** `id` is the debugger's thread number, `cpu` the guest's own index of the CPU. */
  vcpus: Array<{ id: number; cpu: number; description: string; registers: Record<string, string>; backtrace: string[]; incomplete?: string }>;
  /** The unikernel's threads; a switched-out one with the backtrace of its saved context. */
  threads?: Array<{ id: number; name: string; state: string; address: string; vcpu?: number; cpu?: number; backtrace?: string[]; incomplete?: string }>;
  threadsError?: string;
  log?: string[];
}

const SHOWN_REGS = ['rip', 'rsp', 'rbp', 'rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'eflags', 'cr2', 'cr3'];

export type PanicDetails = PanicRecord & { location?: string; instruction?: string; message?: string };

/** Why and where the guest panicked (undefined: no known unikernel, or it did not panic). */
export async function guestPanic(session: Session): Promise<PanicDetails | undefined> {
  const d = session.program && detectUnikernel(session.program);
  return d && panicDetails(session, d, await logLines(session, d));
}

async function logLines(session: Session, d: UnikernelDescription): Promise<string[] | undefined> {
  const log = await kernelLogTail(session, d).catch(() => undefined);
  return log?.split('\n').filter((l) => l.length);
}

async function panicDetails(session: Session, d: UnikernelDescription, log: string[] | undefined): Promise<PanicDetails | undefined> {
  const panic = await panicRecord(session, d).catch(() => undefined);
  if (!panic) return undefined;
  const [inner] = session.program?.symbols.symbolize(panic.pc, { gdb: true }) ?? [];
  const insn = await session.disassembleAt(panic.pc, 1).then((i) => i[0]?.text, () => undefined);
  const message = log?.filter((l) => l.startsWith('PANIC')).at(-1);
  return {
    ...panic,
    ...(inner?.function && { location: `${inner.function}${inner.file ? ` at ${displayFile(session, inner.file, panic.pc)}:${inner.line}` : ''}` }),
    ...(insn && { instruction: insn }),
    ...(message && { message }),
  };
}

export async function crashReport(session: Session, tailLines = 20): Promise<CrashReport> {
  const report: CrashReport = { vcpus: [] };
  const d = session.program && detectUnikernel(session.program);
  if (d) report.unikernel = d.name;
  const log = d && (await logLines(session, d));
  if (log) report.log = log.slice(-tailLines);
  const panic = d && (await panicDetails(session, d, log));
  if (panic) report.panic = panic;
  for (const t of await session.threads()) {
    const regs = await session.target.readRegisters(t.id);
    const registers: Record<string, string> = {};
    for (const r of SHOWN_REGS) if (regs.has(r)) registers[r] = `0x${regs.get(r)!.toString(16)}`;
    const bt = await session.backtrace(t.id);
    report.vcpus.push({ id: t.id, cpu: t.cpu, description: t.description, registers, backtrace: await backtraceLines(session, t.id, bt), ...(bt.incomplete && { incomplete: bt.incomplete }) });
  }
  if (session.guest) {
    const { threads, error } = await session.guest.list();
    report.threads = [];
    for (const t of threads) {
      const key = t.vcpu === undefined ? session.guest.engineThread(t) : undefined;
      const bt = key === undefined ? undefined : await session.backtrace(key);
      report.threads.push({
        id: t.id,
        name: t.name,
        state: t.state,
        address: `0x${t.address.toString(16)}`,
        ...(t.vcpu !== undefined && { vcpu: t.vcpu, cpu: report.vcpus.find((v) => v.id === t.vcpu)?.cpu }),
        ...(bt && key !== undefined && { backtrace: await backtraceLines(session, key, bt) }),
        ...(bt?.incomplete && { incomplete: bt.incomplete }),
      });
    }
    if (error) report.threadsError = error;
  }
  return report;
}

async function backtraceLines(session: Session, thread: number, bt: Backtrace): Promise<string[]> {
  const lines: string[] = [];
  for (const f of bt.frames) lines.push(`#${String(f.level).padEnd(3)}${await frameLine(session, thread, bt.frames, f)}`);
  return lines;
}

export function formatReport(r: CrashReport): string {
  const out: string[] = [];
  if (r.panic) {
    out.push(`Guest panicked on ${cpuLabel(r.panic.cpu)}: ${r.panic.message ?? `vector ${r.panic.reason}`}`);
    out.push(`  at 0x${r.panic.pc.toString(16)}${r.panic.location ? ` in ${r.panic.location}` : ''}`);
    if (r.panic.instruction) out.push(`  faulting instruction: ${r.panic.instruction}`);
  } else out.push('No panic recorded by the guest.');
  for (const v of r.vcpus) {
    out.push('', `${v.description} (thread 1.${v.id})`);
    out.push('  ' + Object.entries(v.registers).map(([k, x]) => `${k}=${x}`).join(' '));
    for (const l of v.backtrace) out.push(`  ${l}`);
    if (v.incomplete) out.push(`  Backtrace stopped: ${v.incomplete}`);
  }
  if (r.threads) {
    out.push('', `Threads${r.unikernel ? ` (${r.unikernel})` : ''}:`);
    out.push('  Id     Name              State            Where');
    for (const t of r.threads) {
      out.push(`  ${`2.${t.id}`.padEnd(6)} ${t.name.padEnd(17)} ${t.state.padEnd(16)} ${t.cpu !== undefined ? `running on ${cpuLabel(t.cpu)}` : t.backtrace ? 'saved context:' : '<no saved context>'}`);
      for (const l of t.backtrace ?? []) out.push(`           ${l}`);
      if (t.incomplete) out.push(`           Backtrace stopped: ${t.incomplete}`);
    }
    if (r.threadsError) out.push(`  (thread list incomplete: ${r.threadsError})`);
  }
  if (r.log) out.push('', 'Kernel log (tail):', ...r.log.map((l) => `  ${l}`));
  return out.join('\n') + '\n';
}
