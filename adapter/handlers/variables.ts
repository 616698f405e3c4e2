// variables: the children of a scope or value, paged with start/count, optionally in hex;
// setVariable and setExpression assign through the engine (C expressions as values).
import { InvalidatedEvent } from '@vscode/debugadapter';
import type { AdapterContext, Handler, Reply } from '../context.js';
import { assignedBody, liveReference, valueFormat, variable } from '../views.js';

/** One value changed: others may show the same memory or register, so the client refreshes them. */
function refreshAfter(reply: Reply, ctx: AdapterContext): void {
  reply.after(() => ctx.send(new InvalidatedEvent(['variables'])));
}

export const variableHandlers: Record<string, Handler> = {
  async variables(ctx, args) {
    const d = ctx.require();
    const ref = liveReference(d, args);
    const start = args.optInt('start', 0) ?? 0;
    const count = args.optInt('count', 0) ?? 0;
    const children = await d.session.children(ref, start, count || Infinity, valueFormat(args));
    return { variables: children.map(variable) };
  },

  async setVariable(ctx, args, reply) {
    const d = ctx.require();
    const ref = liveReference(d, args);
    const name = args.str('name');
    const value = args.str('value');
    d.requireStopped('change a variable');
    const v = await d.session.assignChild(ref, name, value, valueFormat(args));
    refreshAfter(reply, ctx);
    return assignedBody(v);
  },

  async setExpression(ctx, args, reply) {
    const d = ctx.require();
    const expression = args.str('expression');
    const value = args.str('value');
    const frame = args.has('frameId') ? d.frames.require(args) : undefined;
    d.requireStopped('change a value');
    const v = await d.session.assign(expression, value, frame ?? d.defaultFrame(), valueFormat(args));
    refreshAfter(reply, ctx);
    return assignedBody(v);
  },
};
