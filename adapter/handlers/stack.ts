// threads, stackTrace, scopes.
import path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { Frame } from '../../src/engine/model.js';
import { hexRef } from '../args.js';
import type { AdapterContext, Handler } from '../context.js';
import { scope } from '../views.js';

function stackFrame(ctx: AdapterContext, id: number, f: Frame, crashPath = false): DebugProtocol.StackFrame {
  const n = ctx.numbering;
  const file = f.file !== undefined ? (ctx.require().session.program?.sourcePaths.local(f.file) ?? f.file) : undefined;
  return {
    id,
    name: `${f.function ?? hexRef(f.pc)}${f.inlined ? ' [inlined]' : ''}`,
    line: f.line !== undefined ? n.lineToClient(f.line) : 0,
    column: f.column !== undefined ? n.columnToClient(f.column) : 0,
    // The editor focuses the first frame whose source is not deemphasized: at a caught crash, the
    // frame that faulted rather than the crash path above it.
    ...(file !== undefined && {
      source: { name: path.basename(file), path: file, ...(crashPath && { presentationHint: 'deemphasize' as const }) },
    }),
    instructionPointerReference: hexRef(f.pc),
    // Without source the client shows disassembly; frames found by guesswork are marked.
    ...(f.unwoundBy === 'frame-pointer' && { presentationHint: 'subtle' as const }),
  };
}

export const stackHandlers: Record<string, Handler> = {
  /** Before launch there are no threads yet: an empty list, not an error. */
  async threads(ctx) {
    const d = ctx.debuggee;
    const threads = d ? await d.threads.list() : [];
    return { threads: threads.map(({ id, name }) => ({ id, name })) };
  },

  async stackTrace(ctx, args) {
    const d = ctx.require();
    const thread = await d.threads.require(args);
    const start = args.optInt('startFrame', 0) ?? 0;
    const levels = args.optInt('levels', 0) ?? 0;
    d.requireStopped('read the stack');
    // Unwind only as deep as the client looks (VS Code asks for the top frame first).
    const limit = levels > 0 ? start + levels : undefined;
    const frames = await d.session.frames(thread, limit);
    const stop = d.session.stop;
    const faultLevel = stop?.kind === 'panic' && stop.thread === thread ? (stop.panic?.frame ?? 0) : 0;
    const page = frames.slice(start, limit);
    return {
      stackFrames: page.map((f) => stackFrame(ctx, d.frames.id(thread, f.level), f, f.level < faultLevel)),
      ...((limit === undefined || frames.length < limit) && { totalFrames: frames.length }),
    };
  },

  async scopes(ctx, args) {
    const d = ctx.require();
    // A view refreshing a frame of the last stop gets nothing to show, not an error in its pane.
    if (d.frames.expired(args)) return { scopes: [] };
    const frame = d.frames.require(args);
    d.requireStopped('read scopes');
    return { scopes: (await d.session.scopes(frame)).map(scope) };
  },
};
