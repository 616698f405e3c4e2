// Tokens of the expression language; positions are 0-based columns for error messages.

export class ExprSyntaxError extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(`${message} at column ${pos + 1}`);
    this.name = 'ExprSyntaxError';
  }
}

/** The C type of an integer constant (C11 6.4.4.1, as gdb 13 applies it). */
export type IntLiteralType = 'int' | 'unsigned int' | 'long' | 'unsigned long' | 'long long' | 'unsigned long long';

export type Token =
  | { kind: 'int'; value: bigint; type: IntLiteralType; pos: number }
  | { kind: 'float'; value: number; pos: number }
  | { kind: 'char'; value: number; pos: number }
  | { kind: 'string'; value: string; pos: number }
  | { kind: 'ident'; value: string; pos: number }
  /** `$name`, `$N`, `$`, `$$`, `$$N`: the text after the first `$`. */
  | { kind: 'dollar'; value: string; pos: number }
  | { kind: 'punct'; value: string; pos: number }
  | { kind: 'end'; pos: number };

// Longest first so `<<=` wins over `<<` and `<`.
const PUNCT = [
  '...',
  '<<=',
  '>>=',
  '->',
  '++',
  '--',
  '<<',
  '>>',
  '<=',
  '>=',
  '==',
  '!=',
  '&&',
  '||',
  '*=',
  '/=',
  '%=',
  '+=',
  '-=',
  '&=',
  '^=',
  '|=',
  '+',
  '-',
  '*',
  '/',
  '%',
  '<',
  '>',
  '=',
  '!',
  '~',
  '&',
  '|',
  '^',
  '?',
  ':',
  ',',
  '.',
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  '@',
];

const MAX_EXPR = 64 * 1024;

export function tokenize(src: string): Token[] {
  if (src.length > MAX_EXPR) throw new ExprSyntaxError(`expression longer than ${MAX_EXPR} characters`, 0);
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      i = number(src, i, out);
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      while (i < src.length && /[A-Za-z0-9_]/.test(src[i]!)) i++;
      out.push({ kind: 'ident', value: src.slice(start, i), pos: start });
      continue;
    }
    if (c === '$') {
      // gdb's `$` words: registers, convenience variables, and the value history (`$`, `$$`, `$$2`, `$7`).
      i++;
      if (src[i] === '$') i++;
      while (i < src.length && /[A-Za-z0-9_]/.test(src[i]!)) i++;
      const word = src.slice(start + 1, i);
      if (word.startsWith('$') && !/^\$\d*$/.test(word))
        throw new ExprSyntaxError(`'$${word}' is neither a register, a variable nor a history reference`, start);
      out.push({ kind: 'dollar', value: word, pos: start });
      continue;
    }
    if (c === "'") {
      const [value, end] = quoted(src, i, "'");
      if (value.length !== 1) throw new ExprSyntaxError('a character constant holds exactly one character', start);
      out.push({ kind: 'char', value: value.charCodeAt(0), pos: start });
      i = end;
      continue;
    }
    if (c === '"') {
      const [value, end] = quoted(src, i, '"');
      out.push({ kind: 'string', value, pos: start });
      i = end;
      continue;
    }
    const p = PUNCT.find((q) => src.startsWith(q, i));
    if (!p) throw new ExprSyntaxError(`unexpected character '${c}'`, i);
    out.push({ kind: 'punct', value: p, pos: i });
    i += p.length;
  }
  out.push({ kind: 'end', pos: src.length });
  return out;
}

function number(src: string, i: number, out: Token[]): number {
  const start = i;
  const m =
    /^(0[xX][0-9a-fA-F]+|0[bB][01]+|[0-9]*\.[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+\.(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+|[0-9]+)([uUlLfF]*)/.exec(
      src.slice(i),
    );
  if (!m) throw new ExprSyntaxError('malformed number', i);
  const [all, digits, suffix] = m as unknown as [string, string, string];
  if (/[a-zA-Z0-9_]/.test(src[i + all.length] ?? ''))
    throw new ExprSyntaxError(`malformed number '${src.slice(i, i + all.length + 1)}'`, i);
  const isFloat = !/^0[xXbB]/.test(digits) && /[.eE]/.test(digits);
  if (isFloat) {
    out.push({ kind: 'float', value: Number(digits), pos: start });
  } else {
    if (/[fF]/.test(suffix)) throw new ExprSyntaxError(`invalid suffix '${suffix}' on an integer`, i);
    const value = /^0[0-7]+$/.test(digits) ? BigInt('0o' + digits.slice(1)) : BigInt(digits);
    if (value >= 1n << 64n) throw new ExprSyntaxError('Numeric constant too large.', i);
    out.push({ kind: 'int', value, type: intLiteralType(value, /^[1-9]|^0$/.test(digits), suffix, i), pos: start });
  }
  return i + all.length;
}

const RANKS = [
  ['int', 'unsigned int', 0x7fffffffn, 0xffffffffn],
  ['long', 'unsigned long', (1n << 63n) - 1n, (1n << 64n) - 1n],
  ['long long', 'unsigned long long', (1n << 63n) - 1n, (1n << 64n) - 1n],
] as const;

/**
 * C's first type of the suffix's rank that holds the value: signed, then (for octal, hex and
 * binary, or a `u` suffix) unsigned of the same rank. Without `ll` the ranks stop at long; a decimal
 * too big for `long` is `unsigned long`, as gdb has it (C would go on to an extended type).
 */
function intLiteralType(value: bigint, decimal: boolean, suffix: string, pos: number): IntLiteralType {
  const m = /^(?:([uU]?)(l|L|ll|LL)?|(l|L|ll|LL)([uU]))$/.exec(suffix);
  if (!m) throw new ExprSyntaxError(`invalid suffix '${suffix}' on an integer`, pos);
  const unsigned = !!(m[1] || m[4]);
  const longs = (m[2] ?? m[3] ?? '').length;
  const ranks = RANKS.slice(longs, Math.max(longs, 1) + 1);
  for (const [signed, uns, smax, umax] of ranks) {
    if (!unsigned && value <= smax) return signed;
    if ((unsigned || !decimal) && value <= umax) return uns;
  }
  return ranks[ranks.length - 1]![1];
}

const ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
  e: '\x1b',
};

/** The C escape whose backslash is at src[i]: its character and length (octal and hex included), or undefined. */
export function readEscape(src: string, i: number): { char: string; length: number } | undefined {
  const rest = src.slice(i + 1);
  const num = /^[0-7]{1,3}/.exec(rest) ?? /^x([0-9a-fA-F]{1,2})/.exec(rest);
  if (num) return { char: String.fromCharCode(num[1] ? parseInt(num[1], 16) : parseInt(num[0], 8)), length: 1 + num[0].length };
  const named = ESCAPES[rest[0] ?? ''];
  return named === undefined ? undefined : { char: named, length: 2 };
}

function quoted(src: string, i: number, q: string): [string, number] {
  let out = '';
  const start = i;
  i++;
  while (i < src.length && src[i] !== q) {
    if (src[i] === '\\') {
      const e = readEscape(src, i);
      if (!e) throw new ExprSyntaxError(src[i + 1] === 'x' ? '\\x needs hex digits' : `unknown escape '\\${src[i + 1] ?? ''}'`, i);
      out += e.char;
      i += e.length;
      continue;
    }
    out += src[i];
    i++;
  }
  if (i >= src.length) throw new ExprSyntaxError(`unterminated ${q === '"' ? 'string' : 'character constant'}`, start);
  return [out, i + 1];
}
