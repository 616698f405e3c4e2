// `npm run bench`: duster beside gdb (and the symbolizers) on the same work in the same run.
// Prints one table and writes .bench/results.json. Rows are goals, not pass/fail thresholds.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { printTable, type Row } from './harness.js';
import { coldStartRows } from './rows/coldstart.js';
import { dumpRows } from './rows/dump.js';
import { linuxDumpRows } from './rows/linux-dump.js';
import { memoryRow } from './rows/memory.js';
import { nameRows } from './rows/names.js';
import { sessionRows } from './rows/session.js';
import { stepiRow } from './rows/stepi.js';
import { unikraftRows } from './rows/unikraft.js';
import { vmlinuxRows } from './rows/vmlinux.js';

const rows: Array<() => Promise<Row[]>> = [
  vmlinuxRows,
  coldStartRows,
  nameRows,
  sessionRows,
  memoryRow,
  stepiRow,
  dumpRows,
  linuxDumpRows,
  unikraftRows,
];

// DUSTER_BENCH_ROWS=coldStartRows,dumpRows runs only those rows.
const only = process.env.DUSTER_BENCH_ROWS?.split(',');
const results: Row[] = [];
for (const row of rows.filter((r) => !only || only.includes(r.name))) {
  try {
    const r = await row();
    results.push(...r);
    for (const x of r)
      console.error(`bench: ${x.name}: duster ${x.duster.toFixed(2)} ${x.unit}, ${x.referenceName} ${x.reference.toFixed(2)} ${x.unit}`);
  } catch (e) {
    console.error(`bench: ${row.name} failed: ${(e as Error).stack}`);
    process.exitCode = 1;
  }
}
console.log(printTable(results));
const dir = path.resolve(import.meta.dirname, '../../.bench');
mkdirSync(dir, { recursive: true });
writeFileSync(path.join(dir, 'results.json'), JSON.stringify({ date: new Date().toISOString(), rows: results }, null, 2));
process.exit();
