// info source, info sources: gdb's report on the current frame's compile unit and the image's source files.
import path from 'node:path';
import { sourceFileNames, sourceInfo } from '../engine/source-info.js';
import { CommandError } from './command-error.js';
import type { CommandContext } from './context.js';
import type { Out } from './table.js';

export async function infoSource(ctx: CommandContext, _args: string, out: Out): Promise<unknown> {
  const s = ctx.session;
  const p = s.program;
  if (!p) throw new CommandError('No symbol table is loaded.');
  const f = await s.inspector.frame(ctx.selected.thread, ctx.selected.level).catch(() => undefined);
  const info = f?.file ? sourceInfo(p, f.lookupPc, f.file) : undefined;
  if (!info) {
    out('No current source file.\n');
    return null;
  }
  out(
    [
      `Current source file is ${info.file}`,
      ...(info.compDir !== undefined ? [`Compilation directory is ${info.compDir}`] : []),
      ...(info.located ? [`Located in ${info.located.path}`, `Contains ${info.located.lines} lines.`] : []),
      `Source language is ${info.language}.`,
      ...(info.producer !== undefined ? [`Producer is ${info.producer}.`] : []),
      `Compiled with DWARF ${info.dwarfVersion} debugging format.`,
      info.macros ? 'Includes preprocessor macro info.' : 'Does not include preprocessor macro info.',
    ].join('\n') + '\n',
  );
  return info;
}

export async function infoSources(ctx: CommandContext, args: string, out: Out): Promise<unknown> {
  const s = ctx.session;
  const p = s.program;
  if (!p) throw new CommandError('No symbol table is loaded.');
  if (args.trim()) throw new CommandError(`info sources: duster lists every source file and takes no arguments (got '${args.trim()}')`);
  const f = await s.inspector.frame(ctx.selected.thread, ctx.selected.level).catch(() => undefined);
  const files = sourceFileNames(p, f?.lookupPc);
  // duster reads units as it needs them, as gdb does: gdb's note that not all are read is kept.
  out(`${path.resolve(p.path)}:\n(Full debug information has not yet been read for this file.)\n\n${files.join(', ')}\n\n`);
  return { files };
}
