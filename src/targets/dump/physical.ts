// Guest memory as a dump file holds it: extents of an address space (guest-physical, or machine
// for Xen PV) mapped onto file offsets, kept in typed-array columns (a dump can have 65536 and more
// of them) and found by binary search.
import type { BlockCache } from './blocks.js';
import { DumpMemoryError } from './errors.js';
import { partitionPoint } from '../../../symbols/search.js';

export interface PhysicalMemory {
  /** Exactly `size` bytes at `address`, or a DumpMemoryError naming the first address the dump lacks. */
  read(address: bigint, size: number): Uint8Array;
}

/** Physical addresses stop at 52 bits; anything above cannot be in a dump (and would not fit a double). */
export const MAX_PHYSICAL = 2 ** 52;

/** Extents in the order added; each maps [start, start+size) to the file at `offset`. */
export class ExtentList {
  length = 0;
  starts = new Float64Array(16);
  sizes = new Float64Array(16);
  offsets = new Float64Array(16);
  /** Bytes present in the file; the rest of the extent reads as zeros (ELF p_filesz < p_memsz). */
  fileSizes = new Float64Array(16);

  /** Adds an extent, or grows the last one when this continues it both in memory and in the file. */
  add(start: number, size: number, offset: number, fileSize: number): void {
    const i = this.length - 1;
    if (
      i >= 0 &&
      this.sizes[i] === this.fileSizes[i] &&
      this.starts[i]! + this.sizes[i]! === start &&
      this.offsets[i]! + this.fileSizes[i]! === offset
    ) {
      this.sizes[i]! += size;
      this.fileSizes[i]! += fileSize;
      return;
    }
    if (this.length === this.starts.length) {
      for (const column of ['starts', 'sizes', 'offsets', 'fileSizes'] as const) {
        const bigger = new Float64Array(this.length * 2);
        bigger.set(this[column]);
        this[column] = bigger;
      }
    }
    this.starts[this.length] = start;
    this.sizes[this.length] = size;
    this.offsets[this.length] = offset;
    this.fileSizes[this.length] = fileSize;
    this.length++;
  }

  /** This list in address order (QEMU and Xen write them so already), with overlaps rejected. */
  sorted(space: string, fail: (why: string) => never): ExtentList {
    let out: ExtentList = this;
    for (let i = 1; i < this.length; i++) {
      if (this.starts[i]! < this.starts[i - 1]!) {
        const order = Array.from({ length: this.length }, (_, k) => k).sort((a, b) => this.starts[a]! - this.starts[b]!);
        out = new ExtentList();
        for (const k of order) out.add(this.starts[k]!, this.sizes[k]!, this.offsets[k]!, this.fileSizes[k]!);
        break;
      }
    }
    for (let i = 1; i < out.length; i++) {
      if (out.starts[i - 1]! + out.sizes[i - 1]! > out.starts[i]!)
        fail(`two pieces of the dump hold ${space} address 0x${out.starts[i]!.toString(16)}`);
    }
    return out;
  }
}

export class ExtentMemory implements PhysicalMemory {
  constructor(
    private readonly file: BlockCache,
    /** Sorted by start, not overlapping. */
    private readonly extents: ExtentList,
    /** Names the address space in errors: "physical", "machine". */
    private readonly space: string,
    /** Why an address may be missing, added to errors (a truncated file). */
    private readonly missing?: string,
  ) {}

  read(address: bigint, size: number): Uint8Array {
    const x = this.extents;
    const out = new Uint8Array(size);
    let done = 0;
    while (done < size) {
      const at = address + BigInt(done);
      const i = this.find(at);
      if (i < 0)
        throw new DumpMemoryError(
          at,
          `${this.space} address 0x${at.toString(16)} is not in the dump${this.missing ? ` (${this.missing})` : ''}`,
        );
      const rel = Number(at) - x.starts[i]!;
      const n = Math.min(size - done, x.sizes[i]! - rel);
      const fromFile = Math.min(n, x.fileSizes[i]! - rel);
      if (fromFile > 0) out.set(this.file.read(x.offsets[i]! + rel, fromFile), done);
      done += n;
    }
    return out;
  }

  /** Index of the extent holding `address`, or -1. */
  private find(address: bigint): number {
    if (address < 0n || address >= BigInt(MAX_PHYSICAL)) return -1;
    const a = Number(address);
    const starts = this.extents.starts;
    const hi = partitionPoint(this.extents.length, (i) => starts[i]! <= a) - 1;
    return hi >= 0 && a < starts[hi]! + this.extents.sizes[hi]! ? hi : -1;
  }
}
