// evaluate (watch, hover, and the debug console, which also runs gdb commands) and completions.
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { Handler } from '../context.js';
import { evaluateBody, valueFormat } from '../views.js';

export const evaluateHandlers: Record<string, Handler> = {
  async evaluate(ctx, args) {
    const d = ctx.require();
    const expression = args.str('expression');
    const frame = args.has('frameId') ? d.frames.require(args) : undefined;
    const console = d.console;
    if (args.optStr('context') === 'repl' && console && ctx.language?.isCommand(expression)) {
      // The command's text arrives as output events; a command that resumes reports its stop.
      if (frame) console.selected = frame;
      const r = await console.run(expression);
      if (console.finished) d.end();
      if (!r.ok) throw new Error(r.error);
      return { result: '', variablesReference: 0 };
    }
    const v = await d.session.evaluate(expression, frame ?? d.defaultFrame(), valueFormat(args));
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
    const targets: DebugProtocol.CompletionItem[] = (ctx.language?.complete(before) ?? []).map((label) => ({ label, type: 'keyword' }));
    if (d) {
      const stopped = d.session.isAlive && !d.session.isRunning;
      const at = stopped ? (frame ?? d.defaultFrame()) : undefined;
      const { start, items } = await d.session.complete(before, at);
      const range = { start: ctx.numbering.columnToClient(start + 1), length: before.length - start };
      for (const c of items) if (!targets.some((t) => t.label === c.label)) targets.push({ label: c.label, type: c.kind, ...range });
    }
    return { targets };
  },
};
