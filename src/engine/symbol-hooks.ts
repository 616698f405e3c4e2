// What the session asks of symbols, answered from a Program: breakpoint locations, conditions,
// logpoint text, integer and lvalue evaluation, ELF symbols.
import { sizeOf, stripTypedefs } from '../../symbols/index.js';
import { evaluateText } from './evaluate.js';
import type { Program } from './program.js';
import type { BreakpointLocation } from './breakpoints.js';
import type { Session, SessionHooks } from './session.js';
import { EngineError } from './session.js';
import { asInteger, asNumber, formatValue, type Value } from './values.js';

export function symbolHooks(session: Session, program: Program): SessionHooks {
  const ins = session.inspector;
  const inFrame0 = async (expression: string, thread: number) => evaluateText(await ins.context(thread, 0), expression);
  const inSelected = async (expression: string, thread: number) =>
    evaluateText(await ins.context(thread, thread === session.selectedThread ? session.selectedFrame : 0), expression);
  const describe = (address: bigint): Omit<BreakpointLocation, 'address'> => {
    const [inner] = program.symbols.symbolize(address);
    if (!inner?.function) return {};
    // The line as gdb reads the table where several rows share the address (a statement row wins).
    const row = program.symbols.lineAt(address, { gdb: true });
    const at = row && row.line ? row : inner.file && inner.line ? { file: inner.file, line: inner.line } : undefined;
    if (!at) return { function: inner.function, inFunction: inner.function };
    const compDir = program.symbols.compDirAt(address)?.replace(/\/$/, '');
    const file = compDir && at.file.startsWith(compDir + '/') ? at.file.slice(compDir.length + 1) : at.file;
    return { function: inner.function, inFunction: inner.function, file, line: at.line };
  };
  return {
    async resolveLocation(spec) {
      switch (spec.kind) {
        case 'address': return [{ address: spec.address, ...describe(spec.address) }];
        case 'line': {
          const hits = program.symbols.lineToAddresses(spec.file, spec.line);
          if (!hits.length) throw new EngineError(`No line ${spec.line} in file "${spec.file}".`);
          return hits.map((h) => ({ address: h.address, ...describe(h.address) }));
        }
        case 'function': {
          let addresses = program.symbols.functionEntries(spec.name);
          if (spec.file) addresses = addresses.filter((a) => program.symbols.symbolize(a).some((f) => f.file?.endsWith(spec.file!)));
          if (!addresses.length) throw new EngineError(`Function "${spec.name}" not defined${spec.file ? ` in "${spec.file}"` : ''}.`);
          return addresses.map((address) => ({ address, ...describe(address), inFunction: spec.name }));
        }
      }
    },
    async evaluateCondition(expression, thread) {
      const v = await inFrame0(expression, thread);
      const s = stripTypedefs(v.type);
      if (s.kind === 'base' && s.encoding === 4) return (await asNumber(ins.reader, v)) !== 0;
      return (await asInteger(ins.reader, v)) !== 0n;
    },
    async formatLogMessage(message, thread) {
      const parts = message.split(/(\{[^}]*\})/);
      const out: string[] = [];
      for (const p of parts) {
        if (p.startsWith('{') && p.endsWith('}')) {
          out.push(await inFrame0(p.slice(1, -1), thread).then((v) => formatValue(ins.reader, v, {}, false), (e: Error) => `<${e.message}>`));
        } else out.push(p);
      }
      return out.join('');
    },
    async evaluateInteger(expression, thread) {
      const v = await inSelected(expression, thread);
      return integerOf(v, ins.reader);
    },
    async locateLvalue(expression, thread) {
      const v = await inSelected(expression, thread);
      if (v.place.kind !== 'memory' || v.bitField) throw new EngineError(`cannot watch '${expression}': it is not an lvalue in memory`);
      return { address: v.place.address, size: sizeOf(v.type) };
    },
    symbolAt(address) {
      const hit = program.symbols.symbolAt(address);
      return hit && { name: hit.symbol.name, address: hit.symbol.address, size: hit.symbol.size };
    },
    async formatWatchValue(point, bytes) {
      const v = await inFrame0(point.expression, session.selectedThread).catch(() => undefined);
      if (!v) return Buffer.from(bytes).readUIntLE(0, Math.min(6, bytes.length)).toString();
      return formatValue(ins.reader, { type: v.type, place: { kind: 'none' }, bytes }, {}, false);
    },
  };
}

/** Arrays and functions stand for their address, as in C. */
async function integerOf(v: Value, reader: Parameters<typeof asInteger>[0]): Promise<bigint> {
  const s = stripTypedefs(v.type);
  if ((s.kind === 'array' || s.kind === 'function' || s.kind === 'struct' || s.kind === 'union') && v.place.kind === 'memory') return v.place.address;
  return asInteger(reader, v);
}
