// gdb's `ptype`: a type with one level of struct/union/enum body spelled out.
import { stripTypedefs, typeName, type Type } from './types.js';

export function ptype(t: Type): string {
  return expand(t, '', 0);
}

function expand(t: Type, indent: string, depth: number): string {
  // ptype looks through typedefs at the top, then prints the declarator around the body.
  let declarator = '';
  let inner: Type = t;
  for (let i = 0; i < 64; i++) {
    if (inner.kind === 'typedef') inner = inner.target;
    else if (inner.kind === 'pointer' && stripTypedefs(inner.target).kind !== 'function') {
      declarator = '*' + declarator;
      inner = inner.target;
    } else break;
  }
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
    if (inner.declaration && inner.members.length === 0) return `${inner.kind} ${inner.name ?? '{...}'} {\n${indent}    <incomplete type>\n${indent}}${suffix}`;
    const lines = inner.members.map((m) => {
      const body = !m.name || (stripTypedefs(m.type).kind !== 'struct' && stripTypedefs(m.type).kind !== 'union') || hasName(m.type)
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
