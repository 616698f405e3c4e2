// Rows 3 and 4: one stop (break, continue, bt, info locals, print a struct) and 100 `next`, duster
// beside gdb, both as separate processes attached through the same packet-counting proxy.
//
// The 100 `next` step a loop that does not sleep, so that both debuggers step the same work: the
// character loop of kvsnprintf, entered from a worker's progress message (the guest runs with
// preempt=off, so nothing switches threads under the step). Both run to that kprintf call, into
// kvsnprintf, take one `next` to warm up, then the 100 timed by their own clocks; both must end
// at the same pc with the same format pointer (see sameWork). Beside the times: each debugger's
// requests, round trips (a burst of requests sent together is one: duster pipelines, gdb does not)
// and breakpoint insertions and removals (each one makes QEMU's TCG drop translated code); and,
// when the row misses its goal, where a profiled duster run spent its time.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { alternate, dusterTimed, gdbTimed, requestsBetweenMarkers, sameWork, timed, type Row } from '../harness.js';
import { formatSummary, summarizeProfile } from '../profile.js';
import type { ProxyPacket } from '../../support/rsp-proxy.js';
import { bootGuest, kernel, root } from './guest.js';

const run = promisify(execFile);
const duster = path.resolve(import.meta.dirname, '../../../bin/duster.js');

const STOP = ['break worker_step', 'continue', 'bt', 'info locals', 'print *w'];
const NEXTS = 100;
const NEXT_RUNS = 5;
const NEXT_GOAL = 0.5;

async function gdbRun(address: string, commands: string[]): Promise<void> {
  const args = [
    '-nx',
    '-batch',
    '-ex',
    'set pagination off',
    '-ex',
    `target remote ${address.slice(4)}`,
    ...commands.flatMap((c) => ['-ex', c]),
    '-ex',
    'delete',
    '-ex',
    'detach',
    kernel(),
  ];
  await run('gdb', args, { timeout: 300_000, maxBuffer: 64 << 20 });
}

async function dusterRun(address: string, commands: string[]): Promise<void> {
  const args = [duster, 'attach', address, '--symbols', kernel(), '--batch', ...commands.flatMap((c) => ['-ex', c]), '-ex', 'delete'];
  await run('node', args, { timeout: 300_000, maxBuffer: 64 << 20 });
}

/** The line of the worker's progress kprintf: the way into a long loop that never sleeps. */
function progressLine(): string {
  const file = path.join(root, 'src/app_demo.c');
  const line = readFileSync(file, 'utf8')
    .split('\n')
    .findIndex((l) => l.includes('kprintf("worker-%d step'));
  if (line < 0) throw new Error(`no worker progress kprintf in ${file}`);
  return `app_demo.c:${line + 1}`;
}

/** Round trips and breakpoint packets (Z/z) between a run's qC markers. */
function traffic(packets: readonly ProxyPacket[]): { roundTrips: number; breakpoints: number } {
  const first = packets.findIndex((p) => p.dir === 'c2s' && p.data === '$qC#b4');
  const last = packets.findLastIndex((p) => p.dir === 'c2s' && p.data === '$qC#b4');
  let roundTrips = 0;
  let breakpoints = 0;
  let previous: ProxyPacket['dir'] = 's2c';
  for (const p of packets.slice(first + 1, last)) {
    if (p.data === '+' || p.data === '-') continue;
    if (p.dir === 'c2s') {
      if (previous === 's2c') roundTrips++;
      if (/^\$[Zz][01],/.test(p.data)) breakpoints++;
    }
    previous = p.dir;
  }
  return { roundTrips, breakpoints };
}

/** The `$N = 0x...` values a run printed last (duster adds the pointer type), to tell where it ended. */
function lastValues(stdout: string, count: number): string[] {
  return [...stdout.matchAll(/^\$\d+ = (?:\(.*?\) )?(0x[0-9a-f]+)/gm)].slice(-count).map((m) => m[1]!);
}

export async function sessionRows(): Promise<Row[]> {
  const g = await bootGuest();
  try {
    const packets = { gdb: 0, duster: 0 };
    const stop = (who: 'gdb' | 'duster', fn: typeof gdbRun) => async () => {
      g.proxy.reset();
      const ms = await timed(() => fn(g.proxy.address, STOP));
      packets[who] = g.proxy.requestCount;
      return ms;
    };
    const [gStop, dStop] = await alternate(3, stop('gdb', gdbRun), stop('duster', dusterRun));
    const before = [`break ${progressLine()}`, 'continue', 'delete', 'advance kvsnprintf', 'next'];
    const measured = [`next ${NEXTS}`];
    const after = ['print/x $pc', 'print/x fmt'];
    const ends = { gdb: [] as string[], duster: [] as string[] };
    const steps = { gdb: 0, duster: 0 };
    const trips = { gdb: traffic([]), duster: traffic([]) };
    const [gdbNext, dusterNext] = await alternate(
      NEXT_RUNS,
      async () => {
        g.proxy.reset();
        const r = await gdbTimed({
          elf: kernel(),
          before: [`target remote ${g.proxy.address.slice(4)}`, ...before, 'maint packet qC'],
          measured,
          after: ['maint packet qC', ...after, 'detach'],
        });
        steps.gdb = requestsBetweenMarkers(g.proxy.packets);
        trips.gdb = traffic(g.proxy.packets);
        ends.gdb.push(`pc, fmt ${lastValues(r.stdout, 2).join(' ')}`);
        return r.ms;
      },
      async () => {
        g.proxy.reset();
        const r = await dusterTimed({ address: g.proxy.address, elf: kernel(), before, measured, after: [...after, 'detach'] });
        steps.duster = requestsBetweenMarkers(g.proxy.packets);
        trips.duster = traffic(g.proxy.packets);
        ends.duster.push(`pc, fmt ${lastValues(r.stdout, 2).join(' ')}`);
        return r.ms;
      },
    );
    const same = sameWork(ends);
    const ratio = dusterNext.min / gdbNext.min;
    const profile = ratio > NEXT_GOAL ? `; ${await profiledNexts(g.proxy.address, before, measured)}` : '';
    return [
      {
        name: 'packets for one stop (attach, break, continue, bt, info locals, print struct, detach)',
        unit: 'packets',
        duster: packets.duster,
        reference: packets.gdb,
        referenceName: 'gdb',
        ratio: packets.duster / packets.gdb,
        goal: '<= 0.5x gdb',
        notes: `whole process wall time: duster ${dStop.min.toFixed(0)} ms, gdb ${gStop.min.toFixed(0)} ms (min of 3)`,
      },
      {
        name: `${NEXTS} next in kvsnprintf's character loop (no sleep; preempt=off)`,
        unit: 'ms',
        duster: dusterNext.min,
        reference: gdbNext.min,
        referenceName: `gdb next ${NEXTS}`,
        ratio,
        goal: `<= ${NEXT_GOAL}x gdb`,
        notes:
          `min of ${NEXT_RUNS} (medians ${dusterNext.median.toFixed(0)} / ${gdbNext.median.toFixed(0)} ms), timed by each debugger's own clock; ` +
          `packets duster ${steps.duster}, gdb ${steps.gdb}; round trips duster ${trips.duster.roundTrips}, gdb ${trips.gdb.roundTrips}; ` +
          `breakpoint inserts/removals duster ${trips.duster.breakpoints}, gdb ${trips.gdb.breakpoints}; ${same}${profile}`,
      },
    ];
  } finally {
    await g.close();
  }
}

/** One more duster run of the measured nexts, profiled (duster-timed.ts): where its time went. */
async function profiledNexts(address: string, before: string[], measured: string[]): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'duster-next-prof-'));
  const file = path.join(dir, 'next.cpuprofile');
  process.env.DUSTER_BENCH_PROFILE = file;
  try {
    await dusterTimed({ address, elf: kernel(), before, measured, after: ['detach'] });
    const s = summarizeProfile(file, 16);
    // Not duster's work: waiting for the stub, and the inspector's own dispatch of the profiler start.
    const ours = ([name]: [string, number]) => !/^(\(idle\)|dispatch)( |$)/.test(name);
    const idle = s.areas.find(([a]) => a === '(idle)')?.[1] ?? 0;
    const dispatch = s.areas.find(([a]) => a === 'dispatch')?.[1] ?? 0;
    const busy = { totalMs: s.totalMs - idle - dispatch, areas: s.areas.filter(ours), functions: s.functions.filter(ours) };
    return `profile of one more duster run: ${idle.toFixed(0)} ms idle (waiting for QEMU and the scheduler), ${busy.totalMs.toFixed(0)} ms busy, ${formatSummary(busy, 4)}`;
  } catch (e) {
    return `no profile: ${(e as Error).message.split('\n')[0]}`;
  } finally {
    delete process.env.DUSTER_BENCH_PROFILE;
    rmSync(dir, { recursive: true, force: true });
  }
}
