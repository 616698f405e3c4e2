// How an engine stop is told to a DAP client: the stopped event's reason and texts, and the
// exception details a client asks for afterwards with exceptionInfo.
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { Session } from '../../src/engine/session.js';
import type { GuestPanic, PlacedStop } from '../../src/engine/stop-event.js';
import { cpuLabel } from '../../src/targets/index.js';
import type { BreakpointRegistry } from './breakpoints.js';

export interface StopReport {
  reason: string;
  description?: string;
  text?: string;
  hitBreakpointIds?: number[];
  /** Set when the stop is a guest fault or panic (what exceptionInfo answers). */
  exception?: { id: string; description: string; details?: DebugProtocol.ExceptionDetails };
}

export async function describeStop(stop: PlacedStop, session: Session, breakpoints: BreakpointRegistry): Promise<StopReport> {
  switch (stop.kind) {
    case 'entry':
      return { reason: 'entry' };
    case 'dump':
      return { reason: 'entry', description: 'Crash dump (the guest recorded no panic)' };
    case 'step':
      return { reason: 'step' };
    case 'interrupt':
      return { reason: 'pause' };
    case 'breakpoint': {
      const ids = stop.breakpoints.map((b) => b.id);
      return { reason: breakpoints.reasonFor(ids), description: `Breakpoint ${ids.join(', ')}`, hitBreakpointIds: ids };
    }
    case 'watchpoint': {
      const { point, old, value } = stop.watch;
      const now = await session.formatWatchValue(point, value, stop.thread);
      const before = old && point.access !== 'read' ? await session.formatWatchValue(point, old, stop.thread) : undefined;
      const text = before !== undefined ? `${point.expression}: ${before} → ${now}` : `${point.expression} = ${now}`;
      return { reason: 'data breakpoint', description: text, text, hitBreakpointIds: [point.id] };
    }
    case 'signal': {
      const cpu = (await session.threads()).find((t) => t.id === stop.thread)?.cpu;
      return exceptionStop({
        id: stop.name,
        description: `${cpu !== undefined ? cpuLabel(cpu) : `thread ${stop.thread}`} received ${stop.name}`,
      });
    }
    case 'panic':
      return stop.panic
        ? panicStop(stop.panic)
        : exceptionStop({ id: 'panic', description: 'Guest panicked (pvpanic): all vCPUs stopped' });
  }
}

/**
 * The Call Stack shows a stop's description in place of the thread's state: a short one
 * (`Paused on panic`); the whole message is the exception's, which the editor's exception widget shows.
 */
function exceptionStop(exception: NonNullable<StopReport['exception']>): StopReport {
  return { reason: 'exception', description: `Paused on ${exception.id}`, text: exception.id, exception };
}

/** The guest's own account of its panic: message, faulting location and instruction. */
function panicStop(p: GuestPanic): StopReport {
  const where = [
    `at 0x${p.pc.toString(16)}${p.location ? ` in ${p.location}` : ''}`,
    ...(p.instruction ? [`faulting instruction: ${p.instruction}`] : []),
  ];
  const description = p.message ?? `Guest panicked on ${cpuLabel(p.cpu)}${p.reason !== undefined ? ` (vector ${p.reason})` : ''}`;
  return exceptionStop({
    id: 'panic',
    description,
    details: { message: description, ...(p.reason !== undefined && { typeName: `vector ${p.reason}` }), stackTrace: where.join('\n') },
  });
}

export function exceptionInfoBody(e: NonNullable<StopReport['exception']>): DebugProtocol.ExceptionInfoResponse['body'] {
  return { exceptionId: e.id, description: e.description, breakMode: 'always', ...(e.details && { details: e.details }) };
}
