// Cursor over a byte slice for the DWARF/ELF encodings (little-endian only: x86_64 is all we target).
// Offsets are plain numbers (sections are < 2 GiB); 64-bit values come back as bigint.

export class FormatError extends Error {
  constructor(
    /** The input that is malformed: a section, an ELF structure. */
    readonly what: string,
    message: string,
    /** The offset in that input where decoding failed, when known. */
    readonly at?: number,
  ) {
    super(`${what}: ${message}`);
    this.name = 'FormatError';
  }
}

export class ByteReader {
  private dataView: DataView | undefined;
  pos: number;

  constructor(
    readonly bytes: Uint8Array,
    /** Names the input in errors ("`.debug_line`", "ELF header", ...). */
    readonly what: string,
    pos = 0,
    /** Where bytes[0] lies in the input `what` names: errors give offsets in that input. */
    readonly origin = 0,
  ) {
    this.pos = pos;
  }

  /** Made on first use: most readers (one DIE, one list) never read a multi-byte integer. */
  private get view(): DataView {
    this.dataView ??= new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    return this.dataView;
  }

  get length(): number {
    return this.bytes.length;
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  get atEnd(): boolean {
    return this.pos >= this.bytes.length;
  }

  /** A reader over [pos, pos+len) of this one, positioned at its start; advances this reader past it. */
  sub(len: number, what = this.what): ByteReader {
    this.need(len);
    const r = new ByteReader(this.bytes.subarray(this.pos, this.pos + len), what, 0, this.origin + this.pos);
    this.pos += len;
    return r;
  }

  need(n: number): void {
    if (n < 0 || this.pos + n > this.bytes.length) {
      throw new FormatError(
        this.what,
        `truncated: need ${n} bytes at offset 0x${(this.origin + this.pos).toString(16)}, have ${Math.max(0, this.remaining)}`,
        this.origin + this.pos,
      );
    }
  }

  seek(pos: number): void {
    if (pos < 0 || pos > this.bytes.length) {
      throw new FormatError(
        this.what,
        `offset 0x${(this.origin + pos).toString(16)} out of range (size 0x${this.bytes.length.toString(16)})`,
        this.origin + pos,
      );
    }
    this.pos = pos;
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }

  i8(): number {
    this.need(1);
    return this.view.getInt8(this.pos++);
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  i16(): number {
    this.need(2);
    const v = this.view.getInt16(this.pos, true);
    this.pos += 2;
    return v;
  }

  u24(): number {
    this.need(3);
    const b = this.bytes;
    const v = b[this.pos]! | (b[this.pos + 1]! << 8) | (b[this.pos + 2]! << 16);
    this.pos += 3;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  i32(): number {
    this.need(4);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }

  u64(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  i64(): bigint {
    this.need(8);
    const v = this.view.getBigInt64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /**
   * A DWARF initial length (units, line programs, aranges, CFI entries): 32-bit, or 0xffffffff
   * then 64-bit, which also makes the section's offsets 8 bytes.
   */
  initialLength(): { length: number; offsetSize: 4 | 8 } {
    const at = this.pos;
    const length = this.u32();
    if (length === 0xffffffff) return { length: this.u64n(), offsetSize: 8 };
    if (length >= 0xfffffff0)
      throw new FormatError(
        this.what,
        `reserved unit length 0x${length.toString(16)} at offset 0x${(this.origin + at).toString(16)}`,
        this.origin + at,
      );
    return { length, offsetSize: 4 };
  }

  /** A u64 that must fit a JS number (offsets, lengths): errors instead of silently losing bits. */
  u64n(): number {
    const v = this.u64();
    if (v > BigInt(Number.MAX_SAFE_INTEGER))
      throw new FormatError(this.what, `value 0x${v.toString(16)} too large at offset 0x${(this.origin + this.pos - 8).toString(16)}`);
    return Number(v);
  }

  /** Unsigned integer of `size` bytes (1, 2, 4 or 8) as bigint: addresses. */
  addr(size: number): bigint {
    switch (size) {
      case 8:
        return this.u64();
      case 4:
        return BigInt(this.u32());
      case 2:
        return BigInt(this.u16());
      case 1:
        return BigInt(this.u8());
      default:
        throw new FormatError(this.what, `unsupported address size ${size}`);
    }
  }

  /** Unsigned integer of `size` bytes (1, 2, 4 or 8) as number: section offsets. */
  offset(size: number): number {
    switch (size) {
      case 4:
        return this.u32();
      case 8:
        return this.u64n();
      case 2:
        return this.u16();
      case 1:
        return this.u8();
      default:
        throw new FormatError(this.what, `unsupported offset size ${size}`);
    }
  }

  /** ULEB128 as number; errors past 2^53 (use uleb128Big for values that may be that large). */
  uleb128(): number {
    // One byte is the common case (DIE codes, line program operands).
    const first = this.bytes[this.pos];
    if (first !== undefined && first < 0x80) {
      this.pos++;
      return first;
    }
    let result = 0;
    let mul = 1;
    for (;;) {
      const b = this.u8();
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) break;
      mul *= 128;
      if (mul > 2 ** 56) {
        // Keep consuming so the cursor stays in sync, then refuse the value.
        while (this.u8() & 0x80);
        throw new FormatError(this.what, `ULEB128 too large at offset 0x${(this.origin + this.pos).toString(16)}`, this.origin + this.pos);
      }
    }
    if (result > Number.MAX_SAFE_INTEGER)
      throw new FormatError(this.what, `ULEB128 too large at offset 0x${(this.origin + this.pos).toString(16)}`, this.origin + this.pos);
    return result;
  }

  sleb128(): number {
    const first = this.bytes[this.pos];
    if (first !== undefined && first < 0x80) {
      this.pos++;
      return first & 0x40 ? first - 0x80 : first;
    }
    let result = 0;
    let mul = 1;
    let b: number;
    do {
      b = this.u8();
      result += (b & 0x7f) * mul;
      mul *= 128;
      if (mul > 2 ** 63) {
        while (b & 0x80) b = this.u8();
        throw new FormatError(this.what, `SLEB128 too large at offset 0x${(this.origin + this.pos).toString(16)}`, this.origin + this.pos);
      }
    } while (b & 0x80);
    if (b & 0x40) result -= mul;
    return result;
  }

  uleb128Big(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.u8();
      if (shift < 64n) result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if ((b & 0x80) === 0) break;
    }
    return BigInt.asUintN(64, result);
  }

  sleb128Big(): bigint {
    let result = 0n;
    let shift = 0n;
    let b: number;
    do {
      b = this.u8();
      if (shift < 64n) result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
    } while (b & 0x80);
    if (shift < 64n && b & 0x40) result -= 1n << shift;
    return BigInt.asIntN(64, result);
  }

  /** NUL-terminated string (UTF-8). */
  cstr(): string {
    const end = this.bytes.indexOf(0, this.pos);
    if (end < 0)
      throw new FormatError(this.what, `unterminated string at offset 0x${(this.origin + this.pos).toString(16)}`, this.origin + this.pos);
    const s = decoder.decode(this.bytes.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }

  bytesN(n: number): Uint8Array {
    this.need(n);
    const b = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
}

const decoder = new TextDecoder('utf-8');

/** NUL-terminated string at `offset` of a string table. */
export function cstrAt(bytes: Uint8Array, offset: number, what: string): string {
  if (offset < 0 || offset >= bytes.length) throw new FormatError(what, `string offset 0x${offset.toString(16)} out of range`);
  const end = bytes.indexOf(0, offset);
  if (end < 0) throw new FormatError(what, `unterminated string at offset 0x${offset.toString(16)}`);
  return decoder.decode(bytes.subarray(offset, end));
}
