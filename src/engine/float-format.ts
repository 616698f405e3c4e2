// Floating-point values as gdb prints them: printf's %g with DECIMAL_DIG significant digits of the
// format (9 for float, 17 for double, 21 for x87 long double: ceil(1 + p * log10(2))), computed
// exactly from the bits (a long double has no host type), and nan(0xMANTISSA) / inf.
import { decodeExtended } from '../../symbols/expr/extended.js';

interface Decoded {
  negative: boolean;
  kind: 'finite' | 'inf' | 'nan';
  /** Finite: the value is mantissa * 2^exponent. NaN: the mantissa field, as gdb shows it. */
  mantissa: bigint;
  exponent: number;
}

function decode(bytes: Uint8Array): Decoded | undefined {
  let bits = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) bits = (bits << 8n) | BigInt(bytes[i]!);
  const ieee = (expBits: number, manBits: number): Decoded => {
    const mantissa = bits & ((1n << BigInt(manBits)) - 1n);
    const e = Number((bits >> BigInt(manBits)) & ((1n << BigInt(expBits)) - 1n));
    const negative = bits >> BigInt(manBits + expBits) === 1n;
    const bias = 2 ** (expBits - 1) - 1;
    if (e === 2 ** expBits - 1) return { negative, kind: mantissa === 0n ? 'inf' : 'nan', mantissa, exponent: 0 };
    return {
      negative,
      kind: 'finite',
      mantissa: e === 0 ? mantissa : mantissa | (1n << BigInt(manBits)),
      exponent: (e === 0 ? 1 : e) - bias - manBits,
    };
  };
  if (bytes.length === 4) return ieee(8, 23);
  if (bytes.length === 8) return ieee(11, 52);
  if (bytes.length === 10 || bytes.length === 12 || bytes.length === 16) {
    bits = BigInt.asUintN(80, bits);
    const x = decodeExtended(bits);
    if (x) return { ...x, kind: 'finite' };
    const mantissa = BigInt.asUintN(64, bits);
    return { negative: bits >> 79n === 1n, kind: BigInt.asUintN(63, mantissa) === 0n ? 'inf' : 'nan', mantissa, exponent: 0 };
  }
  return undefined;
}

/** Significant digits gdb prints for a float of `size` bytes. */
function digitsFor(size: number): number {
  return size === 4 ? 9 : size === 8 ? 17 : 21;
}

/** The float in `bytes` (4, 8, or an x87 long double's 10-16) as gdb prints it (`digits`: %g's precision); undefined for other sizes. */
export function formatFloatBytes(bytes: Uint8Array, digits = digitsFor(bytes.length)): string | undefined {
  const d = decode(bytes);
  if (!d) return undefined;
  const sign = d.negative ? '-' : '';
  if (d.kind === 'inf') return `${sign}inf`;
  if (d.kind === 'nan') return `${sign}nan(0x${d.mantissa.toString(16)})`;
  return sign + formatG(d.mantissa, d.exponent, digits);
}

/** A double or float (`size` 4) as gdb prints it. */
export function formatFloat(n: number, size: number): string {
  const b = Buffer.alloc(size === 4 ? 4 : 8);
  if (size === 4) b.writeFloatLE(n);
  else b.writeDoubleLE(n);
  return formatFloatBytes(b)!;
}

/** printf("%.{precision}g") of mantissa * 2^exponent (non-negative), exactly, ties to even. */
function formatG(mantissa: bigint, exponent: number, precision: number): string {
  if (mantissa === 0n) return '0';
  // Exact decimal digits and the power of ten of the first one.
  let digits: string;
  let scale: number; // value = 0.digits... no: value = digits * 10^scale
  if (exponent >= 0) {
    digits = (mantissa << BigInt(exponent)).toString();
    scale = 0;
  } else {
    digits = (mantissa * 5n ** BigInt(-exponent)).toString();
    scale = exponent;
  }
  let exp10 = digits.length - 1 + scale;
  // Round to `precision` significant digits.
  let kept = digits.slice(0, precision);
  const rest = digits.slice(precision);
  if (rest.length > 0) {
    const first = rest.charCodeAt(0) - 48;
    const tail = /[1-9]/.test(rest.slice(1));
    const odd = (kept.charCodeAt(kept.length - 1) - 48) % 2 === 1;
    if (first > 5 || (first === 5 && (tail || odd))) {
      const up = (BigInt(kept) + 1n).toString();
      if (up.length > kept.length) {
        exp10++;
        kept = up.slice(0, precision);
      } else kept = up;
    }
  }
  kept = kept.padEnd(precision, '0');
  let text: string;
  if (exp10 < -4 || exp10 >= precision) {
    const m = `${kept[0]}.${kept.slice(1)}`.replace(/0+$/, '').replace(/\.$/, '');
    text = `${m}e${exp10 < 0 ? '-' : '+'}${String(Math.abs(exp10)).padStart(2, '0')}`;
  } else if (exp10 >= 0) {
    const int = kept.slice(0, exp10 + 1);
    const frac = kept.slice(exp10 + 1).replace(/0+$/, '');
    text = frac ? `${int}.${frac}` : int;
  } else {
    const frac = ('0'.repeat(-exp10 - 1) + kept).replace(/0+$/, '');
    text = `0.${frac}`;
  }
  return text;
}
