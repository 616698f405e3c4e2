// Values on the DWARF expression stack. An untyped ("generic") value is address-sized; typed
// values (DWARF 5 typed ops) carry their base type. Values are kept normalized to their width:
// sign-extended for signed types, zero-extended otherwise.
import { ExpressionError } from './errors.js';
import { DW_OP } from './opcodes.js';
import { DW_ATE, type BaseType } from './location.js';
import { decodeExtended, encodeExtended, extendedArithmetic, extendedCompare, extendedToNumber, numberToExtended } from './extended.js';

export interface StackValue {
  value: bigint;
  type?: BaseType;
}

function isSignedType(type: BaseType): boolean {
  return type.encoding === DW_ATE.signed || type.encoding === DW_ATE.signed_char;
}

function isFloatType(type: BaseType): boolean {
  return type.encoding === DW_ATE.float;
}

/** `value` reduced to `type`'s width (generic: `genericBits`), sign-extended if the type is signed. */
export function normalize(value: bigint, type: BaseType | undefined, genericBits: number): bigint {
  if (!type) return BigInt.asUintN(genericBits, value);
  const bits = type.size * 8;
  return isSignedType(type) ? BigInt.asIntN(bits, value) : BigInt.asUintN(bits, value);
}

/** The value read as a signed number: typed values by their type, generic values as the spec's signed ops do. */
function signed(v: StackValue, genericBits: number): bigint {
  return v.type ? v.value : BigInt.asIntN(genericBits, v.value);
}

function signedOrUnsigned(v: StackValue, genericBits: number): bigint {
  return !v.type || isSignedType(v.type) ? signed(v, genericBits) : v.value;
}

/** Result of a binary op on (a, b) where b was on top; `at` is the op's offset for errors. */
export function binary(code: number, a: StackValue, b: StackValue, genericBits: number, at: number): StackValue {
  const type = a.type;
  const bits = type ? type.size * 8 : genericBits;
  const out = (v: bigint): StackValue => ({ value: normalize(v, type, genericBits), type });
  const bool = (c: boolean): StackValue => ({ value: c ? 1n : 0n });
  if ((a.type?.size ?? 0) !== (b.type?.size ?? 0) || a.type?.encoding !== b.type?.encoding) {
    // Shift amounts may be of any integral type; every other binary op needs matching types.
    if (code !== DW_OP.shl && code !== DW_OP.shr && code !== DW_OP.shra) throw new ExpressionError('operands of different types', at);
  }
  if (type && isFloatType(type)) return floatBinary(code, a, b, at);
  switch (code) {
    case DW_OP.and:
      return out(a.value & b.value);
    case DW_OP.or:
      return out(a.value | b.value);
    case DW_OP.xor:
      return out(a.value ^ b.value);
    case DW_OP.plus:
      return out(a.value + b.value);
    case DW_OP.minus:
      return out(a.value - b.value);
    case DW_OP.mul:
      return out(a.value * b.value);
    case DW_OP.div: {
      if (b.value === 0n) throw new ExpressionError('division by zero', at);
      // DW_OP_div is signed for generic values (BigInt division truncates toward zero, like C).
      return out(signedOrUnsigned(a, genericBits) / signedOrUnsigned(b, genericBits));
    }
    case DW_OP.mod: {
      if (b.value === 0n) throw new ExpressionError('modulo by zero', at);
      // Generic values: unsigned, as gdb computes it; typed values follow their signedness.
      const x = a.type ? a.value : BigInt.asUintN(bits, a.value);
      const y = b.type ? b.value : BigInt.asUintN(bits, b.value);
      return out(x % y);
    }
    case DW_OP.shl:
      return out(shiftAmount(b) >= bits ? 0n : a.value << shiftAmount(b));
    case DW_OP.shr: {
      const n = shiftAmount(b);
      return out(n >= bits ? 0n : BigInt.asUintN(bits, a.value) >> n);
    }
    case DW_OP.shra: {
      const n = shiftAmount(b);
      const s = BigInt.asIntN(bits, a.value);
      return out(n >= bits ? (s < 0n ? -1n : 0n) : s >> n);
    }
    case DW_OP.eq:
      return bool(signedOrUnsigned(a, genericBits) === signedOrUnsigned(b, genericBits));
    case DW_OP.ne:
      return bool(signedOrUnsigned(a, genericBits) !== signedOrUnsigned(b, genericBits));
    case DW_OP.lt:
      return bool(signedOrUnsigned(a, genericBits) < signedOrUnsigned(b, genericBits));
    case DW_OP.le:
      return bool(signedOrUnsigned(a, genericBits) <= signedOrUnsigned(b, genericBits));
    case DW_OP.gt:
      return bool(signedOrUnsigned(a, genericBits) > signedOrUnsigned(b, genericBits));
    case DW_OP.ge:
      return bool(signedOrUnsigned(a, genericBits) >= signedOrUnsigned(b, genericBits));
    default:
      throw new ExpressionError(`not a binary op: 0x${code.toString(16)}`, at);
  }
}

function shiftAmount(v: StackValue): bigint {
  // A negative or huge amount shifts everything out.
  return v.value < 0n ? 1n << 16n : v.value;
}

export function unary(code: number, a: StackValue, genericBits: number, at: number): StackValue {
  if (a.type && isFloatType(a.type)) {
    const x = toFloat(a, at);
    if (a.type.size > 8 && (code === DW_OP.neg || code === DW_OP.abs)) {
      const sign = 1n << 79n;
      return { value: code === DW_OP.neg ? a.value ^ sign : a.value & ~sign, type: a.type };
    }
    if (code === DW_OP.neg) return fromFloat(-x, a.type, at);
    if (code === DW_OP.abs) return fromFloat(Math.abs(x), a.type, at);
    throw new ExpressionError(`${code === DW_OP.not ? 'DW_OP_not' : 'a bitwise op'} on a floating-point value`, at);
  }
  const out = (v: bigint): StackValue => ({ value: normalize(v, a.type, genericBits), type: a.type });
  switch (code) {
    case DW_OP.abs: {
      const s = signedOrUnsigned(a, genericBits);
      return out(s < 0n ? -s : s);
    }
    case DW_OP.neg:
      return out(-a.value);
    case DW_OP.not:
      return out(~a.value);
    default:
      throw new ExpressionError(`not a unary op: 0x${code.toString(16)}`, at);
  }
}

/** DW_OP_convert: the value as a number (per its old type's signedness) in the new type. */
export function convert(v: StackValue, to: BaseType | undefined, genericBits: number, at: number): StackValue {
  if (v.type && isFloatType(v.type)) {
    const x = toFloat(v, at);
    if (to && isFloatType(to)) return v.type.size > 8 && to.size > 8 ? { value: v.value, type: to } : fromFloat(x, to, at);
    if (!Number.isFinite(x)) throw new ExpressionError('converting a non-finite float to an integer', at);
    return { value: normalize(BigInt(Math.trunc(x)), to, genericBits), type: to };
  }
  if (to && isFloatType(to)) return fromFloat(Number(signedOrUnsigned(v, genericBits)), to, at);
  return { value: normalize(v.value, to, genericBits), type: to };
}

/** DW_OP_reinterpret: the same bits seen as another type of the same size. */
export function reinterpret(v: StackValue, to: BaseType | undefined, genericBits: number, at: number): StackValue {
  const fromBits = v.type ? v.type.size * 8 : genericBits;
  const toBits = to ? to.size * 8 : genericBits;
  if (fromBits !== toBits) throw new ExpressionError(`cannot reinterpret a ${fromBits}-bit value as ${toBits} bits`, at);
  return { value: normalize(BigInt.asUintN(fromBits, v.value), to, genericBits), type: to };
}

/** Little-endian bytes as an unsigned integer. */
export function fromBytes(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

/** A float stack value's number (4- and 8-byte IEEE formats: what compilers put in typed ops). */
function toFloat(v: StackValue, at: number): number {
  if (v.type!.size > 8) return extendedToNumber(extended(v, at));
  const b = Buffer.alloc(8);
  if (v.type!.size === 4) {
    b.writeUInt32LE(Number(BigInt.asUintN(32, v.value)));
    return b.readFloatLE(0);
  }
  if (v.type!.size === 8) {
    b.writeBigUInt64LE(BigInt.asUintN(64, v.value));
    return b.readDoubleLE(0);
  }
  throw new ExpressionError(`${v.type!.size}-byte floating-point values are not supported`, at);
}

function fromFloat(x: number, type: BaseType, at: number): StackValue {
  if (type.size > 8) return extendedValue(encodeExtended(numberToExtended(x)), type, at);
  const b = Buffer.alloc(8);
  if (type.size === 4) {
    b.writeFloatLE(x);
    return { value: BigInt(b.readUInt32LE(0)), type };
  }
  if (type.size === 8) {
    b.writeDoubleLE(x);
    return { value: b.readBigUInt64LE(0), type };
  }
  throw new ExpressionError(`${type.size}-byte floating-point values are not supported`, at);
}

/** Arithmetic and comparison of two floats of one type, in that type's precision (as the program computes). */
function floatBinary(code: number, a: StackValue, b: StackValue, at: number): StackValue {
  if (a.type!.size > 8) return extendedBinary(code, a, b, at);
  const x = toFloat(a, at);
  const y = toFloat(b, at);
  const out = (v: number) => fromFloat(v, a.type!, at);
  const bool = (c: boolean): StackValue => ({ value: c ? 1n : 0n });
  switch (code) {
    case DW_OP.plus:
      return out(x + y);
    case DW_OP.minus:
      return out(x - y);
    case DW_OP.mul:
      return out(x * y);
    case DW_OP.div:
      return out(x / y);
    case DW_OP.eq:
      return bool(x === y);
    case DW_OP.ne:
      return bool(x !== y);
    case DW_OP.lt:
      return bool(x < y);
    case DW_OP.le:
      return bool(x <= y);
    case DW_OP.gt:
      return bool(x > y);
    case DW_OP.ge:
      return bool(x >= y);
    default:
      throw new ExpressionError(`op 0x${code.toString(16)} on floating-point values`, at);
  }
}

/** An x87 extended stack value (`long double`: 10 bytes of its 12 or 16). */
function extended(v: StackValue, at: number) {
  const x = decodeExtended(BigInt.asUintN(80, v.value));
  if (!x) throw new ExpressionError('arithmetic on an infinite or NaN long double', at);
  return x;
}

function extendedValue(bits: bigint | undefined, type: BaseType, at: number): StackValue {
  if (bits === undefined) throw new ExpressionError('long double result out of range', at);
  return { value: bits, type };
}

function extendedBinary(code: number, a: StackValue, b: StackValue, at: number): StackValue {
  const x = extended(a, at);
  const y = extended(b, at);
  const ops: Record<number, 'plus' | 'minus' | 'mul' | 'div'> = {
    [DW_OP.plus]: 'plus',
    [DW_OP.minus]: 'minus',
    [DW_OP.mul]: 'mul',
    [DW_OP.div]: 'div',
  };
  const op = ops[code];
  if (op) {
    const r = extendedArithmetic(op, x, y);
    if (!r) throw new ExpressionError('long double division by zero', at);
    return extendedValue(encodeExtended(r), a.type!, at);
  }
  const c = extendedCompare(x, y);
  const bool = (t: boolean): StackValue => ({ value: t ? 1n : 0n });
  switch (code) {
    case DW_OP.eq:
      return bool(c === 0);
    case DW_OP.ne:
      return bool(c !== 0);
    case DW_OP.lt:
      return bool(c < 0);
    case DW_OP.le:
      return bool(c <= 0);
    case DW_OP.gt:
      return bool(c > 0);
    case DW_OP.ge:
      return bool(c >= 0);
    default:
      throw new ExpressionError(`op 0x${code.toString(16)} on floating-point values`, at);
  }
}
