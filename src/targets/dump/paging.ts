// x86_64 address translation through the guest's own page tables, as the MMU does it: 4-level or
// 5-level (CR4.LA57) long-mode paging with 1 GiB and 2 MiB pages; identity while paging is off.
// Table pages come from the dump's block cache; finished translations are kept in a TLB.
import { DumpMemoryError } from './errors.js';
import { LruCache } from './lru.js';
import type { PhysicalMemory } from './physical.js';

export type Paging =
  | { kind: 'off' }
  | { kind: 'long'; levels: 4 | 5; root: bigint }
  /** Paging is on in a mode this walker does not implement; the reason says which. */
  | { kind: 'unsupported'; why: string };

const CR0_PG = 1n << 31n;
const CR4_PAE = 1n << 5n;
const CR4_LA57 = 1n << 12n;
const PRESENT = 1n;
const PAGE_SIZE_BIT = 1n << 7n;
/** Bits 12..51 of an entry: the next table or the page frame (bits 52..62 are ignored or keys, 63 is NX). */
export const FRAME = 0x000f_ffff_ffff_f000n;
const LEVEL_NAMES = ['', 'PT', 'PD', 'PDPT', 'PML4', 'PML5'];

/**
 * The paging mode the control registers select. Without EFER (QEMU's dump does not record it) long
 * mode is taken from PG+PAE: legacy 3-level PAE and compatibility mode look alike, and a 64-bit
 * unikernel is never in legacy PAE once it has booted.
 */
export function pagingFromControlRegs(cr0: bigint, cr3: bigint, cr4: bigint): Paging {
  if ((cr0 & CR0_PG) === 0n) return { kind: 'off' };
  if ((cr4 & CR4_PAE) === 0n) return { kind: 'unsupported', why: '32-bit paging (CR0.PG set, CR4.PAE clear) is not supported' };
  return { kind: 'long', levels: (cr4 & CR4_LA57) !== 0n ? 5 : 4, root: cr3 & FRAME };
}

export class PageWalker {
  /** Virtual page number -> physical address of that 4 KiB page. */
  private readonly tlb = new LruCache<bigint, bigint>(8192);

  constructor(
    /** The address space page-table entries point into (machine memory for a Xen PV guest). */
    private readonly memory: PhysicalMemory,
    readonly paging: Paging,
    /** Names that address space in errors. */
    private readonly space = 'physical',
  ) {}

  /** The physical address `address` maps to; a DumpMemoryError naming `address` if it maps to nothing. */
  translate(address: bigint): bigint {
    const p = this.paging;
    if (p.kind === 'off') return address;
    if (p.kind === 'unsupported') throw new DumpMemoryError(address, p.why);
    const vpn = address >> 12n;
    const hit = this.tlb.get(vpn);
    if (hit !== undefined) return hit | (address & 0xfffn);
    const bits = BigInt(12 + 9 * p.levels);
    const high = address >> (bits - 1n);
    if (high !== 0n && high !== (1n << (65n - bits)) - 1n) {
      throw new DumpMemoryError(address, `not a canonical address for ${p.levels}-level paging`);
    }
    let table = p.root;
    for (let level: number = p.levels; ; level--) {
      const shift = BigInt(12 + 9 * (level - 1));
      const index = (address >> shift) & 0x1ffn;
      const entry = this.entry(address, table, index, level);
      if ((entry & PRESENT) === 0n) {
        throw new DumpMemoryError(
          address,
          `not mapped (${LEVEL_NAMES[level]} entry ${index} at ${this.space} 0x${(table + index * 8n).toString(16)} is not present)`,
        );
      }
      // PS means a 1 GiB page in a PDPT entry and a 2 MiB page in a PD entry.
      if (level === 1 || (level <= 3 && (entry & PAGE_SIZE_BIT) !== 0n)) {
        const offsetMask = (1n << shift) - 1n;
        const physical = (entry & FRAME & ~offsetMask) | (address & offsetMask);
        this.tlb.set(vpn, physical & ~0xfffn);
        return physical;
      }
      table = entry & FRAME;
    }
  }

  private entry(address: bigint, table: bigint, index: bigint, level: number): bigint {
    let bytes: Uint8Array;
    try {
      bytes = this.memory.read(table + index * 8n, 8);
    } catch (e) {
      if (!(e instanceof DumpMemoryError)) throw e;
      throw new DumpMemoryError(address, `its ${LEVEL_NAMES[level]} table at ${this.space} 0x${table.toString(16)} is not in the dump`);
    }
    return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  }
}
