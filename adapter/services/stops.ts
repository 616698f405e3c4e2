// How an engine stop is told to a DAP client: the stopped event's reason and texts, and the
// exception details a client asks for afterwards with exceptionInfo.
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { Session, StopInfo } from '../../src/engine/session.js';
import { guestPanic } from '../../src/os/report.js';
import type { QemuInstance } from '../../src/qemu/index.js';
import { cpuLabel } from '../../src/targets/index.js';
import type { BreakpointRegistry } from './breakpoints.js';

export interface StopReport {
  reason: string;
  description?: string;
  text?: string;
  hitBreakpointIds?: number[];
  /** Set when the stop is a guest fault or panic (what exceptionInfo answers). */
  exception?: { id: string; description: string; details?: DebugProtocol.ExceptionDetails };
  /** The vCPU to show the stop on when it is not the one the target reported (a dump's panicking CPU). */
  thread?: number;
}

const SIGNALS: Record<number, string> = { 2: 'SIGINT', 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE', 11: 'SIGSEGV' };
/** QEMU's gdbstub reports a VM stop it has no signal for (a pvpanic guest panic) as signal 143. */
const QEMU_VM_STOP = 143;

export async function describeStop(stop: StopInfo, session: Session, breakpoints: BreakpointRegistry, qemu?: QemuInstance): Promise<StopReport> {
  switch (stop.kind) {
    case 'entry':
      return { reason: 'entry' };
    case 'dump':
      return (await panicStop(session)) ?? { reason: 'entry', description: 'Crash dump (the guest recorded no panic)' };
    case 'step':
      return { reason: 'step' };
    case 'interrupt':
      return { reason: 'pause' };
    case 'breakpoint': {
      const ids = (stop.breakpoints ?? []).map((b) => b.id);
      return { reason: breakpoints.reasonFor(ids), description: `Breakpoint ${ids.join(', ')}`, hitBreakpointIds: ids };
    }
    case 'watchpoint': {
      const { point, old, value } = stop.watch!;
      const now = value ? await session.formatWatchValue(point, value) : undefined;
      const before = old && point.access !== 'read' ? await session.formatWatchValue(point, old) : undefined;
      const text = before !== undefined ? `${point.expression}: ${before} → ${now}` : `${point.expression} = ${now}`;
      return { reason: 'data breakpoint', description: text, text, hitBreakpointIds: [point.id] };
    }
    case 'signal': {
      const status = stop.signal === QEMU_VM_STOP ? await qemu?.status().catch(() => undefined) : undefined;
      const name = SIGNALS[stop.signal!] ?? `signal ${stop.signal}`;
      const panic = status === 'guest-panicked' ? await panicStop(session) : undefined;
      if (panic) return panic;
      if (status === 'guest-panicked') return exceptionStop({ id: 'panic', description: 'Guest panicked (pvpanic): all vCPUs stopped' });
      const cpu = (await session.threads()).find((t) => t.id === stop.thread)?.cpu;
      return exceptionStop({ id: name, description: `${cpu !== undefined ? cpuLabel(cpu) : `thread ${stop.thread}`} received ${name}` });
    }
    case 'exited':
      return { reason: 'exited', description: `Guest exited with code ${stop.exitCode}` };
  }
}

/**
 * The Call Stack shows a stop's description in place of the thread's state: a short one
 * (`Paused on panic`); the whole message is the exception's, which the editor's exception widget shows.
 */
function exceptionStop(exception: NonNullable<StopReport['exception']>): StopReport {
  return { reason: 'exception', description: `Paused on ${exception.id}`, text: exception.id, exception };
}

/**
 * The guest's own account of its panic (message, faulting location and instruction), if it kept
 * one, shown on the vCPU that panicked: the stub reports a VM stop on whichever vCPU it likes.
 */
async function panicStop(session: Session): Promise<StopReport | undefined> {
  const p = await guestPanic(session).catch(() => undefined);
  if (!p) return undefined;
  const where = [`at 0x${p.pc.toString(16)}${p.location ? ` in ${p.location}` : ''}`, ...(p.instruction ? [`faulting instruction: ${p.instruction}`] : [])];
  const description = p.message ?? `Guest panicked on ${cpuLabel(p.cpu)}${p.reason !== undefined ? ` (vector ${p.reason})` : ''}`;
  const stop = exceptionStop({ id: 'panic', description, details: { message: description, ...(p.reason !== undefined && { typeName: `vector ${p.reason}` }), stackTrace: where.join('\n') } });
  // The guest numbers its CPUs as QEMU does (cpu_index), whatever the stub's thread ids.
  const thread = (await session.threads()).find((t) => t.cpu === p.cpu)?.id;
  return thread !== undefined ? { ...stop, thread } : stop;
}

export function exceptionInfoBody(e: NonNullable<StopReport['exception']>): DebugProtocol.ExceptionInfoResponse['body'] {
  return { exceptionId: e.id, description: e.description, breakMode: 'always', ...(e.details && { details: e.details }) };
}
