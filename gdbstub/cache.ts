/**
 * Registers and memory read since the last stop. Anything cached is only valid while the target is
 * halted and unchanged: the client drops it all on resume and on any write.
 */
export class StopCache {
  private readonly regs = new Map<string, Map<string, bigint>>();
  /**
   * Memory by the thread it was read through ('' for the stub's current one) and aligned block:
   * each vCPU has its own page tables (and a kernel its per-CPU mappings).
   */
  private readonly blocks = new Map<string, Map<bigint, Buffer>>();
  static readonly BLOCK = 256n;

  getRegisters(thread: string): Map<string, bigint> | undefined {
    return this.regs.get(thread);
  }

  setRegisters(thread: string, values: Map<string, bigint>): void {
    this.regs.set(thread, values);
  }

  /** Returns the bytes if every block they span is cached. */
  getMemory(address: bigint, length: number, thread = ''): Buffer | undefined {
    const blocks = this.blocks.get(thread);
    if (!blocks) return undefined;
    const out = Buffer.alloc(length);
    let a = address;
    const end = address + BigInt(length);
    while (a < end) {
      const base = a - (a % StopCache.BLOCK);
      const block = blocks.get(base);
      if (!block) return undefined;
      const from = Number(a - base);
      const n = Math.min(block.length - from, Number(end - a));
      block.copy(out, Number(a - address), from, from + n);
      a += BigInt(n);
    }
    return out;
  }

  /** Caches the whole blocks that `data` (read at `address`) covers. */
  putMemory(address: bigint, data: Buffer, thread = ''): void {
    const B = StopCache.BLOCK;
    let blocks = this.blocks.get(thread);
    if (!blocks) this.blocks.set(thread, (blocks = new Map()));
    let base = address % B === 0n ? address : address + B - (address % B);
    while (base + B <= address + BigInt(data.length)) {
      const off = Number(base - address);
      blocks.set(base, Buffer.from(data.subarray(off, off + Number(B))));
      base += B;
    }
  }

  clear(): void {
    this.regs.clear();
    this.blocks.clear();
  }
}
