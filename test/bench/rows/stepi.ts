// Row 4 (instruction half): 1,000 `stepi` in a worker thread, duster vs gdb, from a breakpoint at
// the same function.
import { Session } from '../../../src/engine/session.js';
import { LiveTarget } from '../../../src/targets/index.js';
import { gdbTimed, repeat, timed, type Row } from '../harness.js';
import { bootGuest, kernel, symbolAddress } from './guest.js';

const STEPS = 1000;

export async function stepiRow(): Promise<Row[]> {
  const g = await bootGuest();
  try {
    const at = `0x${symbolAddress(kernel(), 'compute_checksum').toString(16)}`;
    let gdbPackets = 0;
    const gdb = await repeat(3, async () => {
      const r = await gdbTimed({
        elf: kernel(),
        before: [`target remote ${g.proxy.address.slice(4)}`, `break *${at}`, 'continue', 'delete'],
        measured: [`stepi ${STEPS}`],
        after: ['detach'],
      });
      return r.ms;
    });
    // Packets for the measured part only: run once more with the proxy reset right before stepping.
    {
      const t = await LiveTarget.connect(g.proxy.address);
      await t.detach();
    }
    let dusterPackets = 0;
    const duster = await repeat(3, async () => {
      const t = await LiveTarget.connect(g.proxy.address);
      const s = new Session(t);
      await s.start('interrupt');
      const bp = await s.addBreakpoint({ kind: 'address', address: BigInt(at) });
      await s.continue();
      await s.deletePoint(bp.id);
      g.proxy.reset();
      const ms = await timed(async () => {
        for (let i = 0; i < STEPS; i++) await s.stepInstruction();
      });
      dusterPackets = g.proxy.requestCount;
      await s.detach();
      return ms;
    });
    g.proxy.reset();
    await gdbTimed({ elf: kernel(), before: [`target remote ${g.proxy.address.slice(4)}`, `break *${at}`, 'continue', 'delete'], measured: [], after: ['detach'] });
    const setup = g.proxy.requestCount;
    g.proxy.reset();
    await gdbTimed({ elf: kernel(), before: [`target remote ${g.proxy.address.slice(4)}`, `break *${at}`, 'continue', 'delete'], measured: [`stepi ${STEPS}`], after: ['detach'] });
    gdbPackets = g.proxy.requestCount - setup;
    return [
      {
        name: `${STEPS} stepi`,
        unit: 'ms',
        duster: duster.min,
        reference: gdb.min,
        referenceName: 'gdb stepi',
        ratio: duster.min / gdb.min,
        goal: '<= 0.7x gdb',
        notes: `min of 3; packets duster ${dusterPackets}, gdb ~${gdbPackets} (its run minus a run without the steps)`,
      },
    ];
  } finally {
    await g.close();
  }
}
