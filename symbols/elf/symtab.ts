// ELF symbols sorted by address (address -> symbol + offset) and indexed by name. The table is
// kept as the file has it plus a sorted index; a symbol's object and name are made when a lookup
// returns it (a kernel has 130,000 symbols and a symbolizer needs a few), the name index on the
// first lookup by name.
import { cstrAt } from '../reader.js';
import { u32 } from '../dwarf/address-keys.js';
import { ElfError } from './errors.js';
import { SHN, STB, STT, type ElfSymbol } from './types.js';
import { partitionPoint } from '../search.js';

export interface SymbolHit {
  symbol: ElfSymbol;
  offset: bigint;
}

const TWO32 = 4294967296;

export class SymbolTable {
  private readonly made = new Map<number, ElfSymbol>();
  private byName: Map<string, number[]> | undefined;
  private all: ElfSymbol[] | undefined;

  private constructor(
    private readonly entries: Uint8Array,
    private readonly strtab: Uint8Array,
    private readonly is64: boolean,
    /** Entries with an address, sorted by address (ties: sized, function, global first). */
    private readonly order: Uint32Array,
    /** Their addresses' 32-bit halves, in that order. */
    private readonly hi: Uint32Array,
    private readonly lo: Uint32Array,
  ) {}

  static empty(): SymbolTable {
    return new SymbolTable(new Uint8Array(0), new Uint8Array(0), true, new Uint32Array(0), new Uint32Array(0), new Uint32Array(0));
  }

  static parse(bytes: Uint8Array, strtab: Uint8Array, is64: boolean, section: string): SymbolTable {
    const entsize = is64 ? 24 : 16;
    if (bytes.length % entsize !== 0) throw new ElfError(`section ${section}`, `size ${bytes.length} is not a multiple of ${entsize}`);
    const n = bytes.length / entsize;
    const kept: number[] = [];
    const his: number[] = [];
    for (let i = 0; i < n; i++) {
      const p = i * entsize;
      const nameOff = u32(bytes, p);
      const info = bytes[p + (is64 ? 4 : 12)]!;
      const shndx = bytes[p + (is64 ? 6 : 14)]! | (bytes[p + (is64 ? 7 : 15)]! << 8);
      const type = info & 0xf;
      if (nameOff >= strtab.length && nameOff !== 0) throw new ElfError('symbol string table', `string offset 0x${nameOff.toString(16)} out of range`);
      if (nameOff === 0 || strtab[nameOff] === 0 || shndx === SHN.UNDEF || type === STT.SECTION || type === STT.FILE || type === STT.TLS) continue;
      kept.push(i);
      his.push(is64 ? u32(bytes, p + 12) : 0);
    }
    // Sort keys: the address as (rank of its high half among the distinct ones) * 2^32 + low half, exact in a double.
    const distinct = [...new Set(his)].sort((a, b) => a - b);
    const rankOf = new Map(distinct.map((h, i) => [h, i]));
    const key = new Float64Array(kept.length);
    const tie = new Uint8Array(kept.length);
    for (let k = 0; k < kept.length; k++) {
      const p = kept[k]! * entsize;
      key[k] = rankOf.get(his[k]!)! * TWO32 + u32(bytes, p + (is64 ? 8 : 4));
      const info = bytes[p + (is64 ? 4 : 12)]!;
      const sized = is64 ? u32(bytes, p + 16) !== 0 || u32(bytes, p + 20) !== 0 : u32(bytes, p + 8) !== 0;
      tie[k] = rank(info & 0xf, info >> 4, sized);
    }
    const idx = sortedIndices(key, tie);
    const order = new Uint32Array(idx.length);
    const hi = new Uint32Array(idx.length);
    const lo = new Uint32Array(idx.length);
    idx.forEach((k, j) => {
      order[j] = kept[k]!;
      hi[j] = his[k]!;
      lo[j] = u32(bytes, kept[k]! * entsize + (is64 ? 8 : 4));
    });
    return new SymbolTable(bytes, strtab, is64, order, hi, lo);
  }

  /** Code and data symbols with an address, sorted by address (ties: sized, global, function first). */
  get sorted(): readonly ElfSymbol[] {
    this.all ??= Array.from(this.order, (_, j) => this.symbol(j));
    return this.all;
  }

  /** The symbol containing `addr`: a sized one whose range holds it, else the nearest one before it (addr2line's rule). */
  lookup(addr: bigint): SymbolHit | undefined {
    const h = Number((addr >> 32n) & 0xffffffffn);
    const l = Number(addr & 0xffffffffn);
    const { hi, lo } = this;
    const at = partitionPoint(hi.length, (j) => hi[j]! < h || (hi[j] === h && lo[j]! <= l));
    // Sized symbols may nest (a function inside a section-sized symbol): look back a little.
    for (let j = at - 1; j >= 0 && j >= at - 16; j--) {
      const s = this.symbol(j);
      if (s.size !== 0n && addr < s.address + s.size) return { symbol: s, offset: addr - s.address };
    }
    if (at === 0) return undefined;
    const nearest = this.symbol(at - 1);
    return { symbol: nearest, offset: addr - nearest.address };
  }

  /** Symbols named `name` (a static function may exist in several files). */
  find(name: string): readonly ElfSymbol[] {
    if (!this.byName) {
      this.byName = new Map();
      for (let j = 0; j < this.order.length; j++) {
        const n = this.nameOf(this.order[j]!);
        const list = this.byName.get(n);
        if (list) list.push(j);
        else this.byName.set(n, [j]);
      }
    }
    return (this.byName.get(name) ?? []).map((j) => this.symbol(j));
  }

  /** The j-th symbol in address order. */
  private symbol(j: number): ElfSymbol {
    let s = this.made.get(j);
    if (!s) {
      const i = this.order[j]!;
      const b = this.entries;
      const p = i * (this.is64 ? 24 : 16);
      const info = b[p + (this.is64 ? 4 : 12)]!;
      const word = (at: number) => (this.is64 ? BigInt(u32(b, at)) | (BigInt(u32(b, at + 4)) << 32n) : BigInt(u32(b, at)));
      s = {
        name: this.nameOf(i),
        address: word(p + (this.is64 ? 8 : 4)),
        size: word(p + (this.is64 ? 16 : 8)),
        type: info & 0xf,
        bind: info >> 4,
        shndx: b[p + (this.is64 ? 6 : 14)]! | (b[p + (this.is64 ? 7 : 15)]! << 8),
      };
      this.made.set(j, s);
    }
    return s;
  }

  private nameOf(i: number): string {
    return cstrAt(this.strtab, u32(this.entries, i * (this.is64 ? 24 : 16)), 'symbol string table');
  }
}

/**
 * Indices of `key` sorted by key, then tie, then index. When an index fits below the keys in a
 * double (a few distinct high halves), a native numeric sort of key * 2^bits + index does the
 * work and only runs of equal keys are sorted by tie; else a comparator sort.
 */
function sortedIndices(key: Float64Array, tie: Uint8Array): Uint32Array {
  const n = key.length;
  const bits = Math.max(1, Math.ceil(Math.log2(n + 1)));
  let max = 0;
  for (let i = 0; i < n; i++) if (key[i]! > max) max = key[i]!;
  const out = new Uint32Array(n);
  if (max * 2 ** bits >= 2 ** 53) {
    Array.from(key.keys()).sort((a, b) => key[a]! - key[b]! || tie[a]! - tie[b]! || a - b).forEach((k, j) => (out[j] = k));
    return out;
  }
  const packed = new Float64Array(n);
  for (let i = 0; i < n; i++) packed[i] = key[i]! * 2 ** bits + i;
  packed.sort();
  for (let j = 0; j < n; j++) out[j] = packed[j]! % 2 ** bits;
  for (let j = 0; j < n; ) {
    let end = j + 1;
    while (end < n && key[out[end]!] === key[out[j]!]) end++;
    if (end - j > 1) out.subarray(j, end).set(Array.from(out.subarray(j, end)).sort((a, b) => tie[a]! - tie[b]! || a - b));
    j = end;
  }
  return out;
}

/** Order among symbols at one address: sized, then functions, then globals first. */
function rank(type: number, bind: number, sized: boolean): number {
  const typeRank = type === STT.FUNC ? 0 : type === STT.OBJECT ? 1 : 2;
  return (sized ? 0 : 8) + typeRank * 2 + (bind === STB.LOCAL ? 1 : 0);
}
