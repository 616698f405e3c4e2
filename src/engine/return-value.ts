// What a function returned, read at its caller right after the return, from where the x86-64
// calling convention leaves a value of its DWARF return type.
import { sizeOf, stripTypedefs } from '../../symbols/index.js';
import type { Program } from './program.js';
import { toBytes, type Value } from './values.js';

/**
 * The value returned by the function containing `pcInFunction`, from the caller's registers after
 * the return; undefined for void functions and for types this reads no value of (aggregates).
 */
export function returnValue(program: Program, pcInFunction: bigint, registers: Map<string, bigint>): Value | undefined {
  const die = program.symbols.functionAt(pcInFunction)?.die;
  if (!die) return undefined;
  const type = program.symbols.typeOf(die);
  const t = stripTypedefs(type);
  if (t.kind === 'void' || t.kind === 'struct' || t.kind === 'union' || t.kind === 'array') return undefined;
  const rax = registers.get('rax');
  if (rax === undefined) return undefined;
  return { type, place: { kind: 'none' }, bytes: toBytes(rax, Math.max(1, sizeOf(type))) };
}
