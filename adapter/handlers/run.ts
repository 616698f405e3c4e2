// continue, next, stepIn, stepOut (by line, or by instruction), pause, exceptionInfo. All-stop:
// every request resumes or stops all vCPUs; a step moves the named one.
import type { FramePosition } from '../../src/engine/model.js';
import type { Session } from '../../src/engine/session.js';
import type { StopEvent } from '../../src/engine/stop-event.js';
import { ArgumentError, type Args } from '../args.js';
import type { AdapterContext, Handler, Reply } from '../context.js';
import { exceptionInfoBody } from '../services/stops.js';

type StepKind = 'into' | 'over' | 'out';

const GRANULARITIES = ['statement', 'line', 'instruction'];

/** Stepping out is gdb's finish at any granularity; into/over go by line or by instruction. */
function stepOperation(session: Session, kind: StepKind, byInstruction: boolean, at: FramePosition): () => Promise<StopEvent> {
  if (kind === 'out') return () => session.finish(at);
  return byInstruction ? () => session.stepInstruction(at.thread, kind === 'over') : () => session.stepLine(kind, at);
}

async function step(ctx: AdapterContext, args: Args, reply: Reply, kind: StepKind): Promise<void> {
  const d = ctx.require();
  const thread = await d.threads.require(args);
  const granularity = args.optStr('granularity') ?? 'statement';
  if (!GRANULARITIES.includes(granularity))
    throw new ArgumentError(`granularity '${granularity}' is not one of ${GRANULARITIES.join(', ')}`);
  d.requireResumable('step');
  if (kind !== 'out' && d.session.inspector.isSavedContext(thread)) {
    throw new ArgumentError(
      `${args.name('threadId')} ${args.int('threadId')} is switched out (on no vCPU) and cannot step; step out runs it back to its caller`,
    );
  }
  const op = stepOperation(d.session, kind, granularity === 'instruction', { thread, level: 0 });
  reply.after(() => d.run.start(op));
}

export const runHandlers: Record<string, Handler> = {
  async continue(ctx, args, reply) {
    const d = ctx.require();
    await d.threads.require(args);
    d.requireResumable('continue');
    reply.after(() => d.run.start(() => d.session.continue()));
    return { allThreadsContinued: true };
  },

  next: (ctx, args, reply) => step(ctx, args, reply, 'over'),
  stepIn: (ctx, args, reply) => step(ctx, args, reply, 'into'),
  stepOut: (ctx, args, reply) => step(ctx, args, reply, 'out'),

  /** The stop arrives through the running continue/step, as a stopped event with reason 'pause'. */
  async pause(ctx, args) {
    const d = ctx.require();
    await d.threads.require(args);
    if (!d.session.isRunning) throw new Error('the guest is not running');
    await d.session.interrupt();
  },

  async exceptionInfo(ctx, args) {
    const d = ctx.require();
    const thread = await d.threads.require(args);
    const last = d.run.lastReport;
    if (d.session.isRunning || !last?.exception || last.thread !== thread)
      throw new ArgumentError(`threadId ${thread} did not stop on an exception`);
    return exceptionInfoBody(last.exception);
  },
};
