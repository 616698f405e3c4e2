// Row 5: read 16 MiB of guest memory. duster's pipelined `m` reads vs gdb's `dump binary memory`.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LiveTarget } from '../../../src/targets/index.js';
import { gdbTimed, repeat, timed, type Row } from '../harness.js';
import { bootGuest, kernel } from './guest.js';

const SIZE = 16 * 1024 * 1024;
const BASE = 0x400000n; // identity-mapped guest RAM, inside the 128 MiB the harness gives

export async function memoryRow(): Promise<Row[]> {
  const g = await bootGuest();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'duster-bench-'));
  try {
    const out = path.join(tmp, 'mem.bin');
    let gdbPackets = 0;
    const gdb = await repeat(3, async () => {
      g.proxy.reset();
      const r = await gdbTimed({
        elf: kernel(),
        before: [`target remote ${g.proxy.address.slice(4)}`],
        measured: [`dump binary memory ${out} 0x${BASE.toString(16)} 0x${(BASE + BigInt(SIZE)).toString(16)}`],
        after: ['detach'],
      });
      if (statSync(out).size !== SIZE) throw new Error('gdb dumped the wrong size');
      gdbPackets = g.proxy.requestCount;
      return r.ms;
    });
    let dusterPackets = 0;
    const duster = await repeat(3, async () => {
      const t = await LiveTarget.connect(g.proxy.address);
      g.proxy.reset();
      const ms = await timed(async () => {
        const bytes = await t.readMemory(BASE, SIZE);
        if (bytes.length !== SIZE) throw new Error('short read');
      });
      dusterPackets = g.proxy.requestCount;
      await t.detach();
      return ms;
    });
    const mib = SIZE / 1024 / 1024;
    return [
      {
        name: 'read 16 MiB of guest memory',
        unit: 'MiB/s',
        duster: mib / (duster.min / 1000),
        reference: mib / (gdb.min / 1000),
        referenceName: 'gdb dump binary memory',
        ratio: gdb.min / duster.min,
        goal: '>= 2x gdb',
        notes: `min of 3; packets duster ${dusterPackets}, gdb ${gdbPackets}`,
      },
    ];
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    await g.close();
  }
}
