// ELF symbols sorted by address (address -> symbol + offset) and indexed by name.
import { ByteReader, cstrAt } from '../reader.js';
import { ElfError } from './errors.js';
import { SHN, STB, STT, type ElfSymbol } from './types.js';
import { partitionPoint } from '../search.js';

export interface SymbolHit {
  symbol: ElfSymbol;
  offset: bigint;
}

export class SymbolTable {
  /** Code and data symbols with an address, sorted by address (ties: sized, global, function first). */
  readonly sorted: readonly ElfSymbol[];
  private readonly byName = new Map<string, ElfSymbol[]>();

  constructor(symbols: ElfSymbol[]) {
    const located = symbols.filter((s) => s.name !== '' && s.shndx !== SHN.UNDEF && s.type !== STT.SECTION && s.type !== STT.FILE && s.type !== STT.TLS);
    this.sorted = located.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : rank(a) - rank(b)));
    for (const s of located) {
      const list = this.byName.get(s.name);
      if (list) list.push(s);
      else this.byName.set(s.name, [s]);
    }
  }

  static parse(bytes: Uint8Array, strtab: Uint8Array, is64: boolean, section: string): SymbolTable {
    const entsize = is64 ? 24 : 16;
    if (bytes.length % entsize !== 0) throw new ElfError(`section ${section}`, `size ${bytes.length} is not a multiple of ${entsize}`);
    const r = new ByteReader(bytes, `section ${section}`);
    const out: ElfSymbol[] = [];
    while (!r.atEnd) {
      let nameOff: number, info: number, shndx: number, address: bigint, size: bigint;
      if (is64) {
        nameOff = r.u32();
        info = r.u8();
        r.u8();
        shndx = r.u16();
        address = r.u64();
        size = r.u64();
      } else {
        nameOff = r.u32();
        address = BigInt(r.u32());
        size = BigInt(r.u32());
        info = r.u8();
        r.u8();
        shndx = r.u16();
      }
      out.push({ name: nameOff === 0 ? '' : cstrAt(strtab, nameOff, 'symbol string table'), address, size, type: info & 0xf, bind: info >> 4, shndx });
    }
    return new SymbolTable(out);
  }

  /** The symbol containing `addr`: a sized one whose range holds it, else the nearest one before it (addr2line's rule). */
  lookup(addr: bigint): SymbolHit | undefined {
    const syms = this.sorted;
    const lo = partitionPoint(syms.length, (i) => syms[i]!.address <= addr);
    // Sized symbols may nest (a function inside a section-sized symbol): look back a little.
    for (let i = lo - 1; i >= 0 && i >= lo - 16; i--) {
      const s = syms[i]!;
      if (s.size !== 0n && addr < s.address + s.size) return { symbol: s, offset: addr - s.address };
    }
    const nearest = syms[lo - 1];
    return nearest && { symbol: nearest, offset: addr - nearest.address };
  }

  /** Symbols named `name` (a static function may exist in several files). */
  find(name: string): readonly ElfSymbol[] {
    return this.byName.get(name) ?? [];
  }
}

/** Order among symbols at one address: sized, then functions, then globals first. */
function rank(s: ElfSymbol): number {
  const typeRank = s.type === STT.FUNC ? 0 : s.type === STT.OBJECT ? 1 : 2;
  return (s.size === 0n ? 8 : 0) + typeRank * 2 + (s.bind === STB.LOCAL ? 1 : 0);
}
