// C expressions (with gdb's $registers, {type} addr and array@count) evaluated against a frame:
// identifiers in scope, globals, members, indexing, pointers, casts, arithmetic, comparison,
// sizeof and assignment to memory and registers.
import { evaluateLocation, type Location, type Piece } from '../../symbols/expr/index.js';
import {
  dwarfRegisterName,
  dwarfRegisterNumber,
  NODEBUG_TEXT,
  nodebugData,
  sizeOf,
  X86_64,
  stripTypedefs,
  typeName,
  type ExprWithContext,
  type Type,
  type VariableInfo,
} from '../../symbols/index.js';
import type { Target } from '../targets/index.js';
import { REG_ALIASES } from '../targets/x86_64.js';
import { parseExpression, type Expr, type TypeName } from './expr/index.js';
import type { Program } from './program.js';
import { memoryReader, type FrameContext } from './stack.js';
import { registerFlags } from './register-flags.js';
import {
  asInteger,
  asNumber,
  DW_ATE,
  elementValue,
  fromBytes,
  isSigned,
  load,
  memberValue,
  toBytes,
  type Value,
  type ValueReader,
} from './values.js';

export class EvalError extends Error {
  override name = 'EvalError';
}

export interface EvalContext {
  target: Target;
  program?: Program;
  /** The frame names are looked up in (undefined: globals only). */
  frame?: FrameContext;
  /** All registers of the innermost frame (for $eflags, $cr3 and other non-DWARF registers). */
  registers?: Map<string, bigint>;
  reader: ValueReader;
  /**
   * The physical frames that called `frame`, innermost first: entry values come from the first
   * one's call site, whose values may need its own caller's (an argument passed on unchanged).
   */
  callers?: FrameContext[];
  /** gdb's convenience variables (`$x`), by name without the `$`; assignments to `$x` store here. */
  convenience?: Map<string, Value>;
  /** gdb's value history, `$1` first (`$`, `$$`, `$$N` count back from the last). */
  history?: readonly Value[];
  /** Writes a register of the innermost frame (the session owns it: a PC write moves its stop). */
  writeRegister?(name: string, value: bigint): Promise<void>;
}

const base = (name: string, size: number, encoding: number): Type => ({ kind: 'base', name, size, encoding });
export const T = {
  int: base('int', 4, DW_ATE.signed),
  uint: base('unsigned int', 4, DW_ATE.unsigned),
  long: base('long', 8, DW_ATE.signed),
  ulong: base('unsigned long', 8, DW_ATE.unsigned),
  longlong: base('long long', 8, DW_ATE.signed),
  ulonglong: base('unsigned long long', 8, DW_ATE.unsigned),
  char: base('char', 1, DW_ATE.signed_char),
  double: base('double', 8, DW_ATE.float),
};
const BASE_NAMES: Record<string, Type> = {
  int: T.int,
  'signed int': T.int,
  signed: T.int,
  'unsigned int': T.uint,
  unsigned: T.uint,
  long: T.long,
  'long int': T.long,
  'signed long': T.long,
  'unsigned long': T.ulong,
  'long unsigned int': T.ulong,
  'long long': T.longlong,
  'unsigned long long': T.ulonglong,
  char: T.char,
  'signed char': base('signed char', 1, DW_ATE.signed_char),
  'unsigned char': base('unsigned char', 1, DW_ATE.unsigned_char),
  short: base('short', 2, DW_ATE.signed),
  'unsigned short': base('unsigned short', 2, DW_ATE.unsigned),
  double: T.double,
  float: base('float', 4, DW_ATE.float),
  _Bool: base('_Bool', 1, DW_ATE.boolean),
  bool: base('_Bool', 1, DW_ATE.boolean),
  void: { kind: 'void' },
};
const VOID_PTR: Type = { kind: 'pointer', target: { kind: 'void' }, size: 8 };
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;
const SHF_EXECINSTR = 0x4n;

const CODE_PTR: Type = {
  kind: 'pointer',
  target: { kind: 'function', returns: { kind: 'void' }, params: [], varargs: false, prototyped: false },
  size: 8,
};

function computed(type: Type, value: bigint | number): Value {
  const t = stripTypedefs(type);
  const size = sizeOf(type) || 8;
  if (t.kind === 'base' && t.encoding === DW_ATE.float) {
    const b = Buffer.alloc(size);
    if (size === 4) b.writeFloatLE(Number(value));
    else b.writeDoubleLE(Number(value));
    return { type, place: { kind: 'none' }, bytes: new Uint8Array(b) };
  }
  return { type, place: { kind: 'none' }, bytes: toBytes(typeof value === 'number' ? BigInt(Math.trunc(value)) : value, size) };
}

/** Parses and evaluates `text`. */
export async function evaluateText(ctx: EvalContext, text: string): Promise<Value> {
  return evaluate(ctx, parse(ctx, text));
}

/**
 * C's parse needs to know which names are types: those the program has, unless a variable hides one.
 * Variables are asked first: most names in an expression are variables, and a type search for a name
 * that is no type reads every unit's types. The parser asks about one name more than once: remembered.
 */
function parse(ctx: EvalContext, text: string): Expr {
  const known = new Map<string, boolean>();
  const isTypeName = (n: string) => {
    let is = known.get(n);
    if (is === undefined) known.set(n, (is = !lookupVariable(ctx, n) && !!ctx.program?.symbols.findType(n)));
    return is;
  };
  return parseExpression(text, { isTypeName });
}

/** The frame's locals and arguments `text` names (what gdb calls the expression's innermost block). */
export function localsNamed(ctx: EvalContext, text: string): VariableInfo[] {
  const expr = parse(ctx, text);
  const out = new Set<VariableInfo>();
  const walk = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    const e = node as { kind?: string; name?: string };
    if (e.kind === 'ident') {
      const local = ctx.frame?.scope?.variables.find((v) => v.name === e.name);
      if (local) out.add(local);
    }
    for (const child of Object.values(node)) walk(child);
  };
  walk(expr);
  return [...out];
}

function lookupVariable(ctx: EvalContext, name: string): VariableInfo | undefined {
  return ctx.frame?.scope?.variables.find((v) => v.name === name) ?? ctx.program?.symbols.findGlobal(name);
}

async function evaluate(ctx: EvalContext, e: Expr): Promise<Value> {
  switch (e.kind) {
    case 'int':
      return computed(BASE_NAMES[e.type]!, e.value);
    case 'float':
      return computed(T.double, e.value);
    case 'char':
      return computed(T.char, BigInt(e.value));
    case 'string': {
      const bytes = new Uint8Array([...Buffer.from(e.value, 'latin1'), 0]);
      return { type: { kind: 'array', element: T.char, dims: [bytes.length] }, place: { kind: 'none' }, bytes };
    }
    case 'ident':
      return variableValue(ctx, e.name);
    case 'dollar':
      return dollarValue(ctx, e.name);
    case 'member': {
      let obj = await evaluate(ctx, e.object);
      if (e.arrow) obj = await deref(ctx, obj);
      const s = stripTypedefs(obj.type);
      if (s.kind !== 'struct' && s.kind !== 'union' && s.kind !== 'class')
        throw new EvalError(`there is no member named ${e.name} (${typeName(obj.type)} is not a struct or union)`);
      const found = findMember(obj, s.members, e.name);
      if (!found) throw new EvalError(`There is no member named ${e.name}.`);
      return found;
    }
    case 'index': {
      const obj = await evaluate(ctx, e.object);
      const i = Number(await asInteger(ctx.reader, await evaluate(ctx, e.index)));
      const s = stripTypedefs(obj.type);
      if (s.kind === 'array') {
        const bound = s.dims[0];
        if (bound !== undefined && obj.place.kind !== 'memory' && (i < 0 || i >= bound)) throw new EvalError(`no such vector element`);
        return elementValue(obj, s, i);
      }
      if (s.kind === 'pointer') return deref(ctx, await pointerAdd(ctx, obj, BigInt(i)));
      throw new EvalError(`cannot subscript something of type '${typeName(obj.type)}'`);
    }
    case 'unary':
      return unary(ctx, e.op, e.operand);
    case 'sizeofType':
      return computed(T.ulong, BigInt(sizeOf(resolveTypeName(ctx, e.type))));
    case 'sizeofExpr': {
      const t = (await evaluate(ctx, e.operand)).type;
      // gdb's extension: a function has size 1 (as void does in its pointer arithmetic).
      return computed(T.ulong, BigInt(stripTypedefs(t).kind === 'function' ? 1 : sizeOf(t)));
    }
    case 'cast':
      return cast(ctx, await evaluate(ctx, e.operand), resolveTypeName(ctx, e.type));
    case 'binary':
      return binary(ctx, e.op, e.left, e.right);
    case 'ternary':
      return (await truthy(ctx, await evaluate(ctx, e.cond))) ? evaluate(ctx, e.then) : evaluate(ctx, e.else);
    case 'assign': {
      const target = await evaluate(ctx, e.target);
      let value = await evaluate(ctx, e.value);
      if (e.op !== '=') value = await binaryValues(ctx, e.op.slice(0, -1), target, value);
      return store(ctx, e.target, target, value);
    }
    case 'incdec': {
      const target = await evaluate(ctx, e.operand);
      const before = { ...target, bytes: await load(ctx.reader, target) };
      const after = await store(ctx, e.operand, target, await binaryValues(ctx, e.op === '++' ? '+' : '-', before, computed(T.int, 1n)));
      return e.prefix ? after : { ...before, place: { kind: 'none' } };
    }
    case 'repeat': {
      const obj = await evaluate(ctx, e.object);
      const n = Number(await asInteger(ctx.reader, await evaluate(ctx, e.count)));
      if (obj.place.kind !== 'memory') throw new EvalError("Only values in memory can be extended with '@'.");
      if (n <= 0 || n > 1 << 20) throw new EvalError(`bad repeat count ${n}`);
      return { type: { kind: 'array', element: obj.type, dims: [n] }, place: obj.place };
    }
    case 'at': {
      const type = resolveTypeName(ctx, e.type);
      const address = await asInteger(ctx.reader, await evaluate(ctx, e.address));
      return { type, place: { kind: 'memory', address: BigInt.asUintN(64, address) } };
    }
  }
}

function findMember(
  obj: Value,
  members: { name?: string; type: Type; offset: number; bitSize?: number; bitOffset?: number }[],
  name: string,
): Value | undefined {
  for (const m of members) {
    if (m.name === name) return memberValue(obj, m);
    // Anonymous struct/union members are searched through, as C does.
    if (m.name === undefined) {
      const inner = stripTypedefs(m.type);
      if (inner.kind === 'struct' || inner.kind === 'union') {
        const hit = findMember(memberValue(obj, m), inner.members, name);
        if (hit) return hit;
      }
    }
  }
  return undefined;
}

async function variableValue(ctx: EvalContext, name: string): Promise<Value> {
  const local = ctx.frame?.scope?.variables.find((v) => v.name === name);
  const v = local ?? ctx.program?.symbols.findGlobal(name);
  if (v) return variableInfoValue(ctx, v);
  const en = ctx.program?.symbols.findEnumerator(name);
  if (en) return computed(en.type, en.value);
  // A function designator: the function at its address (C turns it into a pointer where needed).
  const fn = ctx.program?.symbols.findFunction(name);
  if (fn) return { type: fn.type, place: { kind: 'memory', address: fn.address } };
  // An ELF symbol without debug info (assembly, linker symbols), typed as gdb types it: code is a
  // function of unknown type, data has no type until a cast gives it one.
  const sym = ctx.program?.symbols.findSymbol(name)[0];
  if (sym) {
    const section = ctx.program!.symbols.elf.sections[sym.shndx];
    const text = sym.type === STT_FUNC || sym.type === STT_GNU_IFUNC || (section !== undefined && (section.flags & SHF_EXECINSTR) !== 0n);
    return { type: text ? NODEBUG_TEXT : nodebugData(name), place: { kind: 'memory', address: sym.address } };
  }
  throw new EvalError(`No symbol "${name}" in current context.`);
}

/** The value of a variable DIE in the context's frame. */
export async function variableInfoValue(ctx: EvalContext, v: VariableInfo): Promise<Value> {
  if (v.constValue !== undefined) {
    const bytes = typeof v.constValue === 'bigint' ? toBytes(v.constValue, sizeOf(v.type) || 8) : v.constValue;
    return { type: v.type, place: { kind: 'none' }, bytes };
  }
  if (v.location.kind === 'optimized-out') return { type: v.type, place: { kind: 'none' }, unavailable: '<optimized out>' };
  const loc = await runExpression(ctx, v.location.expr);
  return valueAt(ctx, v.type, loc);
}

async function runExpression(ctx: EvalContext, e: ExprWithContext): Promise<Location> {
  const frame = ctx.frame;
  const mem = memoryReader(ctx.reader);
  const readRegister = frame ? frame.registers : async () => undefined;
  const frameBase = async (): Promise<bigint | undefined> => {
    const fb = frame?.scope?.frameBase;
    if (!fb) return undefined;
    const l = await evaluateLocation(fb.expr, { ...fb.unit, readRegister, readMemory: mem, cfa: async () => frame?.cfa });
    if (l.kind === 'memory') return l.address;
    if (l.kind === 'value') return l.value;
    if (l.kind === 'register') return readRegister(l.reg);
    return undefined;
  };
  const entryValue = async (expr: Uint8Array): Promise<bigint | undefined> => {
    const reg = entryRegister(expr);
    return reg === undefined ? undefined : registerAtEntry(ctx, reg);
  };
  return evaluateLocation(e.expr, { ...e.unit, readRegister, readMemory: mem, frameBase, cfa: async () => frame?.cfa, entryValue });
}

/**
 * DW_OP_regN (or DW_OP_bregN 0, or DW_OP_regval_type N T as gcc writes xmm arguments): the register
 * whose value at function entry is wanted.
 */
function entryRegister(expr: Uint8Array): number | undefined {
  if (expr.length === 1 && expr[0]! >= 0x50 && expr[0]! < 0x70) return expr[0]! - 0x50;
  if ((expr[0] === 0xa5 || expr[0] === 0xf5) && expr.length >= 3 && expr[1]! < 0x80) return expr[1]!;
  if (expr.length === 2 && expr[0]! >= 0x70 && expr[0]! < 0x90 && expr[1] === 0) return expr[0]! - 0x70;
  return undefined;
}

/** What register `reg` held when the context's function was entered, from the caller's call site. */
async function registerAtEntry(ctx: EvalContext, reg: number): Promise<bigint | undefined> {
  const [caller, ...outer] = ctx.callers ?? [];
  const value = caller && ctx.program?.symbols.callSiteParameters(caller.pc).get(reg);
  if (!caller || !value) return undefined;
  // A register the unwinder cannot recover for the caller (call-clobbered) still holds what it
  // held at the call when nothing since has written it: at the function's first instruction in
  // the innermost frame, or anywhere in a function none of whose instructions (or calls) write it.
  const frame = ctx.frame;
  const fn = frame && ctx.program?.symbols.functionAt(frame.lookupPc);
  const atEntry = frame?.unwoundBy === 'innermost' && frame.pc === fn?.entryPc;
  const unchanged = async (r: number) => {
    if (atEntry) return true;
    // Decoded only when a register is missing, and once per function.
    const written = fn && (await ctx.program!.registersWrittenBy(fn));
    const name = dwarfRegisterName(r);
    return !!written && name !== undefined && !written.has(name);
  };
  const registers = frame
    ? async (r: number) => (await caller.registers(r)) ?? ((await unchanged(r)) ? await frame.registers(r) : undefined)
    : caller.registers;
  // The call value is an expression of the caller's frame: DW_OP_fbreg is its frame base, and an
  // entry value in it is the caller's own (gcc's `DW_OP_entry_value(rdi)` for a forwarded argument).
  const callerCtx: EvalContext = { ...ctx, frame: { ...caller, registers }, callers: outer };
  const l = await runExpression(callerCtx, value);
  if (l.kind === 'value') return BigInt.asUintN(64, l.value);
  if (l.kind === 'memory') return l.address;
  if (l.kind === 'register') return registers(l.reg);
  return undefined;
}

/** A parameter's value at function entry (gdb's `x@entry`), when the call site tells it. */
export async function parameterEntryValue(ctx: EvalContext, v: VariableInfo): Promise<Value | undefined> {
  const frame = ctx.frame;
  const symbols = ctx.program?.symbols;
  if (!frame || frame.inlined || !symbols || v.kind !== 'arg') return undefined;
  const fn = symbols.functionAt(frame.lookupPc);
  if (!fn) return undefined;
  // The function's own scope: at its entry pc an inlined call may already have begun.
  const atEntry = symbols
    .scopesAt(fn.entryPc)
    .find((s) => !s.inlined)
    ?.variables.find((x) => x.kind === 'arg' && x.name === v.name);
  const reg = atEntry?.location.kind === 'expr' ? entryRegister(atEntry.location.expr.expr) : undefined;
  if (reg === undefined) return undefined;
  const value = await registerAtEntry(ctx, reg);
  return value === undefined ? undefined : { type: v.type, place: { kind: 'none' }, bytes: toBytes(value, sizeOf(v.type) || 8) };
}

async function valueAt(ctx: EvalContext, type: Type, loc: Location): Promise<Value> {
  const size = sizeOf(type);
  switch (loc.kind) {
    case 'memory':
      return { type, place: { kind: 'memory', address: loc.address } };
    case 'register': {
      const name = dwarfRegisterName(loc.reg) ?? `r${loc.reg}`;
      if (!ctx.frame) throw new EvalError('no frame for a register variable');
      const v: Value = { type, place: { kind: 'register', reg: loc.reg, name, read: ctx.frame.registers, frameLevel: ctx.frame.level } };
      // A struct held whole in a register: its members are slices of the register's bytes.
      if (isAggregate(type)) {
        const x = await ctx.frame.registers(loc.reg);
        if (x !== undefined) v.bytes = toBytes(x, Math.max(size, 8)).subarray(0, size);
      }
      return v;
    }
    case 'value':
      return { type, place: { kind: 'none' }, bytes: toBytes(loc.value, size || 8).subarray(0, size || 8) };
    case 'implicit':
      return { type, place: { kind: 'none' }, bytes: loc.bytes.subarray(0, size) };
    case 'pieces':
      return piecesValue(ctx, type, loc.pieces);
    case 'implicit-pointer':
      return { type, place: { kind: 'none' }, unavailable: '<synthetic pointer>' };
    case 'unavailable':
      return { type, place: { kind: 'none' }, unavailable: '<optimized out>' };
  }
}

function isAggregate(type: Type): boolean {
  const k = stripTypedefs(type).kind;
  return k === 'struct' || k === 'union' || k === 'class' || k === 'array';
}

/**
 * A value composed of pieces (DW_OP_piece, DW_OP_bit_piece): each piece's bits from its register,
 * memory, computed value or implicit bytes, in order. Bits of pieces with no location (and any the
 * pieces leave out) are optimized out: a scalar with any of them is `<optimized out>`, an aggregate
 * keeps the ranges so that only the members in them are (gdb's `{x = <optimized out>, y = 1.5}`).
 */
async function piecesValue(ctx: EvalContext, type: Type, pieces: Piece[]): Promise<Value> {
  const size = sizeOf(type);
  let bits = 0n;
  let at = 0;
  const missing: Array<[number, number]> = [];
  const gap = (from: number, to: number) => {
    const last = missing[missing.length - 1];
    if (last && last[1] === from) last[1] = to;
    else missing.push([from, to]);
  };
  for (const p of pieces) {
    const part = await pieceBits(ctx, p.location, p.offsetBits, p.sizeBits).catch(() => undefined);
    if (part === undefined) gap(at, at + p.sizeBits);
    else bits |= BigInt.asUintN(p.sizeBits, part) << BigInt(at);
    at += p.sizeBits;
  }
  if (at < size * 8) gap(at, size * 8);
  const none: Value = { type, place: { kind: 'none' }, unavailable: '<optimized out>' };
  const covered = missing.reduce((n, [a, b]) => n + Math.max(0, Math.min(b, size * 8) - a), 0);
  if (covered >= size * 8 || (missing.length && !isAggregate(type))) return none;
  return { type, place: { kind: 'none' }, bytes: toBytes(bits, size), ...(missing.length && { unavailableBits: missing }) };
}

/** `sizeBits` bits of a piece's location from bit `offsetBits`; undefined when they are not known. */
async function pieceBits(ctx: EvalContext, loc: Location, offsetBits: number, sizeBits: number): Promise<bigint | undefined> {
  let whole: bigint | undefined;
  switch (loc.kind) {
    case 'register':
      whole = await ctx.frame?.registers(loc.reg);
      break;
    case 'memory': {
      const n = Math.ceil((offsetBits + sizeBits) / 8);
      whole = fromBytes(await ctx.reader.readMemory(loc.address, n), false);
      break;
    }
    case 'value':
      whole = BigInt.asUintN(Math.max(64, offsetBits + sizeBits), loc.value);
      break;
    case 'implicit':
      whole = fromBytes(loc.bytes, false);
      break;
    default:
      return undefined;
  }
  return whole === undefined ? undefined : BigInt.asUintN(sizeBits, whole >> BigInt(offsetBits));
}

/**
 * Writes `value` to what `node` (already evaluated to `target`) designates and returns the new
 * value there. A whole convenience variable takes the value as it is, type included (gdb's
 * `set $x = 1.5` makes $x a double); everything else converts to the target's type.
 */
async function store(ctx: EvalContext, node: Expr, target: Value, value: Value): Promise<Value> {
  if (node.kind === 'dollar' && target.place.kind === 'convenience' && target.place.offset === 0) {
    if (!ctx.convenience) throw new EvalError('convenience variables cannot be set here');
    const bytes = stripTypedefs(value.type).kind === 'void' ? new Uint8Array(0) : new Uint8Array(await load(ctx.reader, value));
    const stored: Value = { type: value.type, place: target.place, bytes };
    ctx.convenience.set(node.name, stored);
    return stored;
  }
  await assign(ctx, target, value);
  // What was written, read back where that is cheap and exact (memory, a convenience variable's
  // part); a register shows the value converted to its type (the frame's registers are cached).
  if (target.place.kind === 'register') return { ...(await cast(ctx, value, target.type)), place: target.place };
  if (target.place.kind === 'convenience') {
    const { offset, name } = target.place;
    return { ...target, bytes: ctx.convenience!.get(name)!.bytes!.subarray(offset, offset + target.bytes!.length) };
  }
  return { ...target, bytes: undefined };
}

/** `$N` (absolute) or `$`, `$$`, `$$N` (back from the last, `$` being `$$0`) as gdb numbers them. */
function historyReference(name: string): { absolute: number } | { back: number } | undefined {
  if (/^\d+$/.test(name)) return Number(name) === 0 ? { back: 0 } : { absolute: Number(name) };
  if (name === '') return { back: 0 };
  if (name === '$') return { back: 1 };
  if (/^\$\d+$/.test(name)) return { back: Number(name.slice(1)) };
  return undefined;
}

function isRegisterName(ctx: EvalContext, name: string): boolean {
  return dwarfRegisterNumber(name) !== undefined || REG_ALIASES[name] !== undefined || ctx.registers?.has(name) === true;
}

/** `$...`: the value history, a register, or a convenience variable (void until set, as in gdb). */
async function dollarValue(ctx: EvalContext, name: string): Promise<Value> {
  const ref = historyReference(name);
  if (ref) {
    const history = ctx.history ?? [];
    const n = 'absolute' in ref ? ref.absolute : history.length - ref.back;
    if ('absolute' in ref && n > history.length) throw new EvalError(`History has not yet reached $${n}.`);
    if (n <= 0)
      throw new EvalError(
        'back' in ref && ref.back === 0 ? 'The history is empty.' : `History does not go back to $$${'back' in ref ? ref.back : 0}.`,
      );
    return history[n - 1]!;
  }
  const conv = ctx.convenience?.get(name);
  if (conv) return conv;
  if (isRegisterName(ctx, name)) return registerValue(ctx, name);
  return { type: { kind: 'void' }, place: { kind: 'convenience', name, offset: 0 }, bytes: new Uint8Array(0) };
}

async function registerValue(ctx: EvalContext, raw: string): Promise<Value> {
  const alias = REG_ALIASES[raw];
  const name = alias && alias.bits === 64 ? alias.reg : raw;
  const type = name === 'rip' ? CODE_PTR : name === 'rsp' || name === 'rbp' ? VOID_PTR : T.long;
  // The general registers and rip are the frame's (unwound); the rest are the innermost frame's.
  const n = dwarfRegisterNumber(name);
  if (n !== undefined && n <= X86_64.rip && ctx.frame) {
    return { type, place: { kind: 'register', reg: n, name, read: ctx.frame.registers, frameLevel: ctx.frame.level } };
  }
  if (alias && alias.bits < 64) {
    const full = await asInteger(ctx.reader, await registerValue(ctx, alias.reg));
    const v = BigInt.asUintN(alias.bits, full >> BigInt(alias.shift));
    return computed(
      alias.bits === 32 ? T.int : alias.bits === 16 ? base('short', 2, DW_ATE.signed) : base('int8_t', 1, DW_ATE.signed),
      BigInt.asIntN(alias.bits, v),
    );
  }
  const v = ctx.registers?.get(name);
  if (v === undefined) throw new EvalError(`Invalid register \`${raw}'`);
  // Any other register ($eflags, $fs_base, $cr3, $xmm0, $st0): the innermost frame's, by name.
  const flags = registerFlags(name);
  const t: Type = /^xmm\d+$/.test(name)
    ? VEC128
    : /^st[0-7]$/.test(name)
      ? LONG_DOUBLE
      : flags
        ? // QEMU's description's flags types: eflags and mxcsr are 32 bits, the control registers 64.
          { kind: 'base', name: `x64_${name}`, size: name === 'eflags' || name === 'mxcsr' ? 4 : 8, encoding: DW_ATE.unsigned, flags }
        : T.long;
  return {
    type: t,
    place: { kind: 'register', reg: -1, name, read: async () => ctx.registers?.get(name), frameLevel: 0 },
    bytes: toBytes(v, sizeOf(t)),
  };
}

// gdb's name for the x87 registers' type.
const LONG_DOUBLE = base('builtin_type_i387_ext', 16, DW_ATE.float);
const vector = (element: Type, n: number): Type => ({ kind: 'array', element, dims: [n] });
/** gdb's vec128 union, the type of $xmm0-$xmm15. */
const VEC128: Type = {
  kind: 'union',
  name: 'vec128',
  size: 16,
  declaration: false,
  die: -1,
  members: (
    [
      ['v4_float', vector(base('float', 4, DW_ATE.float), 4)],
      ['v2_double', vector(T.double, 2)],
      ['v16_int8', vector(base('int8_t', 1, DW_ATE.signed), 16)],
      ['v8_int16', vector(base('int16_t', 2, DW_ATE.signed), 8)],
      ['v4_int32', vector(base('int32_t', 4, DW_ATE.signed), 4)],
      ['v2_int64', vector(base('int64_t', 8, DW_ATE.signed), 2)],
      ['uint128', base('uint128_t', 16, DW_ATE.unsigned)],
    ] as Array<[string, Type]>
  ).map(([name, type]) => ({ name, type, offset: 0 })),
};

async function deref(ctx: EvalContext, v: Value): Promise<Value> {
  const s = stripTypedefs(v.type);
  if (s.kind === 'array') return elementValue(v, s, 0);
  // *f of a function is the function again (it decays to a pointer and back).
  if (s.kind === 'function') return v;
  if (s.kind !== 'pointer' && s.kind !== 'reference') {
    if (s.kind === 'base' && s.encoding !== DW_ATE.float)
      return { type: T.long, place: { kind: 'memory', address: BigInt.asUintN(64, await asInteger(ctx.reader, v)) } };
    throw new EvalError(`Attempt to take contents of a non-pointer value.`);
  }
  const target = stripTypedefs(s.target);
  if (target.kind === 'void') throw new EvalError('Attempt to take contents of a non-pointer value.');
  return { type: s.target, place: { kind: 'memory', address: await asInteger(ctx.reader, v) } };
}

async function unary(ctx: EvalContext, op: string, operand: Expr): Promise<Value> {
  if (op === '&') {
    const v = await evaluate(ctx, operand);
    if (v.place.kind !== 'memory' || v.bitField) throw new EvalError('Attempt to take address of value not located in memory.');
    return computed({ kind: 'pointer', target: v.type, size: 8 }, v.place.address);
  }
  const v = await evaluate(ctx, operand);
  if (op === '*') return deref(ctx, v);
  if (op === '!') return computed(T.int, (await truthy(ctx, v)) ? 0n : 1n);
  if (isFloat(v.type)) {
    const n = await asNumber(ctx.reader, v);
    if (op === '-') return computed(v.type, -n);
    if (op === '+') return v;
    throw new EvalError(`invalid operand to ${op} (a floating-point value)`);
  }
  const t = promote(v.type);
  const n = await asInteger(ctx.reader, v);
  if (op === '-') return computed(t, -n);
  if (op === '~') return computed(t, ~n);
  return computed(t, n);
}

function isFloat(t: Type): boolean {
  const s = stripTypedefs(t);
  return s.kind === 'base' && s.encoding === DW_ATE.float;
}

/** Pointers, and what decays to one: arrays and functions. */
function isPointer(t: Type): boolean {
  const s = stripTypedefs(t);
  return s.kind === 'pointer' || s.kind === 'array' || s.kind === 'function';
}

/** Integer promotion: anything narrower than int becomes int. */
function promote(t: Type): Type {
  const s = stripTypedefs(t);
  if (s.kind === 'enum') return T.uint;
  if (s.kind === 'base' && s.size < 4) return T.int;
  if (s.kind === 'base') return t;
  return T.long;
}

/** The usual arithmetic conversions, simplified to what gdb does for 64-bit targets. */
function common(a: Type, b: Type): Type {
  const pa = stripTypedefs(promote(a));
  const pb = stripTypedefs(promote(b));
  const sa = pa.kind === 'base' ? pa.size : 8;
  const sb = pb.kind === 'base' ? pb.size : 8;
  const size = Math.max(sa, sb);
  const unsigned = (sa === size && !isSigned(pa)) || (sb === size && !isSigned(pb));
  if (size <= 4) return unsigned ? T.uint : T.int;
  return unsigned ? T.ulong : T.long;
}

async function pointerAdd(ctx: EvalContext, p: Value, n: bigint): Promise<Value> {
  const s = stripTypedefs(p.type);
  const target = s.kind === 'pointer' ? s.target : s.kind === 'array' ? s.element : s.kind === 'function' ? p.type : T.char;
  const elem = BigInt(Math.max(1, stripTypedefs(target).kind === 'function' ? 1 : sizeOf(target)));
  const base = s.kind === 'array' || s.kind === 'function' ? await addressOf(ctx, p) : await asInteger(ctx.reader, p);
  return computed(
    s.kind === 'array' || s.kind === 'function' ? { kind: 'pointer', target, size: 8 } : p.type,
    BigInt.asUintN(64, base + n * elem),
  );
}

async function truthy(ctx: EvalContext, v: Value): Promise<boolean> {
  if (isFloat(v.type)) return (await asNumber(ctx.reader, v)) !== 0;
  const s = stripTypedefs(v.type);
  if (s.kind === 'array' || s.kind === 'function') return true;
  return (await asInteger(ctx.reader, v)) !== 0n;
}

async function binary(ctx: EvalContext, op: string, left: Expr, right: Expr): Promise<Value> {
  if (op === '&&')
    return computed(T.int, (await truthy(ctx, await evaluate(ctx, left))) && (await truthy(ctx, await evaluate(ctx, right))) ? 1n : 0n);
  if (op === '||')
    return computed(T.int, (await truthy(ctx, await evaluate(ctx, left))) || (await truthy(ctx, await evaluate(ctx, right))) ? 1n : 0n);
  if (op === ',') {
    await evaluate(ctx, left);
    return evaluate(ctx, right);
  }
  return binaryValues(ctx, op, await evaluate(ctx, left), await evaluate(ctx, right));
}

async function binaryValues(ctx: EvalContext, op: string, a: Value, b: Value): Promise<Value> {
  const r = ctx.reader;
  if ((op === '+' || op === '-') && isPointer(a.type) && !isPointer(b.type))
    return pointerAdd(ctx, a, op === '+' ? await asInteger(r, b) : -(await asInteger(r, b)));
  if (op === '+' && isPointer(b.type) && !isPointer(a.type)) return pointerAdd(ctx, b, await asInteger(r, a));
  if (op === '-' && isPointer(a.type) && isPointer(b.type)) {
    const pa = stripTypedefs(a.type);
    const elem = BigInt(Math.max(1, sizeOf(pa.kind === 'pointer' ? pa.target : pa.kind === 'array' ? pa.element : T.char)));
    return computed(T.long, BigInt.asIntN(64, (await addressOf(ctx, a)) - (await addressOf(ctx, b))) / elem);
  }
  if (isFloat(a.type) || isFloat(b.type)) {
    const x = await asNumber(r, a);
    const y = await asNumber(r, b);
    switch (op) {
      case '+':
        return computed(T.double, x + y);
      case '-':
        return computed(T.double, x - y);
      case '*':
        return computed(T.double, x * y);
      case '/':
        return computed(T.double, x / y);
      case '<':
        return computed(T.int, x < y ? 1n : 0n);
      case '>':
        return computed(T.int, x > y ? 1n : 0n);
      case '<=':
        return computed(T.int, x <= y ? 1n : 0n);
      case '>=':
        return computed(T.int, x >= y ? 1n : 0n);
      case '==':
        return computed(T.int, x === y ? 1n : 0n);
      case '!=':
        return computed(T.int, x !== y ? 1n : 0n);
      default:
        throw new EvalError(`Integer only operation ${op}.`);
    }
  }
  const t = isPointer(a.type) || isPointer(b.type) ? T.ulong : common(a.type, b.type);
  const signed = isSigned(t);
  const bits = sizeOf(t) * 8;
  const norm = (n: bigint) => (signed ? BigInt.asIntN(bits, n) : BigInt.asUintN(bits, n));
  const x = norm(isPointer(a.type) ? await addressOf(ctx, a) : await asInteger(r, a));
  const y = norm(isPointer(b.type) ? await addressOf(ctx, b) : await asInteger(r, b));
  const cmp = (c: boolean) => computed(T.int, c ? 1n : 0n);
  switch (op) {
    case '+':
      return computed(t, x + y);
    case '-':
      return computed(t, x - y);
    case '*':
      return computed(t, x * y);
    case '/':
      if (y === 0n) throw new EvalError('Division by zero');
      return computed(t, x / y);
    case '%':
      if (y === 0n) throw new EvalError('Division by zero');
      return computed(t, x % y);
    case '<<':
      return computed(t, x << y);
    case '>>':
      return computed(t, x >> y);
    case '&':
      return computed(t, x & y);
    case '|':
      return computed(t, x | y);
    case '^':
      return computed(t, x ^ y);
    case '<':
      return cmp(x < y);
    case '>':
      return cmp(x > y);
    case '<=':
      return cmp(x <= y);
    case '>=':
      return cmp(x >= y);
    case '==':
      return cmp(x === y);
    case '!=':
      return cmp(x !== y);
    default:
      throw new EvalError(`unsupported operator ${op}`);
  }
}

async function addressOf(ctx: EvalContext, v: Value): Promise<bigint> {
  const s = stripTypedefs(v.type);
  if (s.kind === 'array' || s.kind === 'function') {
    if (v.place.kind !== 'memory') throw new EvalError(`${s.kind} not in memory`);
    return v.place.address;
  }
  return asInteger(ctx.reader, v);
}

async function cast(ctx: EvalContext, v: Value, to: Type): Promise<Value> {
  const s = stripTypedefs(to);
  // gdb reads a data symbol without debug info as the type it is cast to.
  const from0 = stripTypedefs(v.type);
  if (from0.kind === 'base' && from0.nodebug !== undefined && v.place.kind === 'memory') return { type: to, place: v.place };
  if (s.kind === 'struct' || s.kind === 'union' || s.kind === 'array') {
    if (sizeOf(v.type) !== sizeOf(to)) throw new EvalError(`Invalid cast from '${typeName(v.type)}' to '${typeName(to)}'.`);
    return { ...v, type: to };
  }
  if (s.kind === 'void') return { type: to, place: { kind: 'none' }, bytes: new Uint8Array(0) };
  if (isFloat(to)) return computed(to, await asNumber(ctx.reader, v));
  const from = stripTypedefs(v.type);
  const n = from.kind === 'array' || from.kind === 'function' ? await addressOf(ctx, v) : await asInteger(ctx.reader, v);
  return computed(to, n);
}

/** A type as written in a cast or sizeof. */
function resolveTypeName(ctx: EvalContext, t: TypeName): Type {
  let type = BASE_NAMES[t.base] ?? ctx.program?.symbols.findType(t.base);
  if (!type) throw new EvalError(`No symbol "${t.base.replace(/^(struct|union|enum) /, '')}" in current context.`);
  for (const d of t.declarators) {
    if (d.kind === 'pointer') type = { kind: 'pointer', target: type, size: 8 };
    else if (d.kind === 'array') type = { kind: 'array', element: type, dims: [d.length] };
    else
      type = {
        kind: 'function',
        returns: type,
        params: d.params.map((p) => resolveTypeName(ctx, p)),
        varargs: d.varargs,
        prototyped: true,
      };
  }
  return type;
}

/** Writes `value` into `target` (memory or a register of the innermost frame). */
export async function assign(ctx: EvalContext, target: Value, value: Value): Promise<void> {
  const size = sizeOf(target.type);
  const t = stripTypedefs(target.type);
  let bytes: Uint8Array;
  if (t.kind === 'struct' || t.kind === 'union' || t.kind === 'array') {
    if (sizeOf(value.type) !== size) throw new EvalError(`Invalid cast from '${typeName(value.type)}' to '${typeName(target.type)}'.`);
    bytes = await load(ctx.reader, value);
  } else bytes = await load(ctx.reader, await cast(ctx, value, target.type));
  if (target.bitField) {
    const storage = target.place.kind === 'convenience' ? target.bytes! : await load(ctx.reader, { ...target, bytes: undefined });
    const mask = ((1n << BigInt(target.bitField.bitSize)) - 1n) << BigInt(target.bitField.bitOffset);
    const old = fromBytes(storage, false);
    const v = (old & ~mask) | ((fromBytes(bytes, false) << BigInt(target.bitField.bitOffset)) & mask);
    bytes = toBytes(v, storage.length);
  }
  if (target.place.kind === 'memory') {
    const at = target.place.address + (target.bitField ? BigInt(Math.floor(target.bitField.bitOffset / 8)) : 0n);
    await ctx.target.writeMemory(at, bytes);
  } else if (target.place.kind === 'register') {
    if (target.place.frameLevel !== 0 || !ctx.writeRegister) throw new EvalError(`cannot write ${target.place.name} of an outer frame`);
    await ctx.writeRegister(target.place.name, fromBytes(bytes, false));
  } else if (target.place.kind === 'convenience') {
    // A member or element of a convenience variable: a new copy of the variable with that part changed.
    const whole = ctx.convenience?.get(target.place.name);
    if (!whole?.bytes || !target.bytes) throw new EvalError('Left operand of assignment is not a modifiable lvalue.');
    const changed = new Uint8Array(whole.bytes);
    changed.set(bytes.subarray(0, target.bytes.length), target.place.offset);
    ctx.convenience!.set(target.place.name, { ...whole, bytes: changed });
  } else
    throw new EvalError(
      target.place.kind === 'none' && target.place.history
        ? 'Left operand of assignment is not a modifiable lvalue.'
        : 'Left operand of assignment is not an lvalue.',
    );
}
