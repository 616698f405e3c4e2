// Floats as gdb prints them (%g with 9, 17 and 21 significant digits), checked against glibc's
// printf on the same bits (%.9g, %.17g, %.21Lg: the table was printed by a C program on x86-64).
import { describe, expect, it } from 'vitest';
import { formatFloatBytes } from '../../src/engine/float-format.js';

const GLIBC: Array<[string, string, string]> = [
  ['L', '4000f000000000000000', '3.75'],
  ['L', '3ffdaaaaaaaaaaaaaaab', '0.333333333333333333342'],
  ['L', '3fffa000000000000000', '1.25'],
  ['L', '8c18c34cd067e3060730', '-2.49999999999999999997e-4000'],
  ['L', '73e6d1ba8323fe558c61', '9.99999999999999999997e+3999'],
  ['L', '00018000000000000000', '3.36210314311209350626e-4932'],
  ['L', '7ffeffffffffffffffff', '1.18973149535723176502e+4932'],
  ['L', '3ffbcccccccccccccccd', '0.100000000000000000001'],
  ['L', '4041d629d3f025e6cd87', '123456789012345678904'],
  ['L', '3feea7c5ac471b478423', '9.99999999999999999995e-06'],
  ['D', '402d5a1cac083127', '14.676'],
  ['D', '3ee4f8b588e368f1', '1.0000000000000001e-05'],
  ['D', '3f202c9dedbc309d', '0.00012339999999999999'],
  ['D', '4341c37937e08000', '10000000000000000'],
  ['D', '4376345785d8a000', '1e+17'],
  ['D', '419d6f3454000000', '123456789'],
  ['D', '0000000000000001', '4.9406564584124654e-324'],
  ['D', '7fefffffffffffff', '1.7976931348623157e+308'],
  ['D', '3fb999999999999a', '0.10000000000000001'],
  ['D', '4004000000000000', '2.5'],
  ['D', '8000000000000000', '-0'],
  ['D', '3fd5555555555555', '0.33333333333333331'],
  ['F', '406ad0e5', '3.66899991'],
  ['F', '3727c5ac', '9.99999975e-06'],
  ['F', '4b800000', '16777216'],
  ['F', '4e6e6b28', '1e+09'],
  ['F', '3dcccccd', '0.100000001'],
];

const bytesOf = (hex: string, size: number) =>
  Uint8Array.from({ length: size }, (_, i) => parseInt(hex.slice(hex.length - 2 * (i + 1), hex.length - 2 * i) || '0', 16));

describe('float formatting as gdb', () => {
  it.each(GLIBC)('%s %s prints as printf does: %s', (kind, hex, text) => {
    // A long double as a variable holds it: 10 bytes of value in 16 of storage.
    const size = kind === 'F' ? 4 : kind === 'D' ? 8 : 16;
    expect(formatFloatBytes(bytesOf(hex, size))).toBe(text);
  });
  it('names infinities and NaNs with their mantissa field, as gdb', () => {
    expect(formatFloatBytes(bytesOf('7ff8000000000000', 8))).toBe('nan(0x8000000000000)');
    expect(formatFloatBytes(bytesOf('ffc00000', 4))).toBe('-nan(0x400000)');
    expect(formatFloatBytes(bytesOf('fff0000000000000', 8))).toBe('-inf');
    expect(formatFloatBytes(bytesOf('7fff8000000000000000', 16))).toBe('inf');
    expect(formatFloatBytes(bytesOf('7fffc000000000000000', 16))).toBe('nan(0xc000000000000000)');
  });
});
