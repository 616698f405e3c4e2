// Memory reads go through the vCPU they name: QEMU's `m` reads through the page tables of the
// thread `Hg` selected last, so a read names its thread, Hg goes out only when the selection
// changes, and the stop cache keeps each thread's bytes apart.
import { afterEach, describe, expect, it } from 'vitest';
import { GdbClient } from '../../gdbstub/index.js';
import { FakeStub, gdbsxScript } from './fake-stub.js';

let stub: FakeStub | undefined;
let client: GdbClient | undefined;
afterEach(async () => {
  client?.close();
  await stub?.stop();
  stub = client = undefined;
});

const base = 0xffffffff80000000n;

/** A two-vCPU stub whose vCPUs see different bytes at the same address (each its own page tables). */
async function twoViews(): Promise<FakeStub> {
  const views = new Map([
    ['0', Buffer.alloc(8192, 0x11)],
    ['1', Buffer.alloc(8192, 0x22)],
  ]);
  let g = '0';
  return FakeStub.start((p, s) => {
    const hg = /^Hg(.+)$/.exec(p);
    if (hg) {
      g = hg[1]!;
      return 'OK';
    }
    return gdbsxScript(views.get(g)!, base)(p, s);
  });
}

const memoryPackets = (s: FakeStub) => s.received.filter((p) => /^(Hg|m)/.test(p)).map((p) => p.replace(/,.*/, ''));

describe('per-vCPU memory reads', () => {
  it('selects the thread before m, once per change, and caches each thread apart', async () => {
    stub = await twoViews();
    client = await GdbClient.connect(stub.address, { dialect: 'gdbsx' });
    // Whole 256-byte blocks, the ones the stop cache keeps.
    expect((await client.readMemory(base, 256, undefined, { tid: 0 })).equals(Buffer.alloc(256, 0x11))).toBe(true);
    expect((await client.readMemory(base, 256, undefined, { tid: 1 })).equals(Buffer.alloc(256, 0x22))).toBe(true);
    // Cached per thread: no packet; the same thread again: no second Hg.
    const before = stub.received.length;
    expect([...(await client.readMemory(base + 4n, 4, undefined, { tid: 0 }))]).toEqual([0x11, 0x11, 0x11, 0x11]);
    expect(stub.received.length).toBe(before);
    await client.readMemory(base + 4096n, 4, undefined, { tid: 1 });
    expect(memoryPackets(stub)).toEqual(['Hg0', 'mffffffff80000000', 'Hg1', 'mffffffff80000000', 'mffffffff80001000']);
    // A read that names no thread goes through the current one (and is cached as its).
    expect([...(await client.readMemory(base + 8n, 2))]).toEqual([0x22, 0x22]);
  });

  it('keeps concurrent chunked reads of two threads apart', async () => {
    stub = await twoViews();
    client = await GdbClient.connect(stub.address, { dialect: 'gdbsx' });
    // 5000 bytes is three m packets each (gdbsx answers at most 2047 bytes); both in flight at once.
    const [a, b] = await Promise.all([
      client.readMemory(base, 5000, undefined, { tid: 0 }),
      client.readMemory(base, 5000, undefined, { tid: 1 }),
    ]);
    expect(a.equals(Buffer.alloc(5000, 0x11))).toBe(true);
    expect(b.equals(Buffer.alloc(5000, 0x22))).toBe(true);
    await client.writeMemory(base, Buffer.from([0x33]), { tid: 1 });
    expect([...(await client.readMemory(base, 1, undefined, { tid: 1 }))]).toEqual([0x33]);
    expect([...(await client.readMemory(base, 1, undefined, { tid: 0 }))]).toEqual([0x11]);
  });
});
