// Row 4 (instruction half): 1,000 `stepi` in a worker thread, duster vs gdb, from a breakpoint at
// the same function, both with the image's symbols and in processes of their own, timed by their
// own clocks; both must end at the same pc.
import { alternate, dusterTimed, gdbTimed, requestsBetweenMarkers, type Row } from '../harness.js';
import { bootGuest, kernel, symbolAddress } from './guest.js';

const STEPS = 1000;

export async function stepiRow(): Promise<Row[]> {
  const g = await bootGuest();
  try {
    const at = `0x${symbolAddress(kernel(), 'compute_checksum').toString(16)}`;
    const before = [`break *${at}`, 'continue', 'delete'];
    const measured = [`stepi ${STEPS}`];
    const ends = new Set<string>();
    const packets = { gdb: 0, duster: 0 };
    const endPc = (stdout: string) => [...stdout.matchAll(/^\$\d+ = (?:\(.*?\) )?(0x[0-9a-f]+)/gm)].at(-1)?.[1];
    const [gdb, duster] = await alternate(
      3,
      async () => {
        g.proxy.reset();
        const r = await gdbTimed({ elf: kernel(), before: [`target remote ${g.proxy.address.slice(4)}`, ...before, 'maint packet qC'], measured, after: ['maint packet qC', 'print/x $pc', 'detach'] });
        packets.gdb = requestsBetweenMarkers(g.proxy.packets);
        ends.add(`${endPc(r.stdout)}`);
        return r.ms;
      },
      async () => {
        g.proxy.reset();
        const r = await dusterTimed({ address: g.proxy.address, elf: kernel(), before, measured, after: ['print/x $pc', 'detach'] });
        packets.duster = requestsBetweenMarkers(g.proxy.packets);
        ends.add(`${endPc(r.stdout)}`);
        return r.ms;
      },
    );
    if (ends.size !== 1) throw new Error(`gdb and duster did not step the same instructions: they ended at ${[...ends].join(' / ')}`);
    return [
      {
        name: `${STEPS} stepi`,
        unit: 'ms',
        duster: duster.min,
        reference: gdb.min,
        referenceName: 'gdb stepi',
        ratio: duster.min / gdb.min,
        goal: '<= 0.7x gdb',
        notes: `min of 3 (medians ${duster.median.toFixed(0)} / ${gdb.median.toFixed(0)} ms), timed by each debugger's own clock; packets duster ${packets.duster}, gdb ${packets.gdb}; both end at pc ${[...ends][0]}`,
      },
    ];
  } finally {
    await g.close();
  }
}
