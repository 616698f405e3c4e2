// The dump page walker against page tables built here: every level, every page size, 5-level
// paging, the faults a damaged or partial guest produces, and the TLB's view of changes.
import { describe, expect, it } from 'vitest';
import { DumpMemoryError } from '../../src/targets/dump/index.js';
import { PageWalker, pagingFromControlRegs } from '../../src/targets/dump/paging.js';
import type { PhysicalMemory } from '../../src/targets/dump/physical.js';

/** Sparse physical memory made of 4 KiB pages; counts reads. */
class Pages implements PhysicalMemory {
  readonly pages = new Map<bigint, Uint8Array>();
  reads = 0;

  entry(table: bigint, index: number, value: bigint): void {
    let p = this.pages.get(table);
    if (!p) this.pages.set(table, (p = new Uint8Array(4096)));
    new DataView(p.buffer).setBigUint64(index * 8, value, true);
  }

  read(address: bigint, size: number): Uint8Array {
    this.reads++;
    const p = this.pages.get(address & ~0xfffn);
    if (!p) throw new DumpMemoryError(address, 'not in the dump');
    const at = Number(address & 0xfffn);
    return p.slice(at, at + size);
  }
}

const P = 1n;
const RW = 2n;
const PS = 0x80n;
const NX = 1n << 63n;

function fourLevel(): Pages {
  const m = new Pages();
  // Low half: PML4 0x1000 -> PDPT 0x2000 -> PD 0x3000 -> PT 0x4000; -2 GiB: PDPT 0x5000 -> PD 0x7000.
  m.entry(0x1000n, 0, 0x2000n | P | RW);
  m.entry(0x1000n, 511, 0x5000n | P);
  m.entry(0x2000n, 0, 0x3000n | P);
  m.entry(0x2000n, 1, 0x4000_0000n | P | PS); // 1 GiB page at VA 1 GiB -> PA 1 GiB
  m.entry(0x3000n, 0, 0x4000n | P);
  m.entry(0x3000n, 1, 0x60_0000n | P | PS | (1n << 12n) | NX); // 2 MiB page, PAT bit and NX set
  m.entry(0x4000n, 5, 0xabc_d000n | P | NX | (0x7fn << 52n)); // ignored high bits must not leak in
  m.entry(0x5000n, 510, 0x7000n | P);
  m.entry(0x7000n, 0, 0x1_2340_0000n | P | PS);
  return m;
}

describe('PageWalker', () => {
  it('walks 4 KiB, 2 MiB and 1 GiB pages and the higher half', () => {
    const w = new PageWalker(fourLevel(), { kind: 'long', levels: 4, root: 0x1000n });
    expect(w.translate(0x5123n)).toBe(0xabc_d123n);
    expect(w.translate(0x20_0000n + 0x1_2345n)).toBe(0x60_0000n + 0x1_2345n);
    expect(w.translate(0x4000_0000n + 0x123_4567n)).toBe(0x4000_0000n + 0x123_4567n);
    expect(w.translate(0xffff_ffff_8000_0042n)).toBe(0x1_2340_0042n);
  });

  it('names the address and the missing level when a page is not present', () => {
    const w = new PageWalker(fourLevel(), { kind: 'long', levels: 4, root: 0x1000n });
    expect(() => w.translate(0x6000n)).toThrow(/^cannot read 0x6000: not mapped \(PT entry 6 at physical 0x4030 is not present\)$/);
    expect(() => w.translate(0x80_0000_0000n)).toThrow(/PML4 entry 1 .* not present/);
    expect(() => w.translate(0x8000_0000_0000n)).toThrow(/not a canonical address for 4-level paging/);
  });

  it('reports page tables that lie outside the dump', () => {
    const m = fourLevel();
    m.entry(0x3000n, 2, 0x9999_0000n | P);
    const w = new PageWalker(m, { kind: 'long', levels: 4, root: 0x1000n });
    expect(() => w.translate(0x40_0000n)).toThrow(/^cannot read 0x400000: its PT table at physical 0x99990000 is not in the dump$/);
    expect(() => new PageWalker(m, { kind: 'long', levels: 4, root: 0x7770_0000n }).translate(0n)).toThrow(
      /PML4 table at physical 0x77700000/,
    );
  });

  it('walks 5-level paging (CR4.LA57) with 57-bit canonical addresses', () => {
    const m = fourLevel();
    m.entry(0x9000n, 0, 0x1000n | P);
    m.entry(0x9000n, 511, 0x1000n | P);
    const w = new PageWalker(m, pagingFromControlRegs(0x8000_0011n, 0x9000n, (1n << 5n) | (1n << 12n)));
    expect(w.paging).toEqual({ kind: 'long', levels: 5, root: 0x9000n });
    expect(w.translate(0x5010n)).toBe(0xabc_d010n);
    expect(w.translate(0xffff_0000_0000_5010n)).toBe(0xabc_d010n);
    expect(() => w.translate(0x0100_0000_0000_0000n)).toThrow(/not a canonical address for 5-level/);
  });

  it('is the identity with paging off and refuses 32-bit paging', () => {
    const off = new PageWalker(new Pages(), pagingFromControlRegs(0x11n, 0x1000n, 0n));
    expect(off.translate(0x1234_5678n)).toBe(0x1234_5678n);
    const legacy = new PageWalker(new Pages(), pagingFromControlRegs(0x8000_0011n, 0x1000n, 0n));
    expect(() => legacy.translate(0x1000n)).toThrow(/32-bit paging .* not supported/);
  });

  it('translates each page once (TLB)', () => {
    const m = fourLevel();
    const w = new PageWalker(m, { kind: 'long', levels: 4, root: 0x1000n });
    w.translate(0x5000n);
    const reads = m.reads;
    for (let i = 0n; i < 4096n; i += 8n) w.translate(0x5000n + i);
    expect(m.reads).toBe(reads);
  });
});
