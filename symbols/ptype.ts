// gdb's `ptype`: a type with one level of struct/union/enum body spelled out.
import { sizeOf, stripQualifiers, stripTypedefs, typeName, type Type } from './types.js';

export function ptype(t: Type): string {
  return expand(t, '', 0);
}

/** ptype looks through typedefs and data pointers at the top, then prints the `*`s after the body. */
function peel(t: Type): { inner: Type; declarator: string } {
  let declarator = '';
  let inner: Type = t;
  for (let i = 0; i < 64; i++) {
    if (inner.kind === 'typedef') inner = inner.target;
    else if (inner.kind === 'pointer' && stripTypedefs(inner.target).kind !== 'function') {
      declarator = '*' + declarator;
      inner = inner.target;
    } else break;
  }
  return { inner, declarator };
}

function expand(t: Type, indent: string, depth: number): string {
  const { inner, declarator } = peel(t);
  const suffix = declarator ? ` ${declarator}` : '';
  if (inner.kind === 'enum') {
    let next = 0n;
    const items = inner.enumerators.map((e) => {
      const s = e.value === next ? e.name : `${e.name} = ${e.value}`;
      next = e.value + 1n;
      return s;
    });
    return `enum ${inner.name ? inner.name + ' ' : ''}{${items.join(', ')}}${suffix}`;
  }
  if ((inner.kind === 'struct' || inner.kind === 'union' || inner.kind === 'class') && depth < 8) {
    if (inner.declaration && inner.members.length === 0)
      return `${inner.kind} ${inner.name ?? '{...}'} {\n${indent}    <incomplete type>\n${indent}}${suffix}`;
    const lines = inner.members.map((m) => {
      const body =
        !m.name || (stripTypedefs(m.type).kind !== 'struct' && stripTypedefs(m.type).kind !== 'union') || hasName(m.type)
          ? typeName(m.type, m.name ?? '')
          : `${expand(m.type, indent + '    ', depth + 1)} ${m.name}`;
      return `${indent}    ${body}${m.bitSize !== undefined ? ` : ${m.bitSize}` : ''};`;
    });
    return `${inner.kind} ${inner.name ? inner.name + ' ' : ''}{\n${lines.join('\n')}\n${indent}}${suffix}`;
  }
  return typeName(t === inner ? t : withPointers(inner, declarator.length));
}

function hasName(t: Type): boolean {
  const s = stripTypedefs(t);
  return t.kind === 'typedef' || ((s.kind === 'struct' || s.kind === 'union') && s.name !== undefined);
}

function withPointers(t: Type, n: number): Type {
  for (let i = 0; i < n; i++) t = { kind: 'pointer', target: t, size: 8 };
  return t;
}

/** Where gdb's `ptype /o` puts a member's declaration: after the `/* offset | size *\/` column. */
const OFFSET_COLUMN = 27;

const spaces = (n: number) => ' '.repeat(n);
const pad = (n: number, width: number) => String(n).padStart(width);

function qualifiers(t: Type): string {
  let out = '';
  for (let i = 0; i < 64 && t.kind === 'qualified'; i++, t = t.target) out += `${t.qualifier} `;
  return out;
}

/**
 * gdb's `ptype /o`: the struct or union with each member's offset and size, holes and trailing
 * padding, and members that are structs or unions (not through typedefs) expanded in place.
 * gdb's own bookkeeping is kept as it is, quirks included: a nested aggregate starts its hole
 * check from its own offset in its parent, and union members show sizes only.
 */
export function ptypeOffsets(t: Type): string {
  const { inner, declarator } = peel(t);
  const aggregate = stripQualifiers(inner);
  if ((aggregate.kind !== 'struct' && aggregate.kind !== 'union') || (aggregate.declaration && aggregate.members.length === 0))
    return `type = ${ptype(t)}`;
  const header = stripQualifiers(t).kind === 'struct' || stripQualifiers(t).kind === 'union' ? '/* offset      |    size */  ' : '';
  const lines = body(aggregate, 0, 0, 0);
  lines[0] = `${header}type = ${qualifiers(inner)}${lines[0]}`;
  lines.push(`${spaces(OFFSET_COLUMN + 2)}}${declarator ? ` ${declarator}` : ''}`);
  return lines.join('\n');
}

/** The lines of an aggregate at `level` from its `{` line to its total size (the caller closes it). */
function body(t: Type & { kind: 'struct' | 'union' | 'class' }, level: number, offsetBits: number, endStart: number, depth = 0): string[] {
  const lines = [`${t.kind} ${t.name ? `${t.name} ` : ''}{`];
  let end = endStart;
  const hole = (bitpos: number, what: string) => {
    if (end <= 0 || end >= bitpos) return;
    const bits = (bitpos - end) % 8;
    const bytes = Math.floor((bitpos - end) / 8);
    if (bits) lines.push(`/* XXX ${pad(bits, 2)}-bit ${what.padEnd(7)}    */`);
    if (bytes) lines.push(`/* XXX ${pad(bytes, 2)}-byte ${what.padEnd(7)}   */`);
  };
  for (const m of t.members) {
    const size = sizeOf(m.type);
    const bitpos = m.bitSize !== undefined ? (m.bitOffset ?? m.offset * 8) : m.offset * 8;
    let column: string;
    if (t.kind === 'union') column = `/*${spaces(16)}${pad(size, 6)} */`;
    else {
      hole(bitpos, 'hole');
      const at = bitpos + offsetBits;
      const bitwise = m.bitSize !== undefined || offsetBits % 8 !== 0;
      column = `/* ${pad(Math.floor(at / 8), 6)}${bitwise ? `:${pad(at % 8, 2)}` : '   '}   |  ${pad(size, 6)} */`;
      end = bitpos + (m.bitSize ?? size * 8);
    }
    const mt = stripQualifiers(m.type);
    if ((mt.kind === 'struct' || mt.kind === 'union') && depth < 8 && !(mt.declaration && mt.members.length === 0)) {
      const nested = body(mt, level + 4, offsetBits + bitpos, end - size * 8, depth + 1);
      lines.push(`${column}${spaces(level + 4)}${qualifiers(m.type)}${nested[0]}`, ...nested.slice(1));
      lines.push(`${spaces(OFFSET_COLUMN + level + 4)}}${m.name ? ` ${m.name}` : ''};`);
    } else {
      lines.push(`${column}${spaces(level + 4)}${typeName(m.type, m.name ?? '')}${m.bitSize !== undefined ? ` : ${m.bitSize}` : ''};`);
    }
  }
  hole(sizeOf(t) * 8, 'padding');
  lines.push('', `${spaces(OFFSET_COLUMN + level + 4)}/* total size (bytes): ${pad(sizeOf(t), 4)} */`);
  return lines;
}
