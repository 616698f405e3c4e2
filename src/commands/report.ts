// The crash report as the CLI prints it: gdb-style backtrace lines, as text or as JSON for tools.
import type { CrashReport } from '../engine/crash-report.js';
import type { Session } from '../engine/session.js';
import { guestThreadTitle } from '../engine/guest-os.js';
import type { Backtrace } from '../engine/stack.js';
import { cpuLabel } from '../targets/target.js';
import { frameLine, SYMBOLS_MISMATCH } from './stack.js';
import { warningData } from './warnings.js';

async function backtraceLines(session: Session, thread: number, bt: Backtrace): Promise<string[]> {
  const lines: string[] = [];
  for (const f of bt.frames) lines.push(`#${String(f.level).padEnd(3)}${await frameLine(session, thread, bt.frames, f)}`);
  return lines;
}

const hex = (v: bigint) => `0x${v.toString(16)}`;

/** The report with backtraces as gdb's `bt` lines and numbers as hex strings: what `--json` prints. */
export async function reportData(session: Session, r: CrashReport): Promise<Record<string, unknown>> {
  const vcpus = [];
  for (const v of r.vcpus) {
    vcpus.push({
      id: v.id,
      cpu: v.cpu,
      description: v.description,
      registers: Object.fromEntries([...v.registers].map(([k, x]) => [k, hex(x)])),
      backtrace: await backtraceLines(session, v.id, v.backtrace),
      ...(v.backtrace.incomplete && { incomplete: v.backtrace.incomplete }),
    });
  }
  const threads = [];
  for (const t of r.threads ?? []) {
    threads.push({
      id: t.id,
      name: t.name,
      state: t.state,
      address: hex(t.address),
      ...(t.vcpu !== undefined && { vcpu: t.vcpu, cpu: t.cpu }),
      ...(t.backtrace && t.thread !== undefined && { backtrace: await backtraceLines(session, t.thread, t.backtrace) }),
      ...(t.backtrace?.incomplete && { incomplete: t.backtrace.incomplete }),
    });
  }
  return {
    ...(session.warnings.length > 0 && { warnings: session.warnings.map(warningData) }),
    ...(session.symbolsMismatch && { symbolsMismatch: true }),
    ...(r.unikernel && { unikernel: r.unikernel }),
    ...(r.panic && { panic: { ...r.panic, pc: hex(r.panic.pc) } }),
    vcpus,
    ...(r.threads && { threads }),
    ...(r.threadsError && { threadsError: r.threadsError }),
    ...(r.log && { log: r.log }),
  };
}

export async function formatReport(session: Session, r: CrashReport): Promise<string> {
  const out: string[] = [];
  const header = session.symbolsMismatch ? ` ${SYMBOLS_MISMATCH}` : '';
  if (r.panic) {
    out.push(`Guest panicked on ${cpuLabel(r.panic.cpu)}: ${r.panic.message ?? `vector ${r.panic.reason}`}`);
    out.push(`  at ${hex(r.panic.pc)}${r.panic.location ? ` in ${r.panic.location}` : ''}`);
    if (r.panic.instruction) out.push(`  faulting instruction: ${r.panic.instruction}`);
  } else out.push('No panic recorded by the guest.');
  for (const v of r.vcpus) {
    out.push('', `${v.description} (thread 1.${v.id})${header}`);
    out.push('  ' + [...v.registers].map(([k, x]) => `${k}=${hex(x)}`).join(' '));
    for (const l of await backtraceLines(session, v.id, v.backtrace)) out.push(`  ${l}`);
    if (v.backtrace.incomplete) out.push(`  Backtrace stopped: ${v.backtrace.incomplete}`);
  }
  if (r.threads) {
    out.push('', `Threads${r.unikernel ? ` (${r.unikernel})` : ''}:`);
    out.push('  Id     Name              State            Where');
    for (const t of r.threads) {
      out.push(
        `  ${`2.${t.id}`.padEnd(6)} ${guestThreadTitle(t).padEnd(17)} ${t.state.padEnd(16)} ${t.cpu !== undefined ? `running on ${cpuLabel(t.cpu)}` : t.backtrace ? `saved context:${header}` : '<no saved context>'}`,
      );
      if (t.backtrace && t.thread !== undefined)
        for (const l of await backtraceLines(session, t.thread, t.backtrace)) out.push(`           ${l}`);
      if (t.backtrace?.incomplete) out.push(`           Backtrace stopped: ${t.backtrace.incomplete}`);
    }
    if (r.threadsError) out.push(`  (thread list incomplete: ${r.threadsError})`);
  }
  if (r.log) out.push('', 'Kernel log (tail):', ...r.log.map((l) => `  ${l}`));
  return out.join('\n') + '\n';
}
