// DW_FORM_implicit_const values are SLEB128 of up to 64 bits: Debian's vmlinux stores enumerators
// like 0x8000000000000000 that way (found by the vmlinux symbolizer bench).
import { describe, expect, it } from 'vitest';
import { parseAbbrevTable } from '../../symbols/dwarf/abbrev.js';

function sleb(v: bigint): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    if ((v === 0n && !(byte & 0x40)) || (v === -1n && byte & 0x40)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

describe('abbreviation tables', () => {
  it('keeps 64-bit implicit constants exact and small ones as numbers', () => {
    const DW_TAG_enumerator = 0x28;
    const DW_AT_const_value = 0x1c;
    const DW_FORM_implicit_const = 0x21;
    const bytes = new Uint8Array([
      1,
      DW_TAG_enumerator,
      0,
      DW_AT_const_value,
      DW_FORM_implicit_const,
      ...sleb(-(1n << 63n)),
      0,
      0,
      2,
      DW_TAG_enumerator,
      0,
      DW_AT_const_value,
      DW_FORM_implicit_const,
      ...sleb(-5n),
      0,
      0,
      0,
    ]);
    const table = parseAbbrevTable(bytes, 0);
    const spec = (code: number) => table.first[table.index(code)]!;
    expect(table.implicit(spec(1))).toBe(-(1n << 63n));
    expect(table.implicit(spec(2))).toBe(-5);
  });
});
