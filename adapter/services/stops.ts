// How an engine stop is told to a DAP client: the stopped event's reason and texts, and the
// exception details a client asks for afterwards with exceptionInfo.
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { StopInfo } from '../../src/engine/session.js';
import type { Session } from '../../src/engine/session.js';
import type { QemuInstance } from '../../src/qemu/index.js';
import type { BreakpointRegistry } from './breakpoints.js';

export interface StopReport {
  reason: string;
  description?: string;
  text?: string;
  hitBreakpointIds?: number[];
  /** Set when the stop is a guest fault or panic (what exceptionInfo answers). */
  exception?: { id: string; description: string };
}

const SIGNALS: Record<number, string> = { 2: 'SIGINT', 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE', 11: 'SIGSEGV' };
/** QEMU's gdbstub reports a VM stop it has no signal for (a pvpanic guest panic) as signal 143. */
const QEMU_VM_STOP = 143;

export async function describeStop(stop: StopInfo, session: Session, breakpoints: BreakpointRegistry, qemu?: QemuInstance): Promise<StopReport> {
  switch (stop.kind) {
    case 'entry':
    case 'dump':
      return { reason: 'entry' };
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
      const exception =
        status === 'guest-panicked'
          ? { id: 'panic', description: 'Guest panicked (pvpanic): all vCPUs stopped' }
          : { id: SIGNALS[stop.signal!] ?? `signal ${stop.signal}`, description: `vCPU ${stop.thread} received ${SIGNALS[stop.signal!] ?? `signal ${stop.signal}`}` };
      return { reason: 'exception', description: exception.description, text: exception.id, exception };
    }
    case 'exited':
      return { reason: 'exited', description: `Guest exited with code ${stop.exitCode}` };
  }
}

export function exceptionInfoBody(e: NonNullable<StopReport['exception']>): DebugProtocol.ExceptionInfoResponse['body'] {
  return { exceptionId: e.id, description: e.description, breakMode: 'always' };
}
