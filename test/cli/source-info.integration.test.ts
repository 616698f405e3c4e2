// Integration: `info source` and `info sources` beside gdb 13. duster stops in a worker of the
// reference unikernel (-O0 and -O2) and writes a dump of that moment; gdb opens the dump with the
// same ELF and is asked the same. `info source` must be equal, for the frame stopped in and its
// caller. `info sources` must name the same files under the same heading. Its order differs where
// gdb's depends on which units it happened to read in full: gdb lists those first, the most recently
// read first (here also entry.S and sched.c, read for other threads' frames when the dump opened),
// then the rest in unit order; duster lists the stopped frame's unit first and then the rest in unit
// order, which is gdb's order when it has read only that unit. So the order is checked against gdb on
// the bare ELF (no unit read): the same list once the stopped unit's files are moved to the front.
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../..');
const elf = (build: string) => path.join(repo, 'fixtures/unikernel/build', build, 'kernel.elf');

async function gdb(args: string[]): Promise<string> {
  const { stdout } = await run('gdb', ['-nx', '-batch', '-ex', 'set pagination off', '-ex', 'set width 0', ...args], {
    timeout: 60_000,
    maxBuffer: 16 << 20,
  });
  return stdout;
}

/** The output of each command after a marker (gdb) or the prompt (duster). */
const outputs = (text: string, sep: RegExp) =>
  text
    .split(sep)
    .slice(1)
    .map((t) => t.trim());

const fileList = (sources: string) => sources.split('\n\n')[1]!.split(', ');

let dir: string;
beforeAll(() => {
  execFileSync('make', ['-s', '-C', path.join(repo, 'fixtures/unikernel')]);
  dir = mkdtempSync(path.join(os.tmpdir(), 'duster-sources-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(['gcc-O0', 'gcc-O2'])('info source and info sources as gdb (%s)', (build) => {
  it('at a stop in worker_step and in its caller', { timeout: 120_000 }, async () => {
    const core = path.join(dir, `${build}.core`);
    const asked = ['info source', 'info sources', 'up', 'info source'];
    const commands = ['break worker_step', 'continue', 'delete', 'thread', ...asked, `dump ${core}`];
    const { stdout } = await run(
      'node',
      [path.join(repo, 'bin/duster.js'), 'run', elf(build), '--append', 'app=demo', '--batch', ...commands.flatMap((c) => ['-ex', c])],
      { timeout: 120_000, maxBuffer: 16 << 20 },
    );
    const mine = outputs(
      stdout
        .split('\n')
        .filter((l) => !l.startsWith('guest| '))
        .join('\n'),
      /^\(duster\) .*\n?/m,
    ).slice(3, 4 + asked.length);
    const thread = Number(/^\[Current thread is thread (\d+) /.exec(mine[0]!)?.[1]);
    const theirs = outputs(
      await gdb(['-ex', `thread ${thread}`, ...asked.flatMap((c) => ['-ex', 'echo @@@\\n', '-ex', c]), elf(build), core]),
      /@@@\n/,
    );
    const [source, sources, up, callerSource] = mine.slice(1);
    expect(source).toMatch(
      /^Current source file is src\/app_demo\.c\nCompilation directory is .*\nLocated in .*\/src\/app_demo\.c\nContains \d+ lines\./,
    );
    expect(source).toBe(theirs[0]);
    expect(up).toBe(theirs[2]);
    expect(callerSource).toBe(theirs[3]);
    // The heading is gdb's; the files are the same set (order: see the top of this file).
    expect(sources!.split('\n').slice(0, 3)).toEqual(theirs[1]!.split('\n').slice(0, 3));
    expect(new Set(fileList(sources!))).toEqual(new Set(fileList(theirs[1]!)));
    const bare = fileList(outputs(await gdb(['-ex', 'echo @@@\\n', '-ex', 'info sources', elf(build)]), /@@@\n/)[0]!);
    // duster's list: the stopped unit's few files, then gdb's bare list without them, in its order.
    const ours = fileList(sources!);
    const k = [1, 2, 3, 4, 5, 6].find((n) => {
      const unitFiles = ours.slice(0, n);
      return JSON.stringify(ours.slice(n)) === JSON.stringify(bare.filter((f) => !unitFiles.includes(f)));
    });
    expect(k).toBeDefined();
    expect(ours[0]).toMatch(/\/src\/app_demo\.c$/);
  });

  // Reads the dump the test above wrote (tests in a file run in order).
  it('with the sources moved and found through set substitute-path', { timeout: 120_000 }, async () => {
    const core = path.join(dir, `${build}.core`);
    const moved = path.join(dir, `${build}-moved`);
    cpSync(path.join(repo, 'fixtures/unikernel/src'), path.join(moved, 'src'), { recursive: true });
    const asked = [`set substitute-path ${path.join(repo, 'fixtures/unikernel')} ${moved}`, 'thread 2', 'info source', 'info sources'];
    const { stdout } = await run(
      'node',
      [path.join(repo, 'bin/duster.js'), 'core', core, '--symbols', elf(build), '--batch', ...asked.flatMap((c) => ['-ex', c])],
      { timeout: 120_000, maxBuffer: 16 << 20 },
    );
    const mine = outputs(stdout, /^\(duster\) .*\n?/m);
    const theirs = outputs(await gdb([...asked.flatMap((c) => ['-ex', 'echo @@@\\n', '-ex', c]), elf(build), core]), /@@@\n/);
    expect(mine[2]).toContain(`Located in ${moved}/src/`);
    expect(mine[2]).toBe(theirs[2]);
    expect(new Set(fileList(mine[3]!))).toEqual(new Set(fileList(theirs[3]!)));
  });
});
