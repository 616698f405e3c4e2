// Engine values, scopes and breakpoints as DAP objects, and the argument checks they share.
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { UserPoint } from '../src/engine/breakpoints.js';
import type { Scope, ValueFormat, ValueView } from '../src/engine/model.js';
import { ArgumentError, hexRef, type Args } from './args.js';
import type { Debuggee } from './debuggee.js';

export function valueFormat(args: Args): ValueFormat {
  return args.optObj('format')?.optBool('hex') ? 'hex' : 'natural';
}

/** A variablesReference that names live values (they all expire when the guest resumes). */
export function liveReference(d: Debuggee, args: Args, key = 'variablesReference'): number {
  const ref = args.int(key, 1, 2 ** 31 - 1);
  if (!d.session.values.get(ref))
    throw new ArgumentError(`${args.name(key)} ${ref} is not a live variable reference (references expire when the guest resumes)`);
  return ref;
}

/** Arrays page by index; structs and pointers list named children. */
function childCounts(v: ValueView): { indexedVariables?: number; namedVariables?: number } {
  if (!v.ref) return {};
  return v.type.endsWith(']') ? { indexedVariables: v.childCount } : { namedVariables: v.childCount };
}

export function variable(v: ValueView): DebugProtocol.Variable {
  return {
    name: v.name,
    value: v.text,
    type: v.type,
    variablesReference: v.ref,
    ...childCounts(v),
    ...(v.expression !== undefined && { evaluateName: v.expression }),
    ...(v.address !== undefined && { memoryReference: hexRef(v.address) }),
  };
}

/** What evaluate, setVariable and setExpression answer about a value besides its text. */
function valueDetails(v: ValueView) {
  return {
    type: v.type,
    variablesReference: v.ref,
    ...childCounts(v),
    ...(v.address !== undefined && { memoryReference: hexRef(v.address) }),
  };
}

export function evaluateBody(v: ValueView): DebugProtocol.EvaluateResponse['body'] {
  return { result: v.text, ...valueDetails(v) };
}

export function assignedBody(v: ValueView): DebugProtocol.SetVariableResponse['body'] & DebugProtocol.SetExpressionResponse['body'] {
  return { value: v.text, ...valueDetails(v) };
}

const SCOPE_HINTS: Partial<Record<Scope['name'], string>> = { Locals: 'locals', Arguments: 'arguments', Registers: 'registers' };

export function scope(s: Scope): DebugProtocol.Scope {
  const hint = SCOPE_HINTS[s.name];
  return {
    name: s.name,
    variablesReference: s.ref,
    namedVariables: s.count,
    expensive: s.expensive,
    ...(hint && { presentationHint: hint }),
  };
}

/** The DAP view of an engine point, or of why it could not be set. */
export function breakpointView(point: UserPoint | undefined, failure?: string): DebugProtocol.Breakpoint {
  if (!point) return { verified: false, reason: 'failed', ...(failure && { message: failure }) };
  if (point.type === 'watchpoint')
    return { id: point.id, verified: true, message: `${point.expression}: ${point.length} bytes at ${hexRef(point.address)}` };
  const [first, ...more] = point.locations;
  if (!first) return { id: point.id, verified: false, reason: 'pending', message: 'no code found for this location yet' };
  const where = more.length
    ? `${more.length + 1} locations`
    : first.function
      ? `${first.function}${first.file ? ` at ${first.file}:${first.line}` : ''}`
      : hexRef(first.address);
  return { id: point.id, verified: true, instructionReference: hexRef(first.address), message: where };
}
