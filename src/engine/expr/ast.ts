// Syntax tree of the C expressions (plus gdb's `$reg`/`$var`/`$N`, `{type} addr` and `array@count`) that
// print, conditions, watch and DAP evaluate accept.

import type { IntLiteralType } from './lexer.js';

/** A type as written in a cast or sizeof: base specifiers, then pointer and array declarators. */
export interface TypeName {
  /** `int`, `unsigned long`, `struct thread`, a typedef name, ... as normalized words. */
  base: string;
  /** Outermost last: `char *[4]` is [{ptr}, {array 4}] read right to left as C does. */
  declarators: Array<{ kind: 'pointer' } | { kind: 'array'; length: number }>;
}

export type Expr =
  | { kind: 'int'; value: bigint; type: IntLiteralType; pos: number }
  | { kind: 'float'; value: number; pos: number }
  | { kind: 'char'; value: number; pos: number }
  | { kind: 'string'; value: string; pos: number }
  | { kind: 'ident'; name: string; pos: number }
  /** `$...`: a register, a convenience variable or a value-history entry (the text after `$`). */
  | { kind: 'dollar'; name: string; pos: number }
  | { kind: 'member'; object: Expr; name: string; arrow: boolean; pos: number }
  | { kind: 'index'; object: Expr; index: Expr; pos: number }
  | { kind: 'unary'; op: '-' | '+' | '!' | '~' | '*' | '&'; operand: Expr; pos: number }
  | { kind: 'incdec'; op: '++' | '--'; prefix: boolean; operand: Expr; pos: number }
  | { kind: 'sizeofType'; type: TypeName; pos: number }
  | { kind: 'sizeofExpr'; operand: Expr; pos: number }
  | { kind: 'cast'; type: TypeName; operand: Expr; pos: number }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr; pos: number }
  | { kind: 'ternary'; cond: Expr; then: Expr; else: Expr; pos: number }
  | { kind: 'assign'; op: AssignOp; target: Expr; value: Expr; pos: number }
  | { kind: 'repeat'; object: Expr; count: Expr; pos: number }
  | { kind: 'at'; type: TypeName; address: Expr; pos: number };

export type BinaryOp =
  | '*' | '/' | '%' | '+' | '-' | '<<' | '>>' | '<' | '>' | '<=' | '>=' | '==' | '!=' | '&' | '^' | '|' | '&&' | '||' | ',';

export type AssignOp = '=' | '*=' | '/=' | '%=' | '+=' | '-=' | '<<=' | '>>=' | '&=' | '^=' | '|=';

export function typeNameToString(t: TypeName): string {
  let s = t.base;
  let suffix = '';
  for (const d of t.declarators) {
    if (d.kind === 'pointer') s += s.endsWith('*') ? '*' : ' *';
    else suffix += `[${d.length}]`;
  }
  return s + suffix;
}
