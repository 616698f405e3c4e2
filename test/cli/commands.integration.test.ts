// Integration: breakpoint command lists (`commands ... end`, `silent`, a `continue` in a list) and
// dprintf
// against gdb 13 sourcing the same script on its own QEMU: what each stop prints, the lists'
// output, and how info breakpoints shows them.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { bootGuest } from '../support/guest.js';
import { gdbBatch } from '../support/gdb.js';

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../..');
const elf = (build: string) => path.join(repo, 'fixtures/unikernel/build', build, 'kernel.elf');
const append = 'app=demo preempt=off';
const dir = mkdtempSync(path.join(os.tmpdir(), 'duster-commands-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Worker 1 only (its state is workers[0]): its first two iterations, each a silent trace line, a
// dprintf line, then a stop in the compute_checksum it calls.
const SCRIPT = [
  'break worker_step if w->id == 1',
  'commands',
  '  silent',
  '  print w->steps',
  '  continue',
  'end',
  'break compute_checksum if grid == workers[0].grid',
  'commands 2',
  '  print rows',
  '  info args',
  'end',
  'dprintf app_demo.c:164,"steps %lu grid[0][0] %d\\n", w->steps, w->grid[0][0]',
  'condition 3 w->id == 1',
  'echo @@@\\n',
  'continue',
  'echo @@@\\n',
  'continue',
  'echo @@@\\n',
  'info breakpoints',
  'echo @@@\\n',
];

/**
 * What came between the markers, without the vCPU a hit was on (each debugger runs its own guest)
 * and the lines only one of them prints: gdb's `[Switching to Thread ...]`, duster's
 * `Continuing.` (gdb prints it only for a command typed at its prompt).
 */
const sections = (text: string) =>
  text
    .split('@@@\n')
    .slice(1, -1)
    .map((t) =>
      t
        .replace(/^Thread \d+ hit /gm, 'hit ')
        .split('\n')
        .filter((l) => l !== 'Continuing.' && !l.startsWith('[Switching to '))
        .join('\n')
        .trim(),
    );

describe.each(['gcc-O0', 'gcc-O2'])('breakpoint command lists like gdb (%s, integration)', (build) => {
  it('runs the lists at their stops, silently where asked, and lists them in info breakpoints', { timeout: 300_000 }, async () => {
    const script = path.join(dir, `${build}.gdb`);
    writeFileSync(script, SCRIPT.join('\n') + '\n');
    const r = await run('node', [path.join(repo, 'bin/duster.js'), 'run', elf(build), '--append', append, '--batch', '-x', script], {
      timeout: 240_000,
      maxBuffer: 64 << 20,
    });
    const mine = sections(
      r.stdout
        .split('\n')
        .filter((l) => !l.startsWith('guest| ') && !l.startsWith('(duster) '))
        .join('\n'),
    );
    const q = await bootGuest({ image: elf(build), smp: 2, append, gdb: 'unix', paused: true });
    let theirs: string[];
    try {
      theirs = sections(await gdbBatch({ elf: elf(build), target: q.gdbAddress, commands: [`source ${script}`], timeoutMs: 240_000 }));
    } finally {
      await q.kill();
    }
    // --json reports each command a list ran, marked as a breakpoint action.
    const json = await run(
      'node',
      [path.join(repo, 'bin/duster.js'), 'run', elf(build), '--append', append, '--batch', '--json', '-x', script],
      { timeout: 240_000, maxBuffer: 64 << 20 },
    );
    const actions = json.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { command?: string; action?: boolean; data?: { value?: string } })
      .filter((o) => o.action);
    const dprintf = ['printf "steps %lu grid[0][0] %d\\n", w->steps, w->grid[0][0]', 'continue'];
    expect(actions.map((a) => a.command)).toEqual([
      'print w->steps',
      'continue',
      ...dprintf,
      'print rows',
      'info args',
      'print w->steps',
      'continue',
      ...dprintf,
      'print rows',
      'info args',
    ]);
    expect(actions.filter((a) => a.command === 'print w->steps').map((a) => a.data?.value)).toEqual(['0', '1']);
    expect(mine).toHaveLength(3);
    expect(mine[0]).toMatch(/^\$1 = 0\nsteps 0 grid\[0\]\[0\] \d+\n\nhit Breakpoint 2, compute_checksum \(/);
    expect(mine).toEqual(theirs);
  });
});
