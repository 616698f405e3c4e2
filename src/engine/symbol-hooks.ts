// What the session asks of symbols: breakpoint locations, conditions, logpoint text, integer and
// lvalue evaluation, watched values. Answered from a Program, or by the bare minimum without one.
import { sizeOf, stripTypedefs } from '../../symbols/index.js';
import type { Watchpoint, BreakpointLocation } from './breakpoints.js';
import { EngineError } from './errors.js';
import { evaluateText } from './evaluate.js';
import type { LocationSpec } from './location.js';
import type { FramePosition } from './model.js';
import type { Program } from './program.js';
import type { Session } from './session.js';
import { asInteger, asNumber, formatValue, type Value } from './values.js';

export interface SessionHooks {
  resolveLocation(spec: LocationSpec): Promise<BreakpointLocation[]>;
  /** Evaluates a condition in the stopped thread's innermost frame; truthiness decides the stop. */
  evaluateCondition(expression: string, thread: number): Promise<boolean>;
  /** Interpolates `{expr}` in a logpoint message. */
  formatLogMessage(message: string, thread: number): Promise<string>;
  /** The integer value of an expression in a frame (an address for `x`, `disassemble`, `*EXPR` locations). */
  evaluateInteger(expression: string, at: FramePosition): Promise<bigint>;
  /** Where an lvalue lives in a frame and how big it is (what `watch EXPR` watches). */
  locateLvalue(expression: string, at: FramePosition): Promise<{ address: bigint; size: number }>;
  /** Text of a watched expression's value from its raw bytes, typed in a thread's innermost frame. */
  formatWatchValue(point: Watchpoint, bytes: Uint8Array, thread: number): Promise<string>;
}

/** Without symbols only numbers and addresses are understood. */
export const noSymbols: SessionHooks = {
  async resolveLocation(spec) {
    if (spec.kind === 'address') return [{ address: spec.address }];
    throw new EngineError('no symbols loaded: only *ADDRESS locations can be resolved');
  },
  async evaluateCondition() {
    throw new EngineError('no symbols loaded: conditions need symbols');
  },
  async formatLogMessage(message) {
    return message;
  },
  async evaluateInteger(expression) {
    const t = expression.trim();
    if (/^(0[xX][0-9a-fA-F]+|\d+)$/.test(t)) return BigInt(t);
    throw new EngineError(`no symbols loaded: cannot evaluate '${t}'`);
  },
  async locateLvalue(expression) {
    throw new EngineError(`no symbols loaded: cannot tell where '${expression}' lives`);
  },
  async formatWatchValue(_point, bytes) {
    return rawWatchText(bytes);
  },
};

function rawWatchText(bytes: Uint8Array): string {
  return Buffer.from(bytes).readUIntLE(0, Math.min(6, bytes.length)).toString();
}

export function symbolHooks(session: Session, program: Program): SessionHooks {
  const ins = session.inspector;
  const inFrame = async (expression: string, at: FramePosition) => evaluateText(await ins.context(at.thread, at.level), expression);
  const inFrame0 = (expression: string, thread: number) => inFrame(expression, { thread, level: 0 });
  /**
   * `inFunction`: a function breakpoint's. Past its prologue, where inlined calls begin, it is shown
   * at the line of the outermost call, in the function (gdb's skip_prologue_sal); at the
   * function's very entry, at the line there.
   */
  const describe = (address: bigint, inFunction?: string): Omit<BreakpointLocation, 'address'> => {
    const frames = program.symbols.symbolize(address);
    const inner = frames[0];
    if (!inner?.function) return {};
    const pastPrologue = inFunction !== undefined && program.symbols.functionAt(address)?.ranges[0]?.start !== address;
    const outer = pastPrologue ? frames.slice(1).find((f) => f.function === inFunction && f.file && f.line) : undefined;
    // The line as gdb reads the table where several rows share the address (a statement row wins).
    const row = program.symbols.lineAt(address, { gdb: true });
    const at = outer
      ? { file: outer.file!, line: outer.line! }
      : row && row.line
        ? row
        : inner.file && inner.line
          ? { file: inner.file, line: inner.line }
          : undefined;
    if (!at) return { function: inner.function, inFunction: inner.function };
    const compDir = program.symbols.compDirAt(address)?.replace(/\/$/, '');
    const file = compDir && at.file.startsWith(compDir + '/') ? at.file.slice(compDir.length + 1) : at.file;
    return { function: outer ? inFunction! : inner.function, inFunction: inner.function, file, line: at.line };
  };
  return {
    async resolveLocation(spec) {
      switch (spec.kind) {
        case 'address':
          return [{ address: spec.address, ...describe(spec.address) }];
        case 'line': {
          const hits = program.symbols.lineToAddresses(spec.file, spec.line);
          if (!hits.length) throw new EngineError(`No line ${spec.line} in file "${spec.file}".`);
          // Shown at the line found, as gdb does, where another line's row shares the address (the
          // first instruction of an inlined call); at the line there when moved past a prologue.
          return hits.map((h) => {
            const d = describe(h.address);
            return { address: h.address, ...d, ...(d.line !== undefined && !h.movedPastPrologue && { line: h.line }) };
          });
        }
        case 'function': {
          let addresses = program.symbols.functionEntries(spec.name);
          if (spec.file) addresses = addresses.filter((a) => program.symbols.symbolize(a).some((f) => f.file?.endsWith(spec.file!)));
          if (!addresses.length) throw new EngineError(`Function "${spec.name}" not defined${spec.file ? ` in "${spec.file}"` : ''}.`);
          return addresses.map((address) => ({ address, ...describe(address, spec.name), inFunction: spec.name }));
        }
      }
    },
    async evaluateCondition(expression, thread) {
      const v = await inFrame0(expression, thread);
      const s = stripTypedefs(v.type);
      if (s.kind === 'base' && s.encoding === 4) return (await asNumber(ins.readerFor(thread), v)) !== 0;
      return (await asInteger(ins.readerFor(thread), v)) !== 0n;
    },
    async formatLogMessage(message, thread) {
      const parts = message.split(/(\{[^}]*\})/);
      const out: string[] = [];
      for (const p of parts) {
        if (p.startsWith('{') && p.endsWith('}')) {
          out.push(
            await inFrame0(p.slice(1, -1), thread).then(
              (v) => formatValue(ins.readerFor(thread), v, {}, false),
              (e: Error) => `<${e.message}>`,
            ),
          );
        } else out.push(p);
      }
      return out.join('');
    },
    async evaluateInteger(expression, at) {
      return integerOf(await inFrame(expression, at), ins.readerFor(at.thread));
    },
    async locateLvalue(expression, at) {
      const v = await inFrame(expression, at);
      if (v.place.kind !== 'memory' || v.bitField) throw new EngineError(`cannot watch '${expression}': it is not an lvalue in memory`);
      return { address: v.place.address, size: sizeOf(v.type) };
    },
    async formatWatchValue(point, bytes, thread) {
      const v = await inFrame0(point.expression, thread).catch(() => undefined);
      if (!v) return rawWatchText(bytes);
      return formatValue(ins.readerFor(thread), { type: v.type, place: { kind: 'none' }, bytes }, {}, false);
    },
  };
}

/** Arrays and functions stand for their address, as in C. */
async function integerOf(v: Value, reader: Parameters<typeof asInteger>[0]): Promise<bigint> {
  const s = stripTypedefs(v.type);
  if ((s.kind === 'array' || s.kind === 'function' || s.kind === 'struct' || s.kind === 'union') && v.place.kind === 'memory')
    return v.place.address;
  return asInteger(reader, v);
}
