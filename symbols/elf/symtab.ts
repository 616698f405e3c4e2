// ELF symbols by address (address -> symbol + offset) and by name. The table is kept as the file
// has it; the address index is sorted on the first lookup by address, and a lookup by name finds
// the name in the string table and then the entries pointing there, so no index of names is
// built. A symbol's object and name are made when a lookup returns it (a kernel has 130,000
// symbols and a debugger needs a few).
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
  private index: { order: Uint32Array; hi: Uint32Array; lo: Uint32Array } | undefined;
  private all: ElfSymbol[] | undefined;

  private constructor(
    private readonly entries: Uint8Array,
    private readonly strtab: Uint8Array,
    private readonly is64: boolean,
  ) {}

  static empty(): SymbolTable {
    return new SymbolTable(new Uint8Array(0), new Uint8Array(0), true);
  }

  /** Checks the table's shape only; entries are read by the lookups (the address index on the first lookup by address). */
  static parse(bytes: Uint8Array, strtab: Uint8Array, is64: boolean, section: string): SymbolTable {
    const entsize = is64 ? 24 : 16;
    if (bytes.length % entsize !== 0) throw new ElfError(`section ${section}`, `size ${bytes.length} is not a multiple of ${entsize}`);
    return new SymbolTable(bytes, strtab, is64);
  }

  /** Code and data symbols with an address, sorted by address (ties: sized, global, function first). */
  get sorted(): readonly ElfSymbol[] {
    this.all ??= Array.from(this.sortedIndex().order, (i) => this.symbol(i));
    return this.all;
  }

  /** The symbol containing `addr`: a sized one whose range holds it, else the nearest one before it (addr2line's rule). */
  lookup(addr: bigint): SymbolHit | undefined {
    const { order } = this.sortedIndex();
    const at = this.countUpTo(addr);
    // Sized symbols may nest (a function inside a section-sized symbol): look back a little.
    for (let j = at - 1; j >= 0 && j >= at - 16; j--) {
      const s = this.symbol(order[j]!);
      if (s.size !== 0n && addr < s.address + s.size) return { symbol: s, offset: addr - s.address };
    }
    if (at === 0) return undefined;
    const nearest = this.symbol(order[at - 1]!);
    return { symbol: nearest, offset: addr - nearest.address };
  }

  /** Builds the address index now rather than on the first lookup by address. */
  prepare(): void {
    this.sortedIndex();
  }

  /**
   * gdb's minimal symbol for `addr`, which lies in section `shndx` starting at `start`: among that
   * section's symbols at or below addr (so never an absolute one), the nearest sized one if it
   * holds addr, else the nearest unsized one above it (a label); undefined when there is neither.
   * gdb sorts the symbols of one address by name and looks at them from the last.
   */
  lookupInSection(addr: bigint, shndx: number, start: bigint): SymbolHit | undefined {
    const { order } = this.sortedIndex();
    let label: ElfSymbol | undefined;
    for (let j = this.countUpTo(addr) - 1; j >= 0;) {
      const at = this.symbol(order[j]!).address;
      if (at < start) break;
      const group: ElfSymbol[] = [];
      for (; j >= 0 && this.symbol(order[j]!).address === at; j--) {
        const s = this.symbol(order[j]!);
        if (s.shndx === shndx) group.push(s);
      }
      group.sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
      for (const s of group) {
        if (s.size === 0n) label ??= s;
        else return addr < at + s.size ? { symbol: s, offset: addr - at } : label && { symbol: label, offset: addr - label.address };
      }
    }
    return label && { symbol: label, offset: addr - label.address };
  }

  /** How many indexed symbols lie at or below `addr`. */
  private countUpTo(addr: bigint): number {
    const h = Number((addr >> 32n) & 0xffffffffn);
    const l = Number(addr & 0xffffffffn);
    const { hi, lo } = this.sortedIndex();
    return partitionPoint(hi.length, (j) => hi[j]! < h || (hi[j] === h && lo[j]! <= l));
  }

  /**
   * Symbols named `name` (a static function may exist in several files), in address order: the
   * entries whose name offset is where the string table holds `name` (a native search).
   */
  find(name: string): readonly ElfSymbol[] {
    const needle = new Uint8Array(Buffer.byteLength(name) + 1);
    needle.set(Buffer.from(name));
    const table = Buffer.from(this.strtab.buffer, this.strtab.byteOffset, this.strtab.length);
    const offsets = new Set<number>();
    for (let p = table.indexOf(needle); p >= 0 && name !== ''; p = table.indexOf(needle, p + 1)) offsets.add(p);
    const out: Array<{ s: ElfSymbol; rank: number; i: number }> = [];
    if (offsets.size === 0) return [];
    const entsize = this.is64 ? 24 : 16;
    for (let i = 0, n = this.entries.length / entsize; i < n; i++) {
      if (!offsets.has(u32(this.entries, i * entsize)) || !this.kept(i)) continue;
      const s = this.symbol(i);
      out.push({ s, rank: rank(s.type, s.bind, s.size !== 0n), i });
    }
    return out
      .sort((a, b) => (a.s.address < b.s.address ? -1 : a.s.address > b.s.address ? 1 : a.rank - b.rank || a.i - b.i))
      .map((x) => x.s);
  }

  /** Entries with a name and an address, sorted by address (ties by rank(), then table order), as the 32-bit halves of their addresses. */
  private sortedIndex(): { order: Uint32Array; hi: Uint32Array; lo: Uint32Array } {
    if (this.index) return this.index;
    const { entries: bytes, is64 } = this;
    const entsize = is64 ? 24 : 16;
    const n = bytes.length / entsize;
    let count = 0;
    const kept = new Uint32Array(n);
    for (let i = 0; i < n; i++) if (this.kept(i)) kept[count++] = i;
    const his = new Uint32Array(count);
    const los = new Uint32Array(count);
    const distinct: number[] = [];
    for (let k = 0; k < count; k++) {
      const p = kept[k]! * entsize;
      his[k] = is64 ? u32(bytes, p + 12) : 0;
      los[k] = u32(bytes, p + (is64 ? 8 : 4));
      if (!distinct.includes(his[k]!)) distinct.push(his[k]!);
    }
    // Sort keys: the address as (rank of its high half among the distinct ones) * 2^32 + low half, exact in a double.
    distinct.sort((a, b) => a - b);
    const key = new Float64Array(count);
    const tie = new Uint8Array(count);
    for (let k = 0; k < count; k++) {
      const p = kept[k]! * entsize;
      key[k] = distinct.indexOf(his[k]!) * TWO32 + los[k]!;
      const info = bytes[p + (is64 ? 4 : 12)]!;
      const sized = is64 ? u32(bytes, p + 16) !== 0 || u32(bytes, p + 20) !== 0 : u32(bytes, p + 8) !== 0;
      tie[k] = rank(info & 0xf, info >> 4, sized);
    }
    const idx = sortedIndices(key, tie);
    const order = new Uint32Array(count);
    const hi = new Uint32Array(count);
    const lo = new Uint32Array(count);
    for (let j = 0; j < count; j++) {
      const k = idx[j]!;
      order[j] = kept[k]!;
      hi[j] = his[k]!;
      lo[j] = los[k]!;
    }
    this.index = { order, hi, lo };
    return this.index;
  }

  /** Entry i names code or data at an address: a name, a section (not undefined), not a section, file or TLS symbol. */
  private kept(i: number): boolean {
    const { entries: bytes, is64, strtab } = this;
    const p = i * (is64 ? 24 : 16);
    const nameOff = u32(bytes, p);
    const info = bytes[p + (is64 ? 4 : 12)]!;
    const shndx = bytes[p + (is64 ? 6 : 14)]! | (bytes[p + (is64 ? 7 : 15)]! << 8);
    const type = info & 0xf;
    if (nameOff >= strtab.length && nameOff !== 0)
      throw new ElfError('symbol string table', `string offset 0x${nameOff.toString(16)} out of range`);
    return !(
      nameOff === 0 ||
      strtab[nameOff] === 0 ||
      shndx === SHN.UNDEF ||
      type === STT.SECTION ||
      type === STT.FILE ||
      type === STT.TLS
    );
  }

  /** The symbol of table entry i. */
  private symbol(i: number): ElfSymbol {
    let s = this.made.get(i);
    if (!s) {
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
      this.made.set(i, s);
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
    Array.from(key.keys())
      .sort((a, b) => key[a]! - key[b]! || tie[a]! - tie[b]! || a - b)
      .forEach((k, j) => (out[j] = k));
    return out;
  }
  const packed = new Float64Array(n);
  for (let i = 0; i < n; i++) packed[i] = key[i]! * 2 ** bits + i;
  packed.sort();
  for (let j = 0; j < n; j++) out[j] = packed[j]! % 2 ** bits;
  for (let j = 0; j < n;) {
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
