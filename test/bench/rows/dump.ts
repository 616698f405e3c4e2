// Row 6: open a 512 MiB QEMU dump of the crashed reference unikernel and print every backtrace:
// `duster core --report` beside `gdb -batch -ex 'thread apply all bt'`, wall time and peak RSS
// (GNU time's %M), with Node's own start (`node -e 0`) as the floor under any Node program and a
// profile of one report run saying where the rest goes.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { measureProcess, repeat, type ProcessRun, type Row, type Sample } from '../harness.js';
import { formatSummary, summarizeProfile } from '../profile.js';
import { kernel, root } from './guest.js';

const run = promisify(execFile);
const duster = path.resolve(import.meta.dirname, '../../../bin/duster.js');
const RUNS = 7;

function measured(r: ProcessRun): ProcessRun {
  if (!r.ok) throw new Error(`failed: ${r.stderr.slice(-300)}`);
  return r;
}

/** Wall ms over RUNS runs, and the largest peak RSS seen (MiB). */
async function timedRuns(argv: string[]): Promise<{ ms: Sample; rssMiB: number }> {
  let rss = 0;
  const ms = await repeat(RUNS, async () => {
    const r = measured(await measureProcess(argv));
    rss = Math.max(rss, r.rssKiB / 1024);
    return r.ms;
  });
  return { ms, rssMiB: rss };
}

export async function dumpRows(): Promise<Row[]> {
  execFileSync('make', ['-s', '-C', root]);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'duster-bench-dump-'));
  try {
    await run(
      'node',
      [duster, 'run', kernel(), '--append', 'app=crash', '--memory', '512M', '--dump-on-panic', dir, '--batch', '-ex', 'continue'],
      { timeout: 120_000, maxBuffer: 16 << 20 },
    );
    const dump = path.join(
      dir,
      readdirSync(dir).find((f) => f.endsWith('.elf'))!,
    );
    const mib = statSync(dump).size / 1024 / 1024;
    const report = ['node', duster, 'core', dump, '--symbols', kernel(), '--report'];
    // After a build the first run of a command compiles the CLI and writes its code cache.
    const first = measured(await measureProcess(report));
    const d = await timedRuns(report);
    const g = await timedRuns(['gdb', '-nx', '-batch', '-ex', 'thread apply all bt', kernel(), dump]);
    const floor = await timedRuns(['node', '-e', '0']);
    const profDir = path.join(dir, 'profile');
    measured(await measureProcess(['node', '--cpu-prof', `--cpu-prof-dir=${profDir}`, ...report.slice(1)]));
    const profile = summarizeProfile(
      path.join(
        profDir,
        readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'))!,
      ),
    );
    const ms = (s: Sample) => `${s.min.toFixed(0)}/${s.median.toFixed(0)}`;
    return [
      {
        name: `open a ${mib.toFixed(0)} MiB dump and print all backtraces`,
        unit: 'ms',
        duster: d.ms.min,
        reference: g.ms.min,
        referenceName: 'gdb thread apply all bt',
        ratio: d.ms.min / g.ms.min,
        goal: '<= 1.0x gdb, RSS < 200 MB',
        notes:
          `min/median of ${RUNS} ms: duster ${ms(d.ms)} (the whole report: registers, backtraces, threads, kernel log; first run ${first.ms.toFixed(0)}, which writes the code cache when there is none), ` +
          `gdb ${ms(g.ms)}, node -e 0 ${ms(floor.ms)}; peak RSS duster ${d.rssMiB.toFixed(0)} MiB, gdb ${g.rssMiB.toFixed(0)} MiB; ${formatSummary(profile, 4)}`,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
