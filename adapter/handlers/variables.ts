// variables: the children of a scope or value, paged with start/count, optionally in hex.
import type { Handler } from '../context.js';
import { liveReference, valueFormat, variable } from '../views.js';

export const variableHandlers: Record<string, Handler> = {
  async variables(ctx, args) {
    const d = ctx.require();
    const ref = liveReference(d, args);
    const start = args.optInt('start', 0) ?? 0;
    const count = args.optInt('count', 0) ?? 0;
    const children = await d.session.children(ref, start, count || Infinity, valueFormat(args));
    return { variables: children.map(variable) };
  },
};
