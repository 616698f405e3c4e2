// Integration: display, undisplay and info display against gdb 13 on the same script, each on its
// own QEMU (preempt=off, gdb with scheduler-locking step, as in step-compare): what each stop shows,
// including displays of locals that go quiet in frames that do not see them (compute_checksum).
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { bootGuest } from '../support/guest.js';
import { gdbBatch } from '../support/gdb.js';

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../..');
const elf = (build: string) => path.join(repo, 'fixtures/unikernel/build', build, 'kernel.elf');
const append = 'app=demo preempt=off';

const SETUP = ['break worker_step if w->steps == 2 && w->id == 1', 'continue', 'delete'];
const COMPARED = [
  'display w->steps',
  'display/x w->id + 10',
  'display/i $pc',
  'display b',
  'display matrix[1][2]',
  'display/s demo_config.name',
  'display/2i $pc',
  'display/t w->steps',
  'display/o matrix[1][2]',
  'next',
  'next',
  'step',
  'info display',
  'undisplay 7',
  'next',
  'next',
  'next',
  'step',
  'info display',
  'finish',
  'undisplay 2',
  'undisplay 9',
  'next',
  'display',
  'info display',
];

/** What a command printed, without finish's `Run till exit` line (gdb prints it before the echo) and gdb's detach notice at the end. */
const shown = (text: string) =>
  text
    .split('\n')
    .filter((l) => !l.startsWith('Run till exit') && !l.startsWith('[Inferior '))
    .join('\n')
    .trim();

describe.each(['gcc-O0', 'gcc-O2'])('display like gdb (%s, integration)', (build) => {
  it('shows the same displays at every stop, and lists them the same', { timeout: 300_000 }, async () => {
    const commands = [...SETUP, ...COMPARED];
    const r = await run(
      'node',
      [path.join(repo, 'bin/duster.js'), 'run', elf(build), '--append', append, '--batch', ...commands.flatMap((c) => ['-ex', c])],
      { timeout: 240_000, maxBuffer: 64 << 20 },
    );
    const transcript = r.stdout
      .split('\n')
      .filter((l) => !l.startsWith('guest| '))
      .join('\n');
    const mine = transcript
      .split('\n(duster) ')
      .slice(1, commands.length + 1)
      .map((t) => shown(t.includes('\n') ? t.slice(t.indexOf('\n') + 1) : ''));
    const q = await bootGuest({ image: elf(build), smp: 2, append, gdb: 'unix', paused: true });
    let theirs: string[];
    try {
      const out = await gdbBatch({
        elf: elf(build),
        target: q.gdbAddress,
        commands: ['set scheduler-locking step', ...commands.flatMap((c) => ['echo @@@\\n', c])],
        timeoutMs: 240_000,
      });
      theirs = out.split('@@@\n').slice(1).map(shown);
    } finally {
      await q.kill();
    }
    const at = SETUP.length;
    expect(mine.slice(at).some((t) => /^1: w->steps = 2$/m.test(t))).toBe(true);
    for (const [i, c] of COMPARED.entries()) expect([c, mine[at + i]]).toEqual([c, theirs[at + i]]);
  });
});
