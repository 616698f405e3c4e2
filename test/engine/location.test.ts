import { describe, expect, it } from 'vitest';
import { formatLocation, parseLocation } from '../../src/engine/location.js';

describe('parseLocation', () => {
  it.each([
    ['main.c:42', { kind: 'line', file: 'main.c', line: 42 }],
    ['src/app dir/demo.c:7', { kind: 'line', file: 'src/app dir/demo.c', line: 7 }],
    ['worker_step', { kind: 'function', name: 'worker_step' }],
    ['demo.c:worker_step', { kind: 'function', name: 'worker_step', file: 'demo.c' }],
    ['*0xffffffff81000000', { kind: 'address', address: 0xffffffff81000000n }],
    ['* 4096', { kind: 'address', address: 4096n }],
  ])('%s', (text, want) => {
    const spec = parseLocation(text);
    expect(spec).toEqual(want);
    expect(parseLocation(formatLocation(spec))).toEqual(spec);
  });

  it.each([
    ['', 'empty location'],
    ['*main', "bad address 'main' (want *0xHEX or *DECIMAL)"],
    ['*0x1ffffffffffffffff', 'address 0x1ffffffffffffffff does not fit 64 bits'],
    ['main.c:0', 'line 0 out of range'],
    ['main.c:4x', "bad location 'main.c:4x'"],
    ['a b', "bad location 'a b'"],
  ])('rejects %j', (text, msg) => {
    expect(() => parseLocation(text)).toThrow(msg);
  });
});
