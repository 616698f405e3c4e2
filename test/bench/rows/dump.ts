// Row 6: open a 512 MiB QEMU dump of the crashed reference unikernel and print every backtrace:
// `duster core --report` beside `gdb -batch -ex 'thread apply all bt'`, wall time and peak RSS
// (GNU time's %M).
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { measureProcess, repeat, type ProcessRun, type Row } from '../harness.js';
import { kernel, root } from './guest.js';

const run = promisify(execFile);
const duster = path.resolve(import.meta.dirname, '../../../bin/duster.js');

function measured(r: ProcessRun): ProcessRun {
  if (!r.ok) throw new Error(`failed: ${r.stderr.slice(-300)}`);
  return r;
}

export async function dumpRows(): Promise<Row[]> {
  execFileSync('make', ['-s', '-C', root]);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'duster-bench-dump-'));
  try {
    await run('node', [duster, 'run', kernel(), '--append', 'app=crash', '--memory', '512M', '--dump-on-panic', dir, '--batch', '-ex', 'continue'], { timeout: 120_000, maxBuffer: 16 << 20 });
    const dump = path.join(dir, readdirSync(dir).find((f) => f.endsWith('.elf'))!);
    const mib = statSync(dump).size / 1024 / 1024;
    let dRss = 0;
    let gRss = 0;
    const d = await repeat(3, async () => {
      const r = measured(await measureProcess(['node', duster, 'core', dump, '--symbols', kernel(), '--report']));
      dRss = r.rssKiB;
      return r.ms;
    });
    const g = await repeat(3, async () => {
      const r = measured(await measureProcess(['gdb', '-nx', '-batch', '-ex', 'thread apply all bt', kernel(), dump]));
      gRss = r.rssKiB;
      return r.ms;
    });
    return [
      {
        name: `open a ${mib.toFixed(0)} MiB dump and print all backtraces`,
        unit: 'ms',
        duster: d.min,
        reference: g.min,
        referenceName: 'gdb thread apply all bt',
        ratio: d.min / g.min,
        goal: '<= 0.5x gdb, RSS < 200 MB',
        notes: `peak RSS duster ${(dRss / 1024).toFixed(0)} MiB (the whole report: registers, backtraces, threads, kernel log), gdb ${(gRss / 1024).toFixed(0)} MiB`,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
