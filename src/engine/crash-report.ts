// The crash report as data: why the guest died and where, every vCPU's registers and backtrace, the
// guest's own threads (a switched-out one with the backtrace of its saved context) and the tail of
// its kernel log. Built from any stopped session (a dump, or live); front ends format it.
import type { Session } from './session.js';
import type { Backtrace } from './stack.js';
import type { GuestPanic } from './stop-event.js';

export interface CrashReport {
  unikernel?: string;
  panic?: GuestPanic;
  /** `id` is the debugger's thread number, `cpu` the guest's own index of the CPU. */
  vcpus: Array<{ id: number; cpu: number; description: string; registers: Map<string, bigint>; backtrace: Backtrace }>;
  /** The unikernel's threads; `thread` is the engine thread a switched-out one is unwound through. */
  threads?: Array<{
    id: number;
    name: string;
    addressed?: boolean;
    state: string;
    address: bigint;
    vcpu?: number;
    cpu?: number;
    thread?: number;
    backtrace?: Backtrace;
  }>;
  threadsError?: string;
  log?: string[];
}

/** The registers a report shows of each vCPU. */
const REPORT_REGISTERS = ['rip', 'rsp', 'rbp', 'rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'eflags', 'cr2', 'cr3'];

export async function crashReport(session: Session, tailLines = 20): Promise<CrashReport> {
  const report: CrashReport = { vcpus: [] };
  const os = session.os;
  if (os) {
    report.unikernel = os.name;
    const log = (await os.kernelLog().catch(() => undefined))?.split('\n').filter((l) => l.length);
    if (log) report.log = log.slice(-tailLines);
    // The guest's own record, else the crash duster caught on its way (live, or in a dump taken there).
    const stop = session.stop;
    const panic = (await os.panic().catch(() => undefined)) ?? (stop?.kind === 'panic' ? stop.panic : undefined);
    if (panic) report.panic = panic;
  }
  for (const t of await session.threads()) {
    const all = await session.target.readRegisters(t.id);
    const registers = new Map(REPORT_REGISTERS.filter((r) => all.has(r)).map((r) => [r, all.get(r)!]));
    report.vcpus.push({ id: t.id, cpu: t.cpu, description: t.description, registers, backtrace: await session.backtrace(t.id) });
  }
  if (session.guest) {
    const { threads, error } = await session.guest.list();
    report.threads = [];
    for (const t of threads) {
      const thread = t.vcpu === undefined ? session.guest.engineThread(t) : undefined;
      report.threads.push({
        id: t.id,
        name: t.name,
        ...(t.addressed && { addressed: true }),
        state: t.state,
        address: t.address,
        ...(t.vcpu !== undefined && { vcpu: t.vcpu, cpu: report.vcpus.find((v) => v.id === t.vcpu)?.cpu }),
        ...(thread !== undefined && { thread, backtrace: await session.backtrace(thread) }),
      });
    }
    if (error) report.threadsError = error;
  }
  return report;
}
