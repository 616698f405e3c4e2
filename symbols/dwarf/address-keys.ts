// Addresses inside the symbol tables as plain numbers ("keys"): the distance from a base, the
// image's lowest code address. A kernel's 0xffffffff8... addresses do not fit a double, but their
// distances from the kernel's text do, so tables and their hot loops stay off bigint. A key is exact
// within ±2^52 of the base and NaN farther away (code discarded at 0 in a high-linked image):
// NaN compares false with everything, so such a range never holds a pc.

const TWO32 = 4294967296;
/** Largest distance, in units of 2^32, a key may be from the base (keeps |key| < 2^52). */
const MAX_HIGH = 0xfffff;

export class AddressKeys {
  private readonly baseLo: number;
  private readonly baseHi: number;

  constructor(readonly base: bigint) {
    this.baseLo = Number(base & 0xffffffffn);
    this.baseHi = Number((base >> 32n) & 0xffffffffn);
  }

  /** The key of the address whose low and high 32-bit halves are `lo` and `hi`. */
  fromHalves(lo: number, hi: number): number {
    const dh = hi - this.baseHi;
    return dh > MAX_HIGH || dh < -MAX_HIGH ? NaN : dh * TWO32 + (lo - this.baseLo);
  }

  /** The key of a little-endian address of `size` bytes at `pos` of `b` (bounds checked by the caller). */
  read(b: Uint8Array, pos: number, size: number): number {
    if (size === 8) return this.fromHalves(u32(b, pos), u32(b, pos + 4));
    if (size === 4) return this.fromHalves(u32(b, pos), 0);
    return this.fromHalves(size === 2 ? b[pos]! | (b[pos + 1]! << 8) : b[pos]!, 0);
  }

  /** The key of (a + b) mod 2^64, a and b given as 32-bit halves (a base address plus an offset from it). */
  sum(aLo: number, aHi: number, bLo: number, bHi: number): number {
    const lo = aLo + bLo;
    const carry = lo >= TWO32 ? 1 : 0;
    return this.fromHalves(lo - carry * TWO32, (aHi + bHi + carry) % TWO32);
  }

  fromBigint(addr: bigint): number {
    return this.fromHalves(Number(addr & 0xffffffffn), Number((addr >> 32n) & 0xffffffffn));
  }

  toBigint(key: number): bigint {
    return BigInt.asUintN(64, this.base + BigInt(key));
  }
}

export function u32(b: Uint8Array, pos: number): number {
  return (b[pos]! | (b[pos + 1]! << 8) | (b[pos + 2]! << 16)) + b[pos + 3]! * 0x1000000;
}
