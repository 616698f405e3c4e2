// Dwarf.readSized: something of unknown length (a location list) read from a window that grows
// until it holds the whole thing, never from the whole section unless that is in memory already.
import { describe, expect, it } from 'vitest';
import { Dwarf, memorySource, type DwarfSource } from '../../symbols/dwarf/dwarf.js';
import { ByteReader, FormatError } from '../../symbols/reader.js';

/** A section of `size` bytes, all 1 but a 0 at `end`; reads counted with their lengths. */
function source(size: number, end: number): { src: DwarfSource; reads: number[] } {
  const bytes = new Uint8Array(size).fill(1);
  if (end < size) bytes[end] = 0;
  const mem = memorySource((name) => (name === '.debug_loclists' ? bytes : undefined));
  const reads: number[] = [];
  const src: DwarfSource = {
    ...mem,
    section: () => {
      throw new Error('the whole section was read');
    },
    range: (name, offset, length) => {
      reads.push(length);
      return mem.range(name, offset, length);
    },
  };
  return { src, reads };
}

/** The section offset of the first 0 at or after the reader's position (a list's end). */
const terminator = (bytes: Uint8Array, pos: number, origin: number) => {
  const r = new ByteReader(bytes, '.debug_loclists', pos, origin);
  while (r.u8() !== 0);
  return origin + r.pos - 1;
};

describe('Dwarf.readSized', () => {
  it('reads a short list from one small window', () => {
    const { src, reads } = source(1 << 20, 1000 + 40);
    expect(new Dwarf(src, 0n).readSized('.debug_loclists', 1000, terminator)).toBe(1040);
    expect(reads).toEqual([512]);
  });

  it('grows the window until the list fits, never past the section', () => {
    const { src, reads } = source(100_000, 70_000);
    expect(new Dwarf(src, 0n).readSized('.debug_loclists', 3000, terminator)).toBe(70_000);
    expect(reads).toEqual([512, 4096, 32768, 97000]);
  });

  it("gives the parse's own error when the list runs past the section's end", () => {
    const { src, reads } = source(5000, 5000);
    const dwarf = new Dwarf(src, 0n);
    expect(() => dwarf.readSized('.debug_loclists', 100, terminator)).toThrow(/truncated: need 1 bytes at offset 0x1388/);
    expect(reads.at(-1)).toBe(4900);
  });

  it('refuses an offset outside the section', () => {
    const { src, reads } = source(5000, 10);
    const dwarf = new Dwarf(src, 0n);
    expect(() => dwarf.readSized('.debug_loclists', 5000, terminator)).toThrow(FormatError);
    expect(() => dwarf.readSized('.debug_loclists', 5000, terminator)).toThrow(/offset past the end of the section \(size 0x1388\)/);
    expect(reads).toEqual([]);
  });

  it('passes errors other than truncation through at once', () => {
    const { src, reads } = source(100_000, 99_000);
    const fail = () => {
      throw new TypeError('not a format error');
    };
    expect(() => new Dwarf(src, 0n).readSized('.debug_loclists', 0, fail)).toThrow(TypeError);
    expect(reads).toEqual([512]);
  });
});
