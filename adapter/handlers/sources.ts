// loadedSources and modules. A unikernel is one image: one module, whose source files are those
// its line tables name.
import path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { hexRef } from '../args.js';
import type { Handler } from '../context.js';

export const sourceHandlers: Record<string, Handler> = {
  async loadedSources(ctx) {
    const program = ctx.require().session.program;
    const files = program?.symbols.sourceFiles() ?? [];
    return { sources: files.map((f): DebugProtocol.Source => ({ name: path.basename(f), path: f })) };
  },

  async modules(ctx, args) {
    const d = ctx.require();
    const start = args.optInt('startModule', 0) ?? 0;
    const count = args.optInt('moduleCount', 0) ?? 0;
    const program = d.session.program;
    const all: DebugProtocol.Module[] = [];
    if (program) {
      const range = program.loadedRange;
      const file = d.image ?? program.path;
      all.push({
        id: 1,
        name: path.basename(file),
        path: file,
        symbolStatus: program.hasDebugInfo ? 'Symbols loaded.' : 'Symbols loaded (no debug information).',
        symbolFilePath: program.path,
        ...(range && { addressRange: `${hexRef(range.start)}-${hexRef(range.end)}` }),
      });
    }
    return { modules: all.slice(start, count ? start + count : undefined), totalModules: all.length };
  },
};
