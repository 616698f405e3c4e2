// x87 80-bit extended precision (`long double`, stored in 10 of 12 or 16 bytes) for typed DWARF
// ops: exact arithmetic on mantissa and exponent, rounded to 64 mantissa bits (nearest, ties to
// even) as the FPU computes in its default precision. The host has no such type.

/** A finite value: (-1)^negative * mantissa * 2^exponent. */
interface Exact {
  negative: boolean;
  mantissa: bigint;
  exponent: number;
}

const BIAS = 16383;

export function decodeExtended(bits: bigint): Exact | undefined {
  const mantissa = BigInt.asUintN(64, bits);
  const se = Number((bits >> 64n) & 0xffffn);
  const e = se & 0x7fff;
  if (e === 0x7fff) return undefined; // infinity or NaN
  return { negative: (se & 0x8000) !== 0, mantissa, exponent: (e === 0 ? 1 : e) - BIAS - 63 };
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** The exact value rounded to the extended format's bits; undefined on overflow. */
export function encodeExtended(x: Exact): bigint | undefined {
  let { mantissa: m, exponent: e } = x;
  const sign = x.negative ? 0x8000n : 0n;
  if (m === 0n) return sign << 64n;
  let shift = bitLength(m) - 64;
  // Below the normal range: keep the exponent at its minimum (a denormal).
  const minExponent = 1 - BIAS - 63;
  if (e + shift < minExponent) shift = minExponent - e;
  if (shift > 0) {
    const low = m & ((1n << BigInt(shift)) - 1n);
    const half = 1n << BigInt(shift - 1);
    m >>= BigInt(shift);
    if (low > half || (low === half && (m & 1n) === 1n)) m += 1n;
    e += shift;
    if (bitLength(m) > 64) {
      m >>= 1n;
      e += 1;
    }
  } else if (shift < 0) {
    m <<= BigInt(-shift);
    e += shift;
  }
  const biased = m >> 63n === 0n ? 0 : e + 63 + BIAS;
  if (biased >= 0x7fff) return undefined;
  return ((sign | BigInt(biased)) << 64n) | m;
}

function aligned(a: Exact, b: Exact): [bigint, bigint, number] {
  const e = Math.min(a.exponent, b.exponent);
  const x = (a.mantissa << BigInt(a.exponent - e)) * (a.negative ? -1n : 1n);
  const y = (b.mantissa << BigInt(b.exponent - e)) * (b.negative ? -1n : 1n);
  return [x, y, e];
}

const fromSigned = (m: bigint, exponent: number): Exact => ({ negative: m < 0n, mantissa: m < 0n ? -m : m, exponent });

/** a OP b for DW_OP_plus, minus, mul, div; undefined for what this cannot compute (division by zero). */
export function extendedArithmetic(op: 'plus' | 'minus' | 'mul' | 'div', a: Exact, b: Exact): Exact | undefined {
  switch (op) {
    case 'plus':
    case 'minus': {
      const [x, y, e] = aligned(a, b);
      return fromSigned(op === 'plus' ? x + y : x - y, e);
    }
    case 'mul':
      return { negative: a.negative !== b.negative, mantissa: a.mantissa * b.mantissa, exponent: a.exponent + b.exponent };
    case 'div': {
      if (b.mantissa === 0n) return undefined;
      // 130 quotient bits and a sticky bit for what remains: enough to round to 64 exactly.
      const n = a.mantissa << 130n;
      let q = n / b.mantissa;
      q = (q << 1n) | (n % b.mantissa === 0n ? 0n : 1n);
      return { negative: a.negative !== b.negative, mantissa: q, exponent: a.exponent - b.exponent - 131 };
    }
  }
}

/** -1, 0 or 1 as a is less than, equal to or greater than b. */
export function extendedCompare(a: Exact, b: Exact): number {
  const [x, y] = aligned(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The nearest double, for conversions to smaller float types. */
export function extendedToNumber(x: Exact): number {
  const shift = Math.max(0, bitLength(x.mantissa) - 60);
  const m = Number(x.mantissa >> BigInt(shift));
  return (x.negative ? -1 : 1) * m * 2 ** (x.exponent + shift);
}

export function numberToExtended(x: number): Exact {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(x);
  const bits = b.readBigUInt64LE(0);
  const e = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  return { negative: bits >> 63n === 1n, mantissa: e === 0 ? frac : frac | (1n << 52n), exponent: (e === 0 ? 1 : e) - 1023 - 52 };
}
