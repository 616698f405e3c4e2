// The System V x86-64 classification of return types (psABI 3.2.3) that `finish` reads values by.
import { describe, expect, it } from 'vitest';
import type { Type } from '../../symbols/index.js';
import { classify } from '../../src/engine/return-value.js';

const base = (name: string, size: number, encoding: number): Type => ({ kind: 'base', name, size, encoding });
const long = base('long', 8, 5);
const int = base('int', 4, 5);
const double = base('double', 8, 4);
const float = base('float', 4, 4);
const longDouble = base('long double', 16, 4);
const struct = (members: Array<[Type, number]>, size: number, kind: 'struct' | 'union' = 'struct'): Type => ({
  kind,
  size,
  declaration: false,
  die: 0,
  members: members.map(([type, offset], i) => ({ name: `m${i}`, type, offset })),
});

describe('SysV x86-64 return classes', () => {
  it('classifies scalars', () => {
    expect(classify(long)).toEqual(['integer']);
    expect(classify(double)).toEqual(['sse']);
    expect(classify(float)).toEqual(['sse']);
    expect(classify(longDouble)).toEqual(['x87', 'x87up']);
    expect(classify({ kind: 'pointer', target: int, size: 8 })).toEqual(['integer']);
    expect(classify(base('__int128', 16, 5))).toEqual(['integer', 'integer']);
    expect(classify(base('complex double', 16, 3))).toEqual(['sse', 'sse']);
    expect(classify(base('complex long double', 32, 3))).toEqual(['complex-x87']);
  });
  it('classifies structs by eightbyte, merging their fields', () => {
    expect(
      classify(
        struct(
          [
            [long, 0],
            [long, 8],
          ],
          16,
        ),
      ),
    ).toEqual(['integer', 'integer']); // rax:rdx
    expect(
      classify(
        struct(
          [
            [double, 0],
            [double, 8],
          ],
          16,
        ),
      ),
    ).toEqual(['sse', 'sse']); // xmm0:xmm1
    expect(
      classify(
        struct(
          [
            [double, 0],
            [long, 8],
          ],
          16,
        ),
      ),
    ).toEqual(['sse', 'integer']); // xmm0, rax
    expect(
      classify(
        struct(
          [
            [float, 0],
            [int, 4],
          ],
          8,
        ),
      ),
    ).toEqual(['integer']); // INTEGER wins the merge
    expect(
      classify(
        struct(
          [
            [float, 0],
            [float, 4],
            [float, 8],
          ],
          12,
        ),
      ),
    ).toEqual(['sse', 'sse']);
    expect(
      classify(
        struct(
          [
            [{ kind: 'array', element: double, dims: [3] }, 0],
            [long, 24],
          ],
          32,
        ),
      ),
    ).toBe('memory');
    expect(classify(struct([[longDouble, 0]], 16))).toEqual(['x87', 'x87up']); // st0
    expect(
      classify(
        struct(
          [
            [longDouble, 0],
            [long, 0],
          ],
          16,
          'union',
        ),
      ),
    ).toBe('memory'); // X87 merged with INTEGER
  });
});
