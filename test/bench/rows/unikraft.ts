// A Unikraft image (the shared fixture threads-O2: Unikraft 0.17 at -O2, booted by multiboot from
// its image, symbols from its .dbg): a fresh QEMU stopped at the reset vector, the debugger
// attaches through the packet proxy, breaks in worker_fn, continues, prints `bt` and `info threads`
// and detaches. Whole-process wall time of duster and of gdb (whose `info threads` lists the vCPUs
// only), alternating, same QEMU command line for both; the guest's boot to the breakpoint, the same
// for both, is measured from the proxy's log and shown apart.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchQemu } from '../../../src/qemu/index.js';
import { RspProxy } from '../../support/rsp-proxy.js';
import { unikraftImage } from '../../support/unikraft.js';
import { failureLine, measureProcess, type ProcessRun, type Row } from '../harness.js';
import { formatSummary, summarizeProfile } from '../profile.js';

const duster = path.resolve(import.meta.dirname, '../../../bin/duster.js');
const RUNS = Number(process.env.DUSTER_BENCH_REPS ?? 5);
const COMMANDS = ['break worker_fn', 'continue', 'bt', 'info threads'];

type Argv = (address: string, symbols: string) => string[];
const gdb: Argv = (address, symbols) => [
  'gdb',
  '-nx',
  '-batch',
  '-ex',
  `target remote ${address.slice(4)}`,
  ...COMMANDS.flatMap((c) => ['-ex', c]),
  '-ex',
  'detach',
  symbols,
];
const dusterArgv =
  (node: string[]): Argv =>
  (address, symbols) => [
    ...node,
    duster,
    'attach',
    address,
    '--symbols',
    symbols,
    '--batch',
    ...COMMANDS.flatMap((c) => ['-ex', c]),
    '-ex',
    'detach',
  ];

interface Run extends ProcessRun {
  packets: number;
  guestMs: number;
}

/** Milliseconds from the continue request to the stop reply after it. */
function guestRunMs(proxy: RspProxy): number {
  const p = proxy.packets;
  const go = p.findIndex((x) => x.dir === 'c2s' && /^\$(vCont;c|c)/.test(x.data));
  const stop = p.findIndex((x, i) => i > go && x.dir === 's2c' && /^\$[TS]/.test(x.data));
  return go >= 0 && stop >= 0 ? p[stop]!.t - p[go]!.t : Number.NaN;
}

async function once(argv: Argv, image: string, symbols: string, who: string): Promise<Run> {
  const q = await launchQemu({ image, memory: '64M', gdb: 'unix', paused: true });
  const proxy = await RspProxy.start(q.gdbAddress!);
  try {
    const r = await measureProcess(argv(proxy.address, symbols));
    if (!r.ok) throw new Error(`${who} failed: ${failureLine(r)}`);
    if (!/^#0 .*worker_fn \(arg=/m.test(r.stdout) || !/^\* +1 +Thread 1\.1 /m.test(r.stdout))
      throw new Error(`${who} did not stop in worker_fn and list the threads:\n${r.stdout.slice(-1500)}`);
    return { ...r, packets: proxy.requestCount, guestMs: guestRunMs(proxy) };
  } finally {
    await proxy.close();
    await q.kill();
  }
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const mid = (xs: number[]) => xs[Math.floor(xs.length / 2)]!;

export async function unikraftRows(): Promise<Row[]> {
  const image = unikraftImage('threads-O2');
  const symbols = `${image}.dbg`;
  if (!existsSync(image)) throw new Error(`no Unikraft fixture at ${image} (set DUSTER_UNIKRAFT_FIXTURES)`);
  const g: Run[] = [];
  const d: Run[] = [];
  for (let i = 0; i < RUNS; i++) {
    g.push(await once(gdb, image, symbols, 'gdb'));
    d.push(await once(dusterArgv(['node']), image, symbols, 'duster'));
  }
  const dMs = sorted(d.map((x) => x.ms));
  const gMs = sorted(g.map((x) => x.ms));
  const ratio = dMs[0]! / gMs[0]!;
  let profile = '';
  if (ratio > 0.7) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'duster-prof-'));
    try {
      await once(dusterArgv(['node', '--cpu-prof', `--cpu-prof-dir=${dir}`]), image, symbols, 'duster');
      profile = `; where duster's time goes: ${formatSummary(summarizeProfile(path.join(dir, readdirSync(dir)[0]!)), 5)}`;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const guest = (runs: Run[]) => Math.min(...runs.map((x) => x.guestMs)).toFixed(0);
  return [
    {
      name: `Unikraft threads-O2: boot to a breakpoint, bt, info threads`,
      unit: 'ms',
      duster: dMs[0]!,
      reference: gMs[0]!,
      referenceName: 'gdb',
      ratio,
      goal: '<= 0.7x gdb',
      notes:
        `min/median of ${RUNS}: duster ${dMs[0]!.toFixed(0)}/${mid(dMs).toFixed(0)} ms, gdb ${gMs[0]!.toFixed(0)}/${mid(gMs).toFixed(0)} ms ` +
        `(of which the guest's boot to the breakpoint: duster ${guest(d)} ms, gdb ${guest(g)} ms); peak RSS duster ${(d[0]!.rssKiB / 1024).toFixed(0)} MiB, gdb ${(g[0]!.rssKiB / 1024).toFixed(0)} MiB; ` +
        `packets duster ${d[0]!.packets}, gdb ${g[0]!.packets}${profile}`,
    },
  ];
}
