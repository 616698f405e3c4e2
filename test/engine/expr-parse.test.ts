import { describe, expect, it } from 'vitest';
import { ExprSyntaxError, normalizeBaseTypeName, parseExpression, typeNameToString, type Expr } from '../../src/engine/expr/index.js';

const SUFFIX = { int: '', 'unsigned int': 'u', long: 'l', 'unsigned long': 'ul', 'long long': 'll', 'unsigned long long': 'ull' } as const;

/** Fully parenthesized rendering, so precedence and associativity show in one string. */
function show(e: Expr): string {
  switch (e.kind) {
    case 'int':
      return `${e.value}${SUFFIX[e.type]}`;
    case 'float':
      return String(e.value);
    case 'char':
      return `'${String.fromCharCode(e.value)}'`;
    case 'string':
      return JSON.stringify(e.value);
    case 'ident':
      return e.name;
    case 'dollar':
      return `$${e.name}`;
    case 'member':
      return `${show(e.object)}${e.arrow ? '->' : '.'}${e.name}`;
    case 'index':
      return `${show(e.object)}[${show(e.index)}]`;
    case 'unary':
      return `(${e.op}${show(e.operand)})`;
    case 'incdec':
      return e.prefix ? `(${e.op}${show(e.operand)})` : `(${show(e.operand)}${e.op})`;
    case 'sizeofType':
      return `sizeof(${typeNameToString(e.type)})`;
    case 'sizeofExpr':
      return `sizeof ${show(e.operand)}`;
    case 'cast':
      return `((${typeNameToString(e.type)})${show(e.operand)})`;
    case 'binary':
      return `(${show(e.left)} ${e.op} ${show(e.right)})`;
    case 'ternary':
      return `(${show(e.cond)} ? ${show(e.then)} : ${show(e.else)})`;
    case 'assign':
      return `(${show(e.target)} ${e.op} ${show(e.value)})`;
    case 'repeat':
      return `(${show(e.object)}@${show(e.count)})`;
    case 'at':
      return `({${typeNameToString(e.type)}} ${show(e.address)})`;
  }
}

const typedefs = new Set(['u64', 'thread_fn']);
const p = (s: string) => show(parseExpression(s, { isTypeName: (n) => typedefs.has(n) }));

describe('parseExpression', () => {
  it.each([
    ['1 + 2 * 3', '(1 + (2 * 3))'],
    ['a - b - c', '((a - b) - c)'],
    ['a = b = 3', '(a = (b = 3))'],
    ['x << 2 + 1', '(x << (2 + 1))'],
    ['a && b || c && d', '((a && b) || (c && d))'],
    ['a == b & c', '((a == b) & c)'],
    ['c ? x : y ? 1 : 2', '(c ? x : (y ? 1 : 2))'],
    ['-*p', '(-(*p))'],
    ['*p->next', '(*p->next)'],
    ['&t->name[2]', '(&t->name[2])'],
    ['list.head->next->value', 'list.head->next->value'],
    ['percpu[1].current_thread->name', 'percpu[1].current_thread->name'],
    ['(struct thread *)0x1000', '((struct thread *)4096)'],
    ['(unsigned long)p + 8', '(((unsigned long)p) + 8)'],
    ['(u64)x', '((u64)x)'],
    ['(char **)argv', '((char **)argv)'],
    // Function pointer and pointer-to-array types, as gdb takes them in casts.
    ['(void (*)(void))ukarch_ctx_switch', '((void (*)(void))ukarch_ctx_switch)'],
    ['(void (*)())f', '((void (*)(void))f)'],
    ['(int (**)(int, char **, ...))p', '((int (**)(int, char **, ...))p)'],
    ['(struct uk_thread *(*)(struct uk_sched *))f', '((struct uk_thread *(*)(struct uk_sched *))f)'],
    ['(int (*)[4])p', '((int (*)[4])p)'],
    ['sizeof(void (*)(int))', 'sizeof(void (*)(int))'],
    ['(x)', 'x'],
    ['(x) + 1', '(x + 1)'],
    ['sizeof(struct thread)', 'sizeof(struct thread)'],
    ['sizeof x + 1', '(sizeof x + 1)'],
    ['sizeof(long unsigned int)', 'sizeof(unsigned long)'],
    ['arr[0]@4', '(arr[0]@4)'],
    ['{int} 0x1000', '({int} 4096)'],
    ['$rip + 4', '($rip + 4)'],
    // gdb's value history and convenience variables.
    ['$ + $$ + $$3 + $7 + $x', '(((($ + $$) + $$3) + $7) + $x)'],
    ['$i++ < 3', '(($i++) < 3)'],
    ['--*p + a--', '((--(*p)) + (a--))'],
    ['-x++', '(-(x++))'],
    ['demo_counter += 2', '(demo_counter += 2)'],
    ['0x10u + 010 + 0b101 + 7UL', '(((16u + 8) + 5) + 7ul)'],
    ["'a' + '\\n'", "('a' + '\n')"],
    ['1.5e3', '1500'],
    ['a, b', '(a , b)'],
  ])('%s', (src, want) => {
    expect(p(src)).toBe(want);
  });

  it.each([
    ['', 'expression ends too early at column 1'],
    ['1 +', 'expression ends too early at column 4'],
    ['(1 + 2', "expected ')' but found end of expression at column 7"],
    ['a b', "unexpected 'b' at column 3"],
    ['f(1)', 'calling functions in the guest is not supported at column 2'],
    ['a.+', "expected a member name after '.' at column 3"],
    ['#', "unexpected character '#' at column 1"],
    ['"abc', 'unterminated string at column 1'],
    ['0x', "malformed number '0x' at column 1"],
    ['99999999999999999999999', 'Numeric constant too large. at column 1'],
    ['18446744073709551616', 'Numeric constant too large. at column 1'],
    ['1lul', "invalid suffix 'lul' on an integer at column 1"],
    ['1uu', "invalid suffix 'uu' on an integer at column 1"],
    ['(unsigned signed)x', "conflicting 'unsigned' and 'signed' at column 2"],
    ['int', "'int' names a type, not a value at column 1"],
    ['$$x', "'$$x' is neither a register, a variable nor a history reference at column 1"],
  ])('rejects %j', (src, msg) => {
    expect(() => parseExpression(src)).toThrow(ExprSyntaxError);
    expect(() => parseExpression(src)).toThrow(msg);
  });

  // C11 6.4.4.1 as gdb 13 applies it on x86-64 (each row checked with `ptype` in gdb 13.1): a hex,
  // octal or binary constant may take the unsigned type of a rank, a decimal one only with `u`; and
  // a decimal too big for long is unsigned long in gdb, where C would need an extended type.
  it.each([
    ['1', 'int'],
    ['2147483647', 'int'],
    ['2147483648', 'long'],
    ['4294967295', 'long'],
    ['9223372036854775807', 'long'],
    ['9223372036854775808', 'unsigned long'],
    ['18446744073709551615', 'unsigned long'],
    ['0x7fffffff', 'int'],
    ['0x80000000', 'unsigned int'],
    ['0xffffffff', 'unsigned int'],
    ['0x100000000', 'long'],
    ['0x7fffffffffffffff', 'long'],
    ['0x8000000000000000', 'unsigned long'],
    ['0xffffffff81002470', 'unsigned long'],
    ['037777777777', 'unsigned int'],
    ['0b11111111111111111111111111111111', 'unsigned int'],
    ['1u', 'unsigned int'],
    ['4294967296u', 'unsigned long'],
    ['1l', 'long'],
    ['0x80000000l', 'long'],
    ['2147483648l', 'long'],
    ['0x8000000000000000l', 'unsigned long'],
    ['9223372036854775808l', 'unsigned long'],
    ['1ul', 'unsigned long'],
    ['1lu', 'unsigned long'],
    ['1ll', 'long long'],
    ['1LL', 'long long'],
    ['0xffffffff81002470ll', 'unsigned long long'],
    ['1uLL', 'unsigned long long'],
  ])('types the constant %s as %s', (src, type) => {
    const e = parseExpression(src);
    expect(e.kind === 'int' && e.type).toBe(type);
  });

  it('bounds nesting instead of overflowing the stack', () => {
    expect(() => parseExpression('('.repeat(10_000) + '1' + ')'.repeat(10_000))).toThrow(/nested deeper than 200 levels/);
    expect(() => parseExpression('!'.repeat(10_000) + '1')).toThrow(/nested deeper/);
  });
});

describe('normalizeBaseTypeName', () => {
  it.each([
    [['long', 'unsigned', 'int'], 'unsigned long'],
    [['long', 'long', 'int'], 'long long'],
    [['unsigned'], 'unsigned int'],
    [['short', 'unsigned', 'int'], 'unsigned short'],
    [['signed', 'char'], 'signed char'],
    [['char'], 'char'],
    [['long', 'double'], 'long double'],
    [['signed', 'int'], 'int'],
    [['bool'], '_Bool'],
  ])('%j -> %s', (words, want) => {
    expect(normalizeBaseTypeName(words)).toBe(want);
  });
});
