// Small reads of a dump file served from cached 4 KiB blocks: a backtrace reads the same stack and
// page-table pages many times, a few bytes at a time. Large reads go straight to the file.
import { LruCache } from './lru.js';

/** Exactly `length` bytes at `offset` of the file, or a thrown error. */
type ReadAt = (offset: number, length: number) => Uint8Array;

const BLOCK = 4096;

export class BlockCache {
  private readonly blocks: LruCache<number, Uint8Array>;

  constructor(
    private readonly readAt: ReadAt,
    private readonly fileSize: number,
    /** 2048 blocks = 8 MiB at most. */
    capacity = 2048,
  ) {
    this.blocks = new LruCache(capacity);
  }

  /** The bytes at [offset, offset+length); a view into the cache, which callers must not change. */
  read(offset: number, length: number): Uint8Array {
    const first = Math.floor(offset / BLOCK);
    const end = offset + length;
    if (length === 0 || end > this.fileSize || Math.floor((end - 1) / BLOCK) !== first) return this.readAt(offset, length);
    let block = this.blocks.get(first);
    if (!block) {
      block = this.readAt(first * BLOCK, Math.min(BLOCK, this.fileSize - first * BLOCK));
      this.blocks.set(first, block);
    }
    const at = offset - first * BLOCK;
    return block.subarray(at, at + length);
  }
}
