// What a function returned, read at its caller right after the return, from where the System V
// x86-64 calling convention (psABI 3.2.3) leaves a value of its DWARF return type: each eightbyte
// is classified INTEGER (rax, then rdx), SSE (xmm0, then xmm1), SSEUP (the upper half of the last
// vector register), X87/X87UP (st0) or COMPLEX_X87 (st0 and st1); a MEMORY value was written
// through the hidden pointer the function returns in rax.
import { sizeOf, stripTypedefs, type Type } from '../../symbols/index.js';
import type { Program } from './program.js';
import { DW_ATE, toBytes, type Value } from './values.js';

type Class = 'none' | 'integer' | 'sse' | 'sseup' | 'x87' | 'x87up' | 'complex-x87' | 'memory';

const DW_ATE_complex_float = 0x03;

/**
 * The value returned by the function containing `pcInFunction`, from the caller's registers after
 * the return; undefined for void functions and where the registers do not hold it.
 */
export function returnValue(program: Program, pcInFunction: bigint, registers: Map<string, bigint>): Value | undefined {
  const die = program.symbols.functionAt(pcInFunction)?.die;
  if (!die) return undefined;
  const type = program.symbols.typeOf(die);
  if (stripTypedefs(type).kind === 'void') return undefined;
  const size = sizeOf(type);
  const classes = classify(type);
  if (classes === 'memory') {
    const rax = registers.get('rax');
    return rax === undefined ? undefined : { type, place: { kind: 'memory', address: rax } };
  }
  const bytes = new Uint8Array(Math.max(size, 8 * classes.length));
  const ints = ['rax', 'rdx'];
  const sses = ['xmm0', 'xmm1'];
  for (let i = 0; i < classes.length; i++) {
    const c = classes[i]!;
    const at = 8 * i;
    let part: Uint8Array | undefined;
    if (c === 'integer') part = word(registers.get(ints.shift()!), 8);
    else if (c === 'sse') part = word(registers.get(sses.shift()!), 8);
    // The upper half of the vector register the previous SSE eightbyte used.
    else if (c === 'sseup') part = word(registers.get(`xmm${1 - sses.length}`), 16)?.subarray(8);
    else if (c === 'x87') {
      part = x87(registers, 0);
      i++; // X87UP: the rest of st0's 10 bytes; the padding stays zero
    } else if (c === 'complex-x87') {
      const re = x87(registers, 0);
      const im = x87(registers, 1);
      if (re && im) bytes.set(im, size / 2);
      part = re;
      i = classes.length;
    } else if (c === 'none') continue;
    if (!part) return undefined;
    bytes.set(part.subarray(0, Math.min(part.length, bytes.length - at)), at);
  }
  return { type, place: { kind: 'none' }, bytes: bytes.subarray(0, size) };
}

function word(v: bigint | undefined, size: number): Uint8Array | undefined {
  return v === undefined ? undefined : toBytes(v, size);
}

/** ST(i), 10 bytes (the gdbstub client gives the registers in stack order). */
function x87(registers: Map<string, bigint>, i: number): Uint8Array | undefined {
  return word(registers.get(`st${i}`), 10);
}

/** The psABI class of each eightbyte of a value of `type`, after the merger's clean-up. */
export function classify(type: Type): Class[] | 'memory' {
  const size = sizeOf(type);
  if (size === 0) return [];
  const t = stripTypedefs(type);
  // Scalars beyond 8 bytes: long double, __int128, complex numbers.
  if (t.kind === 'base' && t.encoding === DW_ATE.float && size > 8) return ['x87', 'x87up'];
  if (t.kind === 'base' && t.encoding === DW_ATE_complex_float && size === 32) return ['complex-x87'];
  if (size > 16) return 'memory';
  const classes: Class[] = Array.from({ length: Math.ceil(size / 8) }, () => 'none');
  if (!place(type, 0, classes)) return 'memory';
  if (classes.includes('memory')) return 'memory';
  for (let i = 0; i < classes.length; i++) {
    if (classes[i] === 'x87up' && classes[i - 1] !== 'x87') return 'memory';
  }
  return classes;
}

/** Merges the classes of `type`'s scalars at `offset` into `classes`; false for unaligned fields. */
function place(type: Type, offset: number, classes: Class[]): boolean {
  const t = stripTypedefs(type);
  switch (t.kind) {
    case 'struct':
    case 'union':
    case 'class':
      for (const m of t.members) {
        if (m.bitSize !== undefined) {
          merge(classes, offset + Math.floor((m.bitOffset ?? 0) / 64) * 8, 'integer');
          continue;
        }
        const at = offset + m.offset;
        const ms = sizeOf(m.type);
        if (ms && at % Math.min(ms, 8) !== 0 && stripTypedefs(m.type).kind === 'base') return false;
        if (!place(m.type, at, classes)) return false;
      }
      return true;
    case 'array': {
      const n = t.dims.reduce<number>((a, d) => a * (d ?? 0), 1);
      const es = sizeOf(t.element);
      for (let i = 0; i < n; i++) if (!place(t.element, offset + i * es, classes)) return false;
      return true;
    }
    case 'base': {
      if (t.encoding === DW_ATE.float) {
        if (t.size > 8) {
          merge(classes, offset, 'x87');
          merge(classes, offset + 8, 'x87up');
        } else merge(classes, offset, 'sse');
        return true;
      }
      if (t.encoding === DW_ATE_complex_float) {
        // _Complex float: one eightbyte; _Complex double: two; _Complex long double: X87 pairs.
        if (t.size > 16) merge(classes, offset, 'memory');
        else for (let at = offset; at < offset + t.size; at += 8) merge(classes, at, 'sse');
        return true;
      }
      for (let at = offset; at < offset + t.size; at += 8) merge(classes, at, 'integer');
      return true;
    }
    default:
      merge(classes, offset, 'integer');
      return true;
  }
}

/** psABI's merger of a field's class into its eightbyte's. */
function merge(classes: Class[], offset: number, c: Class): void {
  const i = Math.floor(offset / 8);
  const old = classes[i];
  if (old === undefined) return;
  if (old === c || c === 'none') return;
  if (old === 'none') classes[i] = c;
  else if (old === 'memory' || c === 'memory') classes[i] = 'memory';
  else if (old === 'integer' || c === 'integer') classes[i] = 'integer';
  else if ([old, c].some((x) => x === 'x87' || x === 'x87up' || x === 'complex-x87')) classes[i] = 'memory';
  else classes[i] = 'sse';
}
