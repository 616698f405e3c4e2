// Typed values in guest memory, registers or computed, and their text as gdb's `print` shows it.
import { sizeOf, stripQualifiers, stripTypedefs, typeName, type Member, type Type } from '../../symbols/index.js';
import type { RegisterReader } from '../../symbols/cfi/index.js';
import { formatFloat, formatFloatBytes } from './float-format.js';
import { flagsValueText } from './register-flags.js';
import { decodeExtended, extendedToNumber } from '../../symbols/expr/extended.js';

type Place =
  | { kind: 'memory'; address: bigint }
  /** A register of a frame; `frameLevel` 0 registers can be written. */
  | { kind: 'register'; reg: number; name: string; read: RegisterReader; frameLevel: number }
  /** Part of a convenience variable (`$x`, `$x.member`), `offset` bytes into it: it lives in duster. */
  | { kind: 'convenience'; name: string; offset: number }
  /** Computed, or (`history`) a copy in gdb's value history, which cannot be assigned to. */
  | { kind: 'none'; history?: true };

export interface Value {
  type: Type;
  place: Place;
  /** Contents, when known (always for computed values). */
  bytes?: Uint8Array;
  bitField?: { bitOffset: number; bitSize: number };
  /** Why the value cannot be shown (`<optimized out>`). */
  unavailable?: string;
  /** Bit ranges [from, to) of an aggregate that are optimized out (its other members are known). */
  unavailableBits?: Array<[number, number]>;
}

export interface ValueReader {
  readMemory(address: bigint, size: number): Promise<Uint8Array>;
  /** ` <sym+off>` for an address inside an ELF symbol, else ''. */
  symbolSuffix(address: bigint): string;
}

export const DW_ATE = { address: 1, boolean: 2, float: 4, signed: 5, signed_char: 6, unsigned: 7, unsigned_char: 8, UTF: 0x10 } as const;

const DW_ATE_complex_float = 3;

/** gdb's max-value-size: a value that claims more (a huge array type, cast or corrupt) is not read whole. */
export const MAX_VALUE_SIZE = 65536;

/** Loads a value's bytes (bitfields: the storage bytes that hold it). */
export async function load(r: ValueReader, v: Value): Promise<Uint8Array> {
  if (v.unavailable) throw new Error(`value is ${v.unavailable}`);
  if (v.bytes) return v.bytes;
  const t = stripTypedefs(v.type);
  if (t.kind === 'base' && t.nodebug !== undefined) throw new Error(`'${t.nodebug}' has unknown type; cast it to its declared type`);
  const size = v.bitField ? Math.ceil(((v.bitField.bitOffset % 8) + v.bitField.bitSize) / 8) : sizeOf(v.type);
  if (size > MAX_VALUE_SIZE) throw new Error(`value requires ${size} bytes, which is more than max-value-size`);
  if (v.place.kind === 'memory') {
    v.bytes = await r.readMemory(v.place.address + (v.bitField ? BigInt(Math.floor(v.bitField.bitOffset / 8)) : 0n), size);
  } else if (v.place.kind === 'register') {
    const x = await v.place.read(v.place.reg);
    if (x === undefined) throw new Error(`register ${v.place.name} is not saved in this frame`);
    v.bytes = toBytes(x, Math.max(size, 8)).subarray(0, size);
  } else throw new Error('value has no contents');
  return v.bytes;
}

export function toBytes(x: bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let v = BigInt.asUintN(size * 8, x);
  for (let i = 0; i < size; i++, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

export function fromBytes(b: Uint8Array, signed: boolean): bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  return signed && b.length ? BigInt.asIntN(b.length * 8, v) : v;
}

export function isSigned(t: Type): boolean {
  const s = stripTypedefs(t);
  if (s.kind === 'base') return s.encoding === DW_ATE.signed || s.encoding === DW_ATE.signed_char || s.encoding === DW_ATE.float;
  if (s.kind === 'enum') return s.underlying ? isSigned(s.underlying) : s.enumerators.some((e) => e.value < 0n);
  return false;
}

/** The integer a scalar value holds (pointers, enums, bools, chars included). */
export async function asInteger(r: ValueReader, v: Value): Promise<bigint> {
  const s = stripTypedefs(v.type);
  if (s.kind === 'base' && s.encoding === DW_ATE.float) return BigInt(Math.trunc(await asNumber(r, v)));
  // gdb's words for an unset convenience variable used as a number.
  if (s.kind === 'void') throw new Error("Value can't be converted to integer.");
  if (!(s.kind === 'base' || s.kind === 'pointer' || s.kind === 'enum' || s.kind === 'reference'))
    throw new Error(`'${typeName(v.type)}' is not a scalar`);
  const bytes = await load(r, v);
  if (v.bitField) {
    const raw = fromBytes(bytes, false) >> BigInt(v.bitField.bitOffset % 8);
    const field = BigInt.asUintN(v.bitField.bitSize, raw);
    return isSigned(v.type) ? BigInt.asIntN(v.bitField.bitSize, field) : field;
  }
  return fromBytes(bytes, isSigned(v.type));
}

export async function asNumber(r: ValueReader, v: Value): Promise<number> {
  const s = stripTypedefs(v.type);
  if (s.kind === 'base' && s.encoding === DW_ATE.float) {
    const b = Buffer.from(await load(r, v));
    if (b.length === 4) return b.readFloatLE();
    if (b.length === 8) return b.readDoubleLE();
    // x87 long double: the nearest double (arithmetic on it is the host's).
    if (b.length === 10 || b.length === 12 || b.length === 16) {
      const x = decodeExtended(BigInt.asUintN(80, fromBytes(b, false)));
      if (x) return extendedToNumber(x);
      const neg = (b[9]! & 0x80) !== 0;
      return BigInt.asUintN(63, b.readBigUInt64LE(0)) === 0n ? (neg ? -Infinity : Infinity) : NaN;
    }
    throw new Error(`${b.length}-byte floats are not supported`);
  }
  return Number(await asInteger(r, v));
}

/** gdb's print/FMT letters: hex, zero-padded hex, octal, binary, signed, unsigned, char, address, float, string. */
export type PrintFormat = 'x' | 'z' | 'o' | 't' | 'd' | 'u' | 'c' | 'a' | 'f' | 's';

export interface FormatOptions {
  /** print/FMT: scalars (members and elements too) in that format; 's' is the natural one. */
  format?: PrintFormat;
  /** gdb's `print elements`: at most this many array elements or string characters (200). */
  elements?: number;
  /** gdb's `print repeats`: a run of more than this many equal elements is shown once (10). */
  repeats?: number;
  /** gdb's `print pretty`: one struct member per line, indented by nesting. */
  pretty?: boolean;
}

/** gdb's defaults for `print elements` and `print repeats`. */
const ELEMENTS = 200;
const REPEATS = 10;
/** A string with `print elements unlimited` is still read no further than this. */
const MAX_STRING = 1 << 20;

/** The text `print` shows for a value (top level: pointers get their `(type)` prefix). */
export async function formatValue(r: ValueReader, v: Value, opts: FormatOptions = {}, topLevel = true, depth = 0): Promise<string> {
  if (v.unavailable) return v.unavailable;
  if (depth > 32) return '...';
  const t = stripTypedefs(v.type);
  // gdb refuses to print a data symbol without debug info rather than guess its type.
  if (t.kind === 'base' && t.nodebug !== undefined) throw new Error(`'${t.nodebug}' has unknown type; cast it to its declared type`);
  try {
    switch (t.kind) {
      case 'base':
        return await formatScalar(r, v, t, opts);
      case 'enum': {
        const n = await asInteger(r, v);
        if (numeric(opts)) return integerText(r, n, t.size, opts.format!);
        const hit = t.enumerators.find((e) => e.value === n);
        if (hit) return hit.name;
        return flagEnum(t.enumerators, n) ?? n.toString();
      }
      case 'pointer':
      case 'reference':
      case 'rvalue-reference': {
        const address = await asInteger(r, v);
        // As gdb's /x, /d, ...: the address as a number, no type or string (/a: with its symbol).
        if (numeric(opts)) return integerText(r, address, 8, opts.format!, false);
        const target = stripTypedefs(t.target);
        const prefix = topLevel && t.kind === 'pointer' && !isPlainCharPointer(v.type) ? `(${typeName(v.type)}) ` : '';
        let text = `0x${address.toString(16)}`;
        if (target.kind === 'function') return `${prefix}${text}${r.symbolSuffix(address)}`;
        text += r.symbolSuffix(address);
        if (isCharType(target) && address !== 0n)
          text += ` ${await readString(r, address, Math.min(opts.elements ?? ELEMENTS, MAX_STRING))}`;
        return prefix + text;
      }
      case 'struct':
      case 'union':
      case 'class': {
        const parts: string[] = [];
        for (const m of t.members) {
          const child = memberValue(v, m);
          const text = await formatValue(r, child, opts, false, depth + 1);
          parts.push(m.name ? `${m.name} = ${text}` : text);
        }
        if (!opts.pretty || !parts.length) return `{${parts.join(', ')}}`;
        const indent = (n: number) => ' '.repeat(2 * n);
        return `{\n${parts.map((p) => indent(depth + 1) + p).join(',\n')}\n${indent(depth)}}`;
      }
      case 'array':
        return await formatArray(r, v, t, opts, depth);
      case 'function': {
        // gdb's /x (/d, ...) of a function is its one-byte value: the first byte of its code.
        if (opts.format === 'a') throw new Error("Value can't be converted to integer.");
        if (numeric(opts)) return integerText(r, await asInteger(r, { type: CODE_BYTE, place: v.place }), 1, opts.format!);
        const addr = v.place.kind === 'memory' ? v.place.address : 0n;
        return `{${typeName(v.type)}} 0x${addr.toString(16)}${r.symbolSuffix(addr)}`;
      }
      case 'void':
        return 'void';
      default:
        return `<unknown type>`;
    }
  } catch (e) {
    // gdb's wording for a value in a register the unwinder could not recover.
    if (/not saved in this frame/.test((e as Error).message)) return '<not saved>';
    return `<error: ${(e as Error).message}>`;
  }
}

async function formatScalar(r: ValueReader, v: Value, t: Type & { kind: 'base' }, opts: FormatOptions): Promise<string> {
  const f = numeric(opts) ? opts.format! : undefined;
  if (t.encoding === DW_ATE.float) {
    // gdb formats a float's bits for x, z, o, t, d and u, and its value for c and a.
    if (f && f !== 'c' && f !== 'a' && f !== 'f') return integerText(r, fromBytes(await load(r, v), false), t.size, f);
    if (f === 'c' || f === 'a') return integerText(r, BigInt(Math.trunc(await asNumber(r, v))), t.size, f);
    const bytes = await load(r, v);
    return formatFloatBytes(bytes) ?? `<${bytes.length}-byte float>`;
  }
  if (t.encoding === DW_ATE_complex_float) {
    // gdb's `re + imi`, each part a float of half the size.
    const bytes = await load(r, v);
    const half = bytes.length / 2;
    return `${formatFloatBytes(bytes.subarray(0, half)) ?? '?'} + ${formatFloatBytes(bytes.subarray(half)) ?? '?'}i`;
  }
  const n = await asInteger(r, v);
  if (t.flags && !f) return flagsValueText(t.flags, BigInt.asUintN(t.size * 8, n));
  // A bitfield in its declared type's width, as gdb (a negative int:3 is 0xfffffffd in /x).
  if (f) return integerText(r, n, t.size, f, isSigned(v.type));
  if (t.encoding === DW_ATE.boolean) return n === 0n ? 'false' : n === 1n ? 'true' : n.toString();
  if ((t.encoding === DW_ATE.signed_char || t.encoding === DW_ATE.unsigned_char) && t.size === 1)
    return `${n} ${charLiteral(Number(BigInt.asUintN(8, n)))}`;
  return n.toString();
}

/** A format that prints numbers (every letter but 's', which is the natural form). */
function numeric(opts: FormatOptions): boolean {
  return opts.format !== undefined && opts.format !== 's';
}

/**
 * An integer of `size` bytes as gdb's print/FMT shows it; /f reads 4 or 8 bytes as a float, /c
 * the low byte as a char of the value's signedness.
 */
function integerText(r: ValueReader, n: bigint, size: number, format: PrintFormat, signed = true): string {
  const bits = Math.max(1, size) * 8;
  const u = BigInt.asUintN(bits, n);
  switch (format) {
    case 'x':
      return `0x${u.toString(16)}`;
    case 'z':
      return `0x${u.toString(16).padStart(size * 2, '0')}`;
    case 'o':
      return u === 0n ? '0' : `0${u.toString(8)}`;
    case 't':
      return u.toString(2);
    case 'u':
      return u.toString();
    case 'c':
      return `${signed ? BigInt.asIntN(8, n) : u & 0xffn} ${charLiteral(Number(u & 0xffn))}`;
    case 'a':
      return `0x${u.toString(16)}${r.symbolSuffix(u)}`;
    case 'f':
      if (size === 4 || size === 8) {
        const b = Buffer.from(toBytes(u, size));
        return formatFloat(size === 4 ? b.readFloatLE(0) : b.readDoubleLE(0), size);
      }
      return BigInt.asIntN(bits, n).toString();
    default:
      return BigInt.asIntN(bits, n).toString();
  }
}

const CODE_BYTE: Type = { kind: 'base', name: 'unsigned char', size: 1, encoding: DW_ATE.unsigned_char };

function flagEnum(values: { name: string; value: bigint }[], n: bigint): string | undefined {
  if (n <= 0n || !values.every((e) => e.value >= 0n && (e.value & (e.value - 1n)) === 0n)) return undefined;
  const names: string[] = [];
  let rest = n;
  for (const e of values) {
    if (e.value && (rest & e.value) === e.value) {
      names.push(e.name);
      rest &= ~e.value;
    }
  }
  if (!names.length) return undefined;
  return `(${names.join(' | ')}${rest ? ` | unknown: 0x${rest.toString(16)}` : ''})`;
}

/**
 * gdb prints no `(type)` before a `char *` (the quoted string shows it): the pointer, and what it
 * points to, may be const or volatile, but neither is a typedef, and the target is plain `char`.
 */
function isPlainCharPointer(t: Type): boolean {
  const p = stripQualifiers(t);
  if (p.kind !== 'pointer') return false;
  const target = stripQualifiers(p.target);
  return target.kind === 'base' && target.name === 'char';
}

export function isCharType(t: Type): boolean {
  const s = stripTypedefs(t);
  return s.kind === 'base' && s.size === 1 && (s.encoding === DW_ATE.signed_char || s.encoding === DW_ATE.unsigned_char);
}

const ESCAPES: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 27: '\\033' };

function escapeChar(c: number, quote: string): string {
  if (c === 92) return '\\\\';
  if (String.fromCharCode(c) === quote) return `\\${quote}`;
  if (ESCAPES[c]) return ESCAPES[c]!;
  if (c >= 32 && c < 127) return String.fromCharCode(c);
  return `\\${c.toString(8).padStart(3, '0')}`;
}

function charLiteral(c: number): string {
  return `'${escapeChar(c, "'")}'`;
}

/** A C string in guest memory as gdb prints it (`"abc"`, `"abc"...` past the limit). */
async function readString(r: ValueReader, address: bigint, limit: number): Promise<string> {
  const bytes: number[] = [];
  let at = address;
  try {
    while (bytes.length < limit) {
      const n = Math.min(64, limit - bytes.length, Number(0x1000n - (at & 0xfffn)));
      const chunk = await r.readMemory(at, n);
      const nul = chunk.indexOf(0);
      bytes.push(...(nul < 0 ? chunk : chunk.subarray(0, nul)));
      if (nul >= 0) return `"${bytes.map((c) => escapeChar(c, '"')).join('')}"`;
      at += BigInt(n);
    }
  } catch {
    return bytes.length
      ? `"${bytes.map((c) => escapeChar(c, '"')).join('')}"<error: cannot read memory>`
      : `<error: Cannot access memory at address 0x${address.toString(16)}>`;
  }
  return `"${bytes.map((c) => escapeChar(c, '"')).join('')}"...`;
}

export function memberValue(parent: Value, m: Member): Value {
  const bitField =
    m.bitSize !== undefined ? { bitOffset: (m.bitOffset ?? m.offset * 8) - m.offset * 8 + 0, bitSize: m.bitSize } : undefined;
  const byteOffset = m.bitSize !== undefined ? Math.floor((m.bitOffset ?? m.offset * 8) / 8) : m.offset;
  const bf = bitField && { bitOffset: (m.bitOffset ?? 0) - byteOffset * 8, bitSize: bitField.bitSize };
  return sliceValue(parent, m.type, byteOffset, bf);
}

/** A part of a value at a byte offset (member, element), sharing its place. */
function sliceValue(parent: Value, type: Type, byteOffset: number, bitField?: { bitOffset: number; bitSize: number }): Value {
  const size = bitField ? Math.ceil((bitField.bitOffset + bitField.bitSize) / 8) : sizeOf(type);
  const p = parent.place;
  const place: Place =
    p.kind === 'memory'
      ? { kind: 'memory', address: p.address + BigInt(byteOffset) }
      : p.kind === 'convenience'
        ? { ...p, offset: p.offset + byteOffset }
        : p.kind === 'none'
          ? p
          : { kind: 'none' };
  const base: Value = { type, place, ...(bitField && { bitField }) };
  if (parent.unavailable) return { ...base, unavailable: parent.unavailable };
  if (parent.unavailableBits) {
    // The part's bits, and the optimized-out ranges over them in its own numbering.
    const from = byteOffset * 8 + (bitField?.bitOffset ?? 0);
    const to = from + (bitField ? bitField.bitSize : size * 8);
    const over = parent.unavailableBits
      .filter(([a, b]) => a < to && b > from)
      .map(([a, b]): [number, number] => [Math.max(a, from) - byteOffset * 8, Math.min(b, to) - byteOffset * 8]);
    const t = stripTypedefs(type).kind;
    const aggregate = t === 'struct' || t === 'union' || t === 'class' || t === 'array';
    if (over.length && (!aggregate || over.some(([a, b]) => a <= 0 && b >= size * 8))) return { ...base, unavailable: '<optimized out>' };
    if (over.length) base.unavailableBits = over;
  }
  if (parent.place.kind !== 'memory') {
    if (!parent.bytes) return { ...base, unavailable: '<unavailable>' };
    base.bytes = parent.bytes.subarray(byteOffset, byteOffset + size);
  } else if (parent.bytes && byteOffset + size <= parent.bytes.length) {
    base.bytes = parent.bytes.subarray(byteOffset, byteOffset + size);
  }
  return base;
}

/** Element `i` of an array value (the first dimension; the rest stays an array). */
export function elementValue(v: Value, t: Type & { kind: 'array' }, i: number): Value {
  const inner: Type = t.dims.length > 1 ? { kind: 'array', element: t.element, dims: t.dims.slice(1) } : t.element;
  return sliceValue(v, inner, i * sizeOf(inner));
}

/**
 * An array as gdb prints it: a run of more than `repeats` elements with equal contents is shown
 * once with `<repeats N times>` and counts as `repeats` elements toward the `elements` limit.
 */
async function formatArray(r: ValueReader, v: Value, t: Type & { kind: 'array' }, opts: FormatOptions, depth: number): Promise<string> {
  const count = t.dims[0] ?? 0;
  const limit = opts.elements ?? ELEMENTS;
  const threshold = opts.repeats ?? REPEATS;
  if (t.dims.length === 1 && isCharType(t.element) && !numeric(opts)) {
    const bytes = await load(r, { ...v, type: t });
    return charArrayText(bytes.subarray(0, count), limit, threshold);
  }
  // Load the whole array once so elements are slices, not one read each.
  if (v.place.kind === 'memory' && !v.bytes && sizeOf(t) <= 1 << 20) v.bytes = await r.readMemory(v.place.address, sizeOf(t));
  const same = (a: Value, b: Value) =>
    !!a.bytes && !!b.bytes && a.bytes.length === b.bytes.length && a.bytes.every((x, k) => x === b.bytes![k]);
  const parts: string[] = [];
  let shown = 0;
  let i = 0;
  for (; i < count && shown < limit; i++) {
    const element = elementValue(v, t, i);
    let end = i + 1;
    while (end < count && same(element, elementValue(v, t, end))) end++;
    const text = await formatValue(r, element, opts, false, depth + 1);
    if (end - i > threshold) {
      parts.push(`${text} <repeats ${end - i} times>`);
      i = end - 1;
      shown += threshold;
    } else {
      parts.push(text);
      shown++;
    }
  }
  return `{${parts.join(', ')}${i < count ? '...' : ''}}`;
}

/** A char array as gdb prints it: the trailing NUL ends it; long runs become `'c' <repeats N times>`. */
function charArrayText(bytes: Uint8Array, limit: number, threshold = REPEATS): string {
  // print null-stop is off, but one trailing NUL is the terminator, not content.
  const len = bytes.length > 0 && bytes[bytes.length - 1] === 0 ? bytes.length - 1 : bytes.length;
  const segs: string[] = [];
  let str = '';
  for (let i = 0; i < Math.min(len, limit);) {
    let j = i + 1;
    while (j < len && bytes[j] === bytes[i]) j++;
    if (j - i > threshold) {
      if (str) segs.push(`"${str}"`);
      str = '';
      segs.push(`${charLiteral(bytes[i]!)} <repeats ${j - i} times>`);
      i = j;
    } else {
      for (let k = i; k < j && k < limit; k++) str += escapeChar(bytes[k]!, '"');
      i = j;
    }
  }
  if (str || !segs.length) segs.push(`"${str}"`);
  return segs.join(', ') + (len > limit ? '...' : '');
}
