// Memory for the client's memory view: a read that reaches unmapped memory returns what it could
// read before it and counts the rest as unreadable, as DAP wants, instead of failing as a whole.
import type { Target } from '../../src/targets/index.js';

const PAGE = 0x1000n;

export async function readPartial(target: Target, address: bigint, count: number): Promise<{ data: Uint8Array; unreadable: number }> {
  if (count === 0) return { data: new Uint8Array(0), unreadable: 0 };
  try {
    return { data: await target.readMemory(address, count), unreadable: 0 };
  } catch {
    // Page by page up to the first page that does not read.
    const parts: Uint8Array[] = [];
    let at = address;
    const end = address + BigInt(count);
    while (at < end) {
      const pageEnd = (at / PAGE + 1n) * PAGE;
      const size = Number((pageEnd < end ? pageEnd : end) - at);
      try {
        parts.push(await target.readMemory(at, size));
      } catch {
        break;
      }
      at += BigInt(size);
    }
    const data = Buffer.concat(parts);
    return { data, unreadable: count - data.length };
  }
}
