// Syntax tree of the C expressions (plus gdb's `$reg`/`$var`/`$N`, `{type} addr` and `array@count`) that
// print, conditions, watch and DAP evaluate accept.

import type { IntLiteralType } from './lexer.js';

/** A type as written in a cast or sizeof: base specifiers, then pointer and array declarators. */
export interface TypeName {
  /** `int`, `unsigned long`, `struct thread`, a typedef name, ... as normalized words. */
  base: string;
  /**
   * Applied to the base in order: `char *[4]` is [{ptr}, {array 4}], an array of 4 pointers;
   * `void (*)(int)` is [{function (int)}, {ptr}], a pointer to a function.
   */
  declarators: TypeDeclarator[];
}

export type TypeDeclarator =
  { kind: 'pointer' } | { kind: 'array'; length: number } | { kind: 'function'; params: TypeName[]; varargs: boolean };

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
  '*' | '/' | '%' | '+' | '-' | '<<' | '>>' | '<' | '>' | '<=' | '>=' | '==' | '!=' | '&' | '^' | '|' | '&&' | '||' | ',';

export type AssignOp = '=' | '*=' | '/=' | '%=' | '+=' | '-=' | '<<=' | '>>=' | '&=' | '^=' | '|=';

export function typeNameToString(t: TypeName): string {
  // Outermost declarator first, as C writes them: `char *[4]`, `void (*)(int)`.
  let decl = '';
  for (const d of [...t.declarators].reverse()) {
    if (d.kind === 'pointer') {
      decl = `*${decl}`;
      continue;
    }
    const inner = decl.startsWith('*') ? `(${decl})` : decl;
    decl =
      d.kind === 'array'
        ? `${inner}[${d.length}]`
        : `${inner}(${[...d.params.map(typeNameToString), ...(d.varargs ? ['...'] : [])].join(', ') || 'void'})`;
  }
  return decl ? `${t.base} ${decl}` : t.base;
}
