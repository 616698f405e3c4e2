// Row 2: cold start to a backtrace on Debian's vmlinux. A fresh QEMU boots it with -kernel (its PVH
// note) stopped at the first instruction; the debugger starts, attaches through the packet-counting
// proxy, puts a hardware breakpoint on start_kernel, continues, prints `bt` and `info locals` and
// exits. Whole-process wall time and peak RSS of duster and of gdb, same QEMU command line for both.
// A profiled duster run (node --cpu-prof) says where its time goes.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchQemu } from '../../../src/qemu/index.js';
import { RspProxy } from '../../support/rsp-proxy.js';
import { vmlinux } from '../../support/vmlinux.js';
import { failureLine, measureProcess, type ProcessRun, type Row } from '../harness.js';
import { formatSummary, summarizeProfile } from '../profile.js';

const duster = path.resolve(import.meta.dirname, '../../../bin/duster.js');
const REPS = Number(process.env.DUSTER_BENCH_REPS ?? 3);
const MEMORY = '512M';

type Debugger = (address: string, elf: string, where: string) => string[];

const gdb: Debugger = (address, elf, where) => [
  'gdb',
  '-nx',
  '-batch',
  '-ex',
  'set pagination off',
  '-ex',
  'set confirm off',
  '-ex',
  `target remote ${address.slice(4)}`,
  '-ex',
  `hbreak ${where}`,
  '-ex',
  'continue',
  '-ex',
  'bt',
  '-ex',
  'info locals',
  elf,
];

const dusterArgv =
  (node: string[]): Debugger =>
  (address, elf, where) => [
    ...node,
    duster,
    'attach',
    address,
    '--symbols',
    elf,
    '--batch',
    '-ex',
    `hbreak ${where}`,
    '-ex',
    'continue',
    '-ex',
    'bt',
    '-ex',
    'info locals',
  ];

interface Run extends ProcessRun {
  packets: number;
  /** From the continue request to the stop reply: the guest booting, the same work for both. */
  guestMs: number;
}

/** Milliseconds between the first continue request and the stop reply after it, from the proxy's log. */
function guestRunMs(proxy: RspProxy): number {
  const p = proxy.packets;
  const go = p.findIndex((x) => x.dir === 'c2s' && /^\$(vCont;c|c)/.test(x.data));
  const stop = p.findIndex((x, i) => i > go && x.dir === 's2c' && /^\$[TS]/.test(x.data));
  return go >= 0 && stop >= 0 ? p[stop]!.t - p[go]!.t : Number.NaN;
}

/** One cold start: a new QEMU, the debugger from its first instruction to its exit. */
async function coldStart(argv: Debugger, elf: string, where: string): Promise<Run> {
  const q = await launchQemu({ image: elf, memory: MEMORY, gdb: 'unix', paused: true });
  const proxy = await RspProxy.start(q.gdbAddress!);
  try {
    const r = { ...(await measureProcess(argv(proxy.address, elf, where))), packets: proxy.requestCount, guestMs: guestRunMs(proxy) };
    // Both must really have stopped in start_kernel and shown its locals.
    if (r.ok && !(/^#0 +start_kernel \(\)/m.test(r.stdout) && /^command_line = /m.test(r.stdout))) {
      return { ...r, ok: false, stderr: `${r.stderr}\nno start_kernel frame and locals in the output:\n${r.stdout.slice(-600)}` };
    }
    return r;
  } finally {
    await proxy.close();
    await q.kill();
  }
}

/** REPS cold starts; stops at the first failure (one failure is the result). */
async function repeatRuns(argv: Debugger, elf: string, where: string): Promise<{ runs: Run[]; failed?: Run }> {
  const runs: Run[] = [];
  for (let i = 0; i < REPS; i++) {
    const r = await coldStart(argv, elf, where);
    if (!r.ok) return { runs, failed: r };
    runs.push(r);
    console.error(
      `bench: cold start ${argv === gdb ? 'gdb' : 'duster'} ${where}: ${r.ms.toFixed(0)} ms (guest ${r.guestMs} ms), ${(r.rssKiB / 1024).toFixed(0)} MiB, ${r.packets} packets`,
    );
  }
  return { runs };
}

const min = (xs: number[]) => Math.min(...xs);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;

function describeRuns(name: string, r: { runs: Run[]; failed?: Run }): string {
  if (r.failed)
    return `${name} failed after ${(r.failed.ms / 1000).toFixed(1)} s at ${mib(r.failed.rssKiB)} peak RSS: ${failureLine(r.failed)}`;
  const ms = r.runs.map((x) => x.ms);
  const guest = min(r.runs.map((x) => x.guestMs));
  return `${name} min ${min(ms).toFixed(0)} / median ${median(ms).toFixed(0)} ms (of which the guest's boot to start_kernel ${guest.toFixed(0)} ms), peak RSS ${mib(min(r.runs.map((x) => x.rssKiB)))}, ${r.runs[0]!.packets} packets`;
}

export async function coldStartRows(): Promise<Row[]> {
  const elf = vmlinux();
  const address = `*0x${/^([0-9a-f]+) T start_kernel$/m.exec(execFileSync('nm', [elf], { encoding: 'utf8', maxBuffer: 256 << 20 }))![1]}`;
  const g = await repeatRuns(gdb, elf, 'start_kernel');
  if (g.failed) throw new Error(`gdb failed the cold start: ${failureLine(g.failed)}`);
  const d = await repeatRuns(dusterArgv(['node']), elf, 'start_kernel');
  // The same session with the breakpoint given by address: what the name lookup costs.
  const dAddr = await repeatRuns(dusterArgv(['node']), elf, address);

  const profDir = mkdtempSync(path.join(os.tmpdir(), 'duster-prof-'));
  let profile = 'no profile';
  try {
    const where = d.failed ? address : 'start_kernel';
    const p = await coldStart(dusterArgv(['node', '--cpu-prof', `--cpu-prof-dir=${profDir}`]), elf, where);
    const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (p.ok && file) {
      const s = summarizeProfile(path.join(profDir, file));
      console.error(`bench: cold start profile (hbreak ${where}, ${s.totalMs.toFixed(0)} ms sampled):`);
      for (const [a, ms] of s.areas) console.error(`  ${ms.toFixed(0).padStart(6)} ms  ${a}`);
      for (const [f, ms] of s.functions) console.error(`  ${ms.toFixed(0).padStart(6)} ms  ${f}`);
      profile = `profile of hbreak ${where === address ? 'by address' : 'by name'}: ${formatSummary(s, 4)}`;
    }
  } finally {
    rmSync(profDir, { recursive: true, force: true });
  }

  const gMs = min(g.runs.map((x) => x.ms));
  const gRss = min(g.runs.map((x) => x.rssKiB));
  const dMs = d.failed ? Number.NaN : min(d.runs.map((x) => x.ms));
  const dRss = d.failed ? d.failed.rssKiB : min(d.runs.map((x) => x.rssKiB));
  // The guest's boot to start_kernel is the same for both and most of the wall time: without it,
  // what is left is each debugger's own time (loading the image, attaching, the commands, exit).
  const own = (runs: Run[]) => runs.map((x) => x.ms - x.guestMs);
  const gOwn = own(g.runs);
  const dOwn = d.failed ? [Number.NaN] : own(d.runs);
  const ownRatio = min(dOwn) / min(gOwn);
  return [
    {
      name: "cold start on vmlinux, the debugger's own time (wall less the guest's boot to start_kernel)",
      unit: 'ms',
      duster: min(dOwn),
      reference: min(gOwn),
      referenceName: 'gdb',
      ratio: ownRatio,
      goal: '<= 0.3x gdb',
      notes: [
        `min/median of ${REPS}: duster ${min(dOwn).toFixed(0)}/${median(dOwn).toFixed(0)} ms, gdb ${min(gOwn).toFixed(0)}/${median(gOwn).toFixed(0)} ms`,
        `packets duster ${d.runs[0]?.packets ?? '-'}, gdb ${g.runs[0]!.packets}`,
        ...(ownRatio <= 0.3 ? [] : [profile]),
      ].join('; '),
    },
    {
      name: 'cold start to a backtrace (vmlinux: boot, hbreak start_kernel, continue, bt, info locals)',
      unit: 'ms',
      duster: dMs,
      reference: gMs,
      referenceName: 'gdb',
      ratio: dMs / gMs,
      goal: '<= 0.5x gdb time and peak RSS',
      notes: [
        `peak RSS ratio ${(dRss / gRss).toFixed(2)}x`,
        describeRuns('duster', d),
        describeRuns('gdb', g),
        describeRuns(`duster with hbreak ${address}`, dAddr),
        profile,
      ].join('; '),
    },
  ];
}
