// Rows 3 and 4: one stop (break, continue, bt, info locals, print a struct) and 100 `next`, duster
// beside gdb, both as separate processes attached through the same packet-counting proxy.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { repeat, timed, type Row } from '../harness.js';
import { bootGuest, kernel } from './guest.js';

const run = promisify(execFile);
const duster = path.resolve(import.meta.dirname, '../../../bin/duster.js');

const STOP = ['break worker_step', 'continue', 'bt', 'info locals', 'print *w'];
const NEXTS = [...STOP, 'delete', 'next 100'];

async function gdbRun(address: string, commands: string[]): Promise<void> {
  const args = ['-nx', '-batch', '-ex', 'set pagination off', '-ex', `target remote ${address.slice(4)}`, ...commands.flatMap((c) => ['-ex', c]), '-ex', 'delete', '-ex', 'detach', kernel()];
  await run('gdb', args, { timeout: 300_000, maxBuffer: 64 << 20 });
}

async function dusterRun(address: string, commands: string[]): Promise<void> {
  const args = [duster, 'attach', address, '--symbols', kernel(), '--batch', ...commands.flatMap((c) => ['-ex', c]), '-ex', 'delete'];
  await run('node', args, { timeout: 300_000, maxBuffer: 64 << 20 });
}

export async function sessionRows(): Promise<Row[]> {
  const g = await bootGuest();
  try {
    const measure = async (fn: (a: string, c: string[]) => Promise<void>, commands: string[]) => {
      let packets = 0;
      const sample = await repeat(3, async () => {
        g.proxy.reset();
        const ms = await timed(() => fn(g.proxy.address, commands));
        packets = g.proxy.requestCount;
        return ms;
      });
      return { ms: sample.min, packets };
    };
    const gStop = await measure(gdbRun, STOP);
    const dStop = await measure(dusterRun, STOP);
    const gNext = await measure(gdbRun, NEXTS);
    const dNext = await measure(dusterRun, NEXTS);
    return [
      {
        name: 'packets for one stop (attach, break, continue, bt, info locals, print struct, detach)',
        unit: 'packets',
        duster: dStop.packets,
        reference: gStop.packets,
        referenceName: 'gdb',
        ratio: dStop.packets / gStop.packets,
        goal: '<= 0.5x gdb',
        notes: `whole process wall time: duster ${dStop.ms.toFixed(0)} ms, gdb ${gStop.ms.toFixed(0)} ms (min of 3)`,
      },
      {
        name: '100 next in a worker thread (wall time of the added steps)',
        unit: 'ms',
        duster: dNext.ms - dStop.ms,
        reference: gNext.ms - gStop.ms,
        referenceName: 'gdb next 100',
        ratio: (dNext.ms - dStop.ms) / (gNext.ms - gStop.ms),
        goal: '<= 0.7x gdb',
        notes: `packets for the 100 next: duster ${dNext.packets - dStop.packets}, gdb ${gNext.packets - gStop.packets}`,
      },
    ];
  } finally {
    await g.close();
  }
}
