// A Linux crash dump: Debian's vmlinux booted in QEMU (2 vCPUs, no root file system, so it
// panics in mount_block_root), written with dump-guest-memory once the panic has stopped the
// other vCPU, and cached beside vmlinux. `duster core --report` (every vCPU's registers and
// backtrace) beside `gdb -batch -ex 'thread apply all bt'`, wall time and peak RSS, alternating.
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchQemu } from '../../../src/qemu/index.js';
import { vmlinux } from '../../support/vmlinux.js';
import { failureLine, measureProcess, type ProcessRun, type Row } from '../harness.js';
import { formatSummary, summarizeProfile } from '../profile.js';

const duster = path.resolve(import.meta.dirname, '../../../bin/duster.js');
const RUNS = Number(process.env.DUSTER_BENCH_REPS ?? 3);

/** The cached dump of vmlinux's panic, made first if needed (about 15 s of TCG boot). */
async function panicDump(elf: string): Promise<string> {
  // Not named vmlinux-*: the cache finds vmlinux by that prefix.
  const file = path.join(path.dirname(elf), `panic-${path.basename(elf)}-smp2.core`);
  if (existsSync(file)) return file;
  const q = await launchQemu({ image: elf, smp: 2, memory: '256M', append: 'console=ttyS0', gdb: 'none' });
  try {
    await q.waitForSerial(/---\[ end Kernel panic/, 600_000);
    // The line is printed before the panicking vCPU settles in panic's final loop.
    await new Promise((r) => setTimeout(r, 1000));
    const partial = `${file}.${process.pid}`;
    await q.dumpGuestMemory(partial);
    renameSync(partial, file);
  } finally {
    await q.kill();
  }
  return file;
}

function checked(who: string, r: ProcessRun, want: RegExp[]): ProcessRun {
  if (!r.ok) throw new Error(`${who} failed: ${failureLine(r)}`);
  const missing = want.filter((re) => !re.test(r.stdout));
  if (missing.length) throw new Error(`${who} did not print ${missing.join(', ')}:\n${r.stdout.slice(-1500)}`);
  return r;
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const mid = (xs: number[]) => xs[Math.floor(xs.length / 2)]!;

export async function linuxDumpRows(): Promise<Row[]> {
  const elf = vmlinux();
  const dump = await panicDump(elf);
  const report = ['node', duster, 'core', dump, '--symbols', elf, '--report'];
  const gdb = ['gdb', '-nx', '-batch', '-ex', 'thread apply all bt', elf, dump];
  // Both vCPUs' backtraces, the panicking one through panic().
  const dWant = [/^CPU 0 /m, /^CPU 1 /m, / in panic \(/m];
  const gWant = [/^Thread 1 /m, /^Thread 2 /m];
  const d: ProcessRun[] = [];
  const g: ProcessRun[] = [];
  for (let i = 0; i < RUNS; i++) {
    g.push(checked('gdb', await measureProcess(gdb), gWant));
    d.push(checked('duster', await measureProcess(report), dWant));
    console.error(`bench: linux dump: gdb ${g.at(-1)!.ms.toFixed(0)} ms, duster ${d.at(-1)!.ms.toFixed(0)} ms`);
  }
  const dMs = sorted(d.map((x) => x.ms));
  const gMs = sorted(g.map((x) => x.ms));
  const dRss = Math.max(...d.map((x) => x.rssKiB)) / 1024;
  const gRss = Math.max(...g.map((x) => x.rssKiB)) / 1024;
  const ratio = dMs[0]! / gMs[0]!;
  let profile = '';
  if (ratio > 0.2 || dRss / gRss > 0.3) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'duster-prof-'));
    try {
      checked('duster', await measureProcess(['node', '--cpu-prof', `--cpu-prof-dir=${dir}`, ...report.slice(1)]), dWant);
      profile = `; where duster's time goes: ${formatSummary(summarizeProfile(path.join(dir, readdirSync(dir)[0]!)), 5)}`;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const frames = (s: string) => s.split('\n').filter((l) => /^\s*#\d+ /.test(l)).length;
  return [
    {
      name: "a Linux crash dump (vmlinux panicked on 2 vCPUs) opened to every vCPU's backtrace",
      unit: 'ms',
      duster: dMs[0]!,
      reference: gMs[0]!,
      referenceName: 'gdb thread apply all bt',
      ratio,
      goal: '<= 0.2x gdb, peak RSS <= 0.3x',
      notes:
        `min/median of ${RUNS}: duster ${dMs[0]!.toFixed(0)}/${mid(dMs).toFixed(0)} ms, gdb ${gMs[0]!.toFixed(0)}/${mid(gMs).toFixed(0)} ms; ` +
        `peak RSS duster ${dRss.toFixed(0)} MiB, gdb ${gRss.toFixed(0)} MiB (${(dRss / gRss).toFixed(2)}x); ` +
        `frames shown: duster ${frames(d[0]!.stdout)}, gdb ${frames(g[0]!.stdout)} (gdb reads no page tables, so its backtraces end at the first stack read)${profile}`,
    },
  ];
}
