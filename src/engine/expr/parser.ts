// Precedence-climbing parser for C expressions with gdb's extensions. Casts need to know which
// identifiers name types, so the caller supplies `isTypeName` (typedefs from DWARF).
import type { AssignOp, BinaryOp, Expr, TypeDeclarator, TypeName } from './ast.js';
import { ExprSyntaxError, tokenize, type Token } from './lexer.js';

export interface ParseOptions {
  /** True when `name` is a typedef (or other type name) in scope. */
  isTypeName?: (name: string) => boolean;
}

// Binary operators by precedence level, lowest first (C, with gdb's `@` between shifts and +/-).
const LEVELS: BinaryOp[][] = [
  ['||'],
  ['&&'],
  ['|'],
  ['^'],
  ['&'],
  ['==', '!='],
  ['<', '>', '<=', '>='],
  ['<<', '>>'],
  ['@' as BinaryOp],
  ['+', '-'],
  ['*', '/', '%'],
];
const ASSIGN = new Set(['=', '*=', '/=', '%=', '+=', '-=', '<<=', '>>=', '&=', '^=', '|=']);
const TYPE_WORDS = new Set([
  'void',
  'char',
  'short',
  'int',
  'long',
  'float',
  'double',
  'signed',
  'unsigned',
  '_Bool',
  'bool',
  'struct',
  'union',
  'enum',
  'const',
  'volatile',
  'restrict',
]);
const MAX_DEPTH = 200;

export function parseExpression(src: string, opts: ParseOptions = {}): Expr {
  const p = new Parser(tokenize(src), opts);
  const e = p.comma();
  p.expectEnd();
  return e;
}

class Parser {
  private i = 0;
  private depth = 0;

  constructor(
    private readonly toks: Token[],
    private readonly opts: ParseOptions,
  ) {}

  expectEnd(): void {
    const t = this.peek();
    if (t.kind !== 'end') throw new ExprSyntaxError(`unexpected ${describe(t)}`, t.pos);
  }

  comma(): Expr {
    let left = this.assignment();
    while (this.isPunct(',')) {
      const pos = this.next().pos;
      left = { kind: 'binary', op: ',', left, right: this.assignment(), pos };
    }
    return left;
  }

  private assignment(): Expr {
    const target = this.ternary();
    const t = this.peek();
    if (t.kind === 'punct' && ASSIGN.has(t.value)) {
      this.next();
      return { kind: 'assign', op: t.value as AssignOp, target, value: this.nested(() => this.assignment()), pos: t.pos };
    }
    return target;
  }

  private ternary(): Expr {
    const cond = this.binary(0);
    if (!this.isPunct('?')) return cond;
    const pos = this.next().pos;
    const then = this.nested(() => this.comma());
    this.expectPunct(':');
    return { kind: 'ternary', cond, then, else: this.nested(() => this.ternary()), pos };
  }

  private binary(level: number): Expr {
    if (level === LEVELS.length) return this.unary();
    let left = this.binary(level + 1);
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'punct' || !(LEVELS[level] as string[]).includes(t.value)) return left;
      this.next();
      const right = this.binary(level + 1);
      left =
        t.value === '@'
          ? { kind: 'repeat', object: left, count: right, pos: t.pos }
          : { kind: 'binary', op: t.value as BinaryOp, left, right, pos: t.pos };
    }
  }

  private unary(): Expr {
    return this.nested(() => {
      const t = this.peek();
      if (t.kind === 'punct') {
        switch (t.value) {
          case '-':
          case '+':
          case '!':
          case '~':
          case '*':
          case '&':
            this.next();
            return { kind: 'unary', op: t.value, operand: this.unary(), pos: t.pos };
          case '++':
          case '--':
            this.next();
            return { kind: 'incdec', op: t.value, prefix: true, operand: this.unary(), pos: t.pos };
          case '(':
            if (this.startsTypeName(1)) {
              this.next();
              const type = this.typeName();
              this.expectPunct(')');
              return { kind: 'cast', type, operand: this.unary(), pos: t.pos };
            }
            break;
          case '{': {
            this.next();
            const type = this.typeName();
            this.expectPunct('}');
            return { kind: 'at', type, address: this.unary(), pos: t.pos };
          }
        }
      }
      if (t.kind === 'ident' && t.value === 'sizeof') {
        this.next();
        if (this.isPunct('(') && this.startsTypeName(1)) {
          this.next();
          const type = this.typeName();
          this.expectPunct(')');
          return { kind: 'sizeofType', type, pos: t.pos };
        }
        return { kind: 'sizeofExpr', operand: this.unary(), pos: t.pos };
      }
      return this.postfix(this.primary());
    });
  }

  private postfix(e: Expr): Expr {
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'punct') return e;
      if (t.value === '[') {
        this.next();
        const index = this.nested(() => this.comma());
        this.expectPunct(']');
        e = { kind: 'index', object: e, index, pos: t.pos };
      } else if (t.value === '.' || t.value === '->') {
        this.next();
        const name = this.next();
        if (name.kind !== 'ident') throw new ExprSyntaxError(`expected a member name after '${t.value}'`, name.pos);
        e = { kind: 'member', object: e, name: name.value, arrow: t.value === '->', pos: t.pos };
      } else if (t.value === '(') {
        throw new ExprSyntaxError('calling functions in the guest is not supported', t.pos);
      } else if (t.value === '++' || t.value === '--') {
        this.next();
        e = { kind: 'incdec', op: t.value, prefix: false, operand: e, pos: t.pos };
      } else {
        return e;
      }
    }
  }

  private primary(): Expr {
    const t = this.next();
    switch (t.kind) {
      case 'int':
        return { kind: 'int', value: t.value, type: t.type, pos: t.pos };
      case 'float':
        return { kind: 'float', value: t.value, pos: t.pos };
      case 'char':
        return { kind: 'char', value: t.value, pos: t.pos };
      case 'string':
        return { kind: 'string', value: t.value, pos: t.pos };
      case 'dollar':
        return { kind: 'dollar', name: t.value, pos: t.pos };
      case 'ident':
        if (TYPE_WORDS.has(t.value) || this.opts.isTypeName?.(t.value))
          throw new ExprSyntaxError(`'${t.value}' names a type, not a value`, t.pos);
        return { kind: 'ident', name: t.value, pos: t.pos };
      case 'punct':
        if (t.value === '(') {
          const e = this.nested(() => this.comma());
          this.expectPunct(')');
          return e;
        }
        break;
      case 'end':
        throw new ExprSyntaxError('expression ends too early', t.pos);
    }
    throw new ExprSyntaxError(`unexpected ${describe(t)}`, t.pos);
  }

  private startsTypeName(ahead: number): boolean {
    const t = this.toks[this.i + ahead];
    return t?.kind === 'ident' && (TYPE_WORDS.has(t.value) || (this.opts.isTypeName?.(t.value) ?? false));
  }

  /** Specifiers then an abstract declarator: `*`s and `[N]`s, or `(*...)` with a parameter list or `[N]` after it. */
  private typeName(): TypeName {
    const start = this.peek().pos;
    const words: string[] = [];
    let tag: string | undefined;
    let typedef: string | undefined;
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'ident') break;
      if (t.value === 'const' || t.value === 'volatile' || t.value === 'restrict') {
        this.next();
      } else if (t.value === 'struct' || t.value === 'union' || t.value === 'enum') {
        this.next();
        const name = this.next();
        if (name.kind !== 'ident') throw new ExprSyntaxError(`expected a tag name after '${t.value}'`, name.pos);
        tag = `${t.value} ${name.value}`;
      } else if (TYPE_WORDS.has(t.value)) {
        this.next();
        words.push(t.value);
      } else if (!typedef && !tag && words.length === 0 && this.opts.isTypeName?.(t.value)) {
        typedef = t.value;
        this.next();
      } else {
        break;
      }
    }
    const kinds = [tag, typedef, words.length ? 'w' : undefined].filter(Boolean).length;
    if (kinds !== 1) throw new ExprSyntaxError('expected one type name', start);
    const base = tag ?? typedef ?? normalizeBaseTypeName(words, start);
    const declarators: TypeName['declarators'] = [];
    while (this.isPunct('*')) {
      this.next();
      while (this.peek().kind === 'ident' && ['const', 'volatile', 'restrict'].includes((this.peek() as { value: string }).value))
        this.next();
      declarators.push({ kind: 'pointer' });
    }
    while (this.isPunct('[')) {
      this.next();
      const n = this.next();
      if (n.kind !== 'int') throw new ExprSyntaxError('expected an array length', n.pos);
      this.expectPunct(']');
      declarators.push({ kind: 'array', length: Number(n.value) });
    }
    // `(*)(params)`, `(**)(params)`, `(*)[N]`: the stars inside apply last.
    if (this.isPunct('(') && this.toks[this.i + 1]?.kind === 'punct' && (this.toks[this.i + 1] as { value: string }).value === '*') {
      this.next();
      let stars = 0;
      while (this.isPunct('*')) {
        this.next();
        stars++;
      }
      this.expectPunct(')');
      if (this.isPunct('(')) declarators.push(this.parameterList());
      else if (this.isPunct('[')) {
        this.next();
        const n = this.next();
        if (n.kind !== 'int') throw new ExprSyntaxError('expected an array length', n.pos);
        this.expectPunct(']');
        declarators.push({ kind: 'array', length: Number(n.value) });
      } else throw new ExprSyntaxError("expected '(' or '[' after '(*)'", this.peek().pos);
      for (let k = 0; k < stars; k++) declarators.push({ kind: 'pointer' });
    }
    return { base, declarators };
  }

  /** `(void)`, `()`, `(int, char *, ...)`: a function declarator's parameters. */
  private parameterList(): TypeDeclarator {
    this.expectPunct('(');
    const params: TypeName[] = [];
    let varargs = false;
    while (!this.isPunct(')')) {
      if (params.length || varargs) this.expectPunct(',');
      if (this.isPunct('...')) {
        this.next();
        varargs = true;
        continue;
      }
      params.push(this.nested(() => this.typeName()));
    }
    this.expectPunct(')');
    // `(void)`: no parameters.
    if (params.length === 1 && params[0]!.base === 'void' && params[0]!.declarators.length === 0) params.length = 0;
    return { kind: 'function', params, varargs };
  }

  private nested<T>(f: () => T): T {
    if (++this.depth > MAX_DEPTH) throw new ExprSyntaxError(`expression nested deeper than ${MAX_DEPTH} levels`, this.peek().pos);
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  private peek(): Token {
    return this.toks[this.i]!;
  }

  private next(): Token {
    const t = this.toks[this.i]!;
    if (t.kind !== 'end') this.i++;
    return t;
  }

  private isPunct(v: string): boolean {
    const t = this.peek();
    return t.kind === 'punct' && t.value === v;
  }

  private expectPunct(v: string): void {
    const t = this.next();
    if (t.kind !== 'punct' || t.value !== v) throw new ExprSyntaxError(`expected '${v}' but found ${describe(t)}`, t.pos);
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'end':
      return 'end of expression';
    case 'punct':
      return `'${t.value}'`;
    case 'ident':
      return `'${t.value}'`;
    case 'dollar':
      return `'$${t.value}'`;
    case 'int':
      return `number ${t.value}`;
    default:
      return t.kind;
  }
}

/**
 * One spelling per C base type, as gdb prints them: "unsigned long", "long long", "unsigned char",
 * "_Bool". DWARF names ("long unsigned int") are normalized with the same function.
 */
export function normalizeBaseTypeName(words: string[], pos = 0): string {
  let sign = '';
  let longs = 0;
  let short = false;
  let core = '';
  for (const w of words) {
    if (w === 'signed' || w === 'unsigned') {
      if (sign) throw new ExprSyntaxError(`conflicting '${sign}' and '${w}'`, pos);
      sign = w;
    } else if (w === 'long') longs++;
    else if (w === 'short') short = true;
    else if (w === 'int' && !core) core = 'int';
    else if (['char', 'float', 'double', 'void', '_Bool', 'bool'].includes(w) && (!core || core === 'int'))
      core = w === 'bool' ? '_Bool' : w;
    else throw new ExprSyntaxError(`invalid type '${words.join(' ')}'`, pos);
  }
  if (longs > 2 || (short && longs) || ((short || longs) && core && core !== 'int' && !(core === 'double' && longs === 1))) {
    throw new ExprSyntaxError(`invalid type '${words.join(' ')}'`, pos);
  }
  if (core === 'double') return longs ? 'long double' : 'double';
  if (core && core !== 'int') return sign && core === 'char' ? `${sign} char` : core;
  const size = short ? 'short' : longs === 2 ? 'long long' : longs === 1 ? 'long' : '';
  if (sign === 'unsigned') return size ? `unsigned ${size}` : 'unsigned int';
  return size || 'int';
}
