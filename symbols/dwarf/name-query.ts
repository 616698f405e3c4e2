// A name looked up in the DIEs, held as where its string lies: its offsets in the string sections,
// so name attributes compare as numbers without decoding, and its bytes for DW_FORM_string names.
// It also gives the bytes a unit must contain to carry it (the references to those offsets, the
// inline string), which Dwarf.findBytes looks for in the raw .debug_info.
import { DW_FORM } from './constants.js';
import type { Dwarf } from './dwarf.js';
import type { Unit } from './unit.js';

const utf8 = new TextEncoder();

export class NameQuery {
  /** The name's UTF-8 bytes. */
  readonly bytes: Uint8Array;
  /** Offsets in .debug_str and .debug_line_str where the name is a whole string (a tail of a longer one included). */
  readonly str: ReadonlySet<number>;
  readonly lineStr: ReadonlySet<number>;

  constructor(
    dwarf: Dwarf,
    readonly text: string,
  ) {
    this.bytes = utf8.encode(text);
    this.str = new Set(dwarf.stringOffsets('.debug_str', this.bytes));
    this.lineStr = new Set(dwarf.stringOffsets('.debug_line_str', this.bytes));
  }

  /**
   * Is a name attribute of `form` with `value` (an offset or index) this name? `inline` is the
   * attribute's own bytes for DW_FORM_string.
   */
  is(unit: Unit, form: number, value: number, inline: Uint8Array | undefined): boolean {
    switch (form) {
      case DW_FORM.strp:
        return this.str.has(value);
      case DW_FORM.line_strp:
        return this.lineStr.has(value);
      case DW_FORM.string:
        return inline !== undefined && sameBytes(inline, this.bytes);
      case DW_FORM.strx:
      case DW_FORM.strx1:
      case DW_FORM.strx2:
      case DW_FORM.strx3:
      case DW_FORM.strx4:
      case DW_FORM.GNU_str_index:
        return this.str.size > 0 && this.str.has(unit.indexedStringOffset(value));
      default:
        return false;
    }
  }

  /**
   * The byte strings of which a unit's DIEs must hold one to carry this name: each string offset
   * (in each of the offset `sizes` units use), and the name inline with its NUL.
   */
  needles(sizes: ReadonlySet<number>): Uint8Array[] {
    const inline = new Uint8Array(this.bytes.length + 1);
    inline.set(this.bytes);
    return [...offsetBytes([...this.str, ...this.lineStr], sizes), inline];
  }

  /** The entries of .debug_str_offsets that name it: its .debug_str offsets in each of `sizes`. */
  indexNeedles(sizes: ReadonlySet<number>): Uint8Array[] {
    return offsetBytes([...this.str], sizes);
  }
}

/** Each offset as a little-endian integer of each size. */
function offsetBytes(offsets: number[], sizes: ReadonlySet<number>): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const off of new Set(offsets)) {
    for (const size of sizes) {
      const b = new Uint8Array(size);
      for (let i = 0, v = off; i < size; i++, v = Math.floor(v / 256)) b[i] = v % 256;
      out.push(b);
    }
  }
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
