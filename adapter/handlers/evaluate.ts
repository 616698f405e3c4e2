// evaluate (watch, hover, and the debug console, which also runs gdb commands) and completions.
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { Handler } from '../context.js';
import { completeCommand, isCommandLine } from '../services/repl.js';
import { evaluateBody, valueFormat } from '../views.js';

export const evaluateHandlers: Record<string, Handler> = {
  async evaluate(ctx, args) {
    const d = ctx.require();
    const expression = args.str('expression');
    const frame = args.has('frameId') ? d.frames.require(args) : undefined;
    if (args.optStr('context') === 'repl' && isCommandLine(expression)) {
      if (frame) {
        d.session.selectedThread = frame.thread;
        d.session.selectedFrame = frame.level;
      }
      // The command's text arrives as output events; a command that resumes reports its stop.
      const r = await d.run.track(() => d.repl.run(expression), true);
      if (d.repl.finished) d.end();
      if (!r.ok) throw new Error(r.error);
      return { result: '', variablesReference: 0 };
    }
    const v = await d.session.evaluate(expression, frame?.thread ?? d.session.selectedThread, frame?.level ?? 0, valueFormat(args));
    return evaluateBody(v);
  },

  /**
   * Command names for the first word of a console line (needs no guest), and the expression being
   * typed: the frame's variables, globals, functions, or the members after `x.` / `x->`.
   */
  async completions(ctx, args) {
    const text = args.str('text');
    const column = ctx.numbering.columnFromClient(args.int('column', 0));
    const before = text.slice(0, Math.max(0, column - 1));
    const d = ctx.debuggee;
    const frame = d && args.has('frameId') ? d.frames.require(args) : undefined;
    const targets: DebugProtocol.CompletionItem[] = completeCommand(before);
    if (d) {
      const stopped = d.session.isAlive && !d.session.isRunning;
      const at = stopped ? (frame ?? { thread: d.session.selectedThread, level: 0 }) : undefined;
      const { start, items } = await d.session.complete(before, at);
      const range = { start: ctx.numbering.columnToClient(start + 1), length: before.length - start };
      for (const c of items) if (!targets.some((t) => t.label === c.label)) targets.push({ label: c.label, type: c.kind, ...range });
    }
    return { targets };
  },
};
