// Row 4 (instruction half): 1,000 `stepi` in a worker thread, duster vs gdb, from a breakpoint in
// the same worker at the same point of its loop (the path depends on w->id and w->steps % 3),
// both with the image's symbols and in processes of their own, timed by their own clocks. Both
// must send exactly 1,000 single steps. Where they end is noted, not compared: under QEMU 7.2's
// TCG the same 1,000 steps from the same breakpoint end at one of a few nearby pcs, run to run,
// for gdb as for duster (6 runs each: gdb 0x100755 x3, 0x100758 x3; duster 0x100758 x3,
// 0x100755 x2, 0x100752).
import { alternate, dusterTimed, gdbTimed, requestsBetweenMarkers, stepRequestsBetweenMarkers, type Row } from '../harness.js';
import { bootGuest, kernel } from './guest.js';

const STEPS = 1000;

export async function stepiRow(): Promise<Row[]> {
  const g = await bootGuest();
  try {
    const before = ['break worker_step if w->id == 1 && w->steps % 3 == 0', 'continue', 'delete'];
    const measured = [`stepi ${STEPS}`];
    const ends = { gdb: [] as string[], duster: [] as string[] };
    const packets = { gdb: 0, duster: 0 };
    const steps = (who: string, n: number) => {
      if (n !== STEPS) throw new Error(`${who} sent ${n} single steps for stepi ${STEPS}`);
    };
    const endPc = (stdout: string) => [...stdout.matchAll(/^\$\d+ = (?:\(.*?\) )?(0x[0-9a-f]+)/gm)].at(-1)?.[1];
    const [gdb, duster] = await alternate(
      3,
      async () => {
        g.proxy.reset();
        const r = await gdbTimed({
          elf: kernel(),
          before: [`target remote ${g.proxy.address.slice(4)}`, ...before, 'maint packet qC'],
          measured,
          after: ['maint packet qC', 'print/x $pc', 'detach'],
        });
        packets.gdb = requestsBetweenMarkers(g.proxy.packets);
        steps('gdb', stepRequestsBetweenMarkers(g.proxy.packets));
        ends.gdb.push(`pc ${endPc(r.stdout)}`);
        return r.ms;
      },
      async () => {
        g.proxy.reset();
        const r = await dusterTimed({ address: g.proxy.address, elf: kernel(), before, measured, after: ['print/x $pc', 'detach'] });
        packets.duster = requestsBetweenMarkers(g.proxy.packets);
        steps('duster', stepRequestsBetweenMarkers(g.proxy.packets));
        ends.duster.push(`pc ${endPc(r.stdout)}`);
        return r.ms;
      },
    );
    return [
      {
        name: `${STEPS} stepi`,
        unit: 'ms',
        duster: duster.min,
        reference: gdb.min,
        referenceName: 'gdb stepi',
        ratio: duster.min / gdb.min,
        goal: '<= 0.7x gdb',
        notes: `min of 3 (medians ${duster.median.toFixed(0)} / ${gdb.median.toFixed(0)} ms), timed by each debugger's own clock; packets duster ${packets.duster}, gdb ${packets.gdb}, each with ${STEPS} single steps; ends gdb ${ends.gdb.join(', ')}; duster ${ends.duster.join(', ')}`,
      },
    ];
  } finally {
    await g.close();
  }
}
