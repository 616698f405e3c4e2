// Integration: stepping optimized code (issue 18's stepping items) compared with gdb 13, command by
// command, on the reference unikernel's app=step at gcc -O2 and clang -O2 (fixtures/unikernel/src/
// app_step.c). What each command reports is compared: where it stopped (function and line), which
// breakpoint it reports hit, and the hit counts `info breakpoints` shows.
//  - gcc -O2 puts a line's non-statement row just before its statement row (gcd's line 26, after
//    the loop's branch back; kvsnprintf's %s case): `next` must stop at that line, not run on.
//  - A user breakpoint reached by a step is hit: at the return address a `next` out of gcd comes
//    back to, inside the loop of an inlined call that `next` steps over, and where `finish` out of
//    an inlined call arrives.
// Only one guest thread runs app_step.c, so the vCPU gdb steps runs the same code as duster's.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { launchQemu } from '../../src/qemu/index.js';
import { gdbBatch } from '../support/gdb.js';

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../..');
const elf = (build: string) => path.join(repo, 'fixtures/unikernel/build', build, 'kernel.elf');
const APPEND = 'app=step preempt=off';
const RUN_TIMEOUT_MS = 90_000;

const times = (n: number, c: string) => Array.from({ length: n }, () => c);

/** The address a call of gcd in step_round returns to (where `break *ADDR` goes: gdb and duster both take it). */
async function returnFromGcd(build: string): Promise<string> {
  const { stdout } = await run('objdump', ['-d', '--no-show-raw-insn', elf(build)], { maxBuffer: 64 << 20 });
  const body = stdout.split('\n\n').find((b) => /^[0-9a-f]+ <step_round>:/m.test(b));
  const lines = body?.split('\n') ?? [];
  const call = lines.findIndex((l) => /\bcall\s+[0-9a-f]+ <gcd>/.test(l));
  const after = /^\s*([0-9a-f]+):/.exec(lines[call + 1] ?? '');
  if (call < 0 || !after) throw new Error(`no call of gcd in step_round of ${build}`);
  return `0x${after[1]}`;
}

/** The line of kvsnprintf's `if (!s)` in its %s case. */
function nullStringCheckLine(): number {
  const lines = readFileSync(path.join(repo, 'fixtures/unikernel/src/console.c'), 'utf8').split('\n');
  const at = lines.findIndex((l, i) => /^\s*if \(!s\)$/.test(l) && /case 's'/.test(lines[i - 2] ?? ''));
  if (at < 0) throw new Error("no `if (!s)` after case 's' in console.c");
  return at + 1;
}

async function script(build: string): Promise<string[]> {
  return [
    // kvsnprintf's %s case: `if (!s)`, then two lines on, a line whose first row (gcc -O2) is not a statement.
    `break console.c:${nullStringCheckLine()}`,
    'continue',
    'delete',
    ...times(5, 'next'),
    // gcd's tail call is a loop at -O2 (26 -> 24 -> 26 ...); its return lands on a breakpoint.
    'break gcd',
    'continue',
    'delete',
    `break *${await returnFromGcd(build)}`,
    ...times(14, 'next'),
    'info breakpoints',
    'delete',
    // next over an inlined call whose loop holds a breakpoint; finish out of it onto one.
    'break step_round',
    'continue',
    'delete',
    'break app_step.c:17',
    'next',
    'next',
    'next',
    'info breakpoints',
    'delete',
    'break app_step.c:17',
    'continue',
    'delete',
    'break app_step.c:32',
    'finish',
    'info breakpoints',
    'delete',
  ];
}

/**
 * What a command reported: the breakpoint it says was hit, the function when a frame was announced,
 * the line, hit counts, and where breakpoints were set.
 */
function report(text: string): string {
  const out: string[] = [];
  let fn = '';
  let line = '';
  for (const l of text.split('\n')) {
    const hit = /hit (?:Temporary b|B)reakpoint ([\d.]+), /.exec(l);
    if (hit) out.push(`bp ${hit[1]}`);
    const f = /^(?:(?:Thread \d+ hit )?(?:Temporary b|B)reakpoint [\d.]+, )?(0x[0-9a-f]+ in )?(\w+) \(.*\) at \S+:\d+$/.exec(l);
    if (f && !l.startsWith('Run till exit')) fn = `${f[1] ? 'pc@' : ''}${f[2]}`;
    const n = /^(?:0x[0-9a-f]+\t)?(\d+)\t/.exec(l);
    if (n) line = n[1]!;
    const count = /breakpoint already hit (\d+) time/.exec(l);
    if (count) out.push(`hits ${count[1]}`);
    // Where a breakpoint was set, and each location `info breakpoints` lists (the line of a
    // line breakpoint is the line asked for, where an inlined call's first row shares its address).
    const set = /^Breakpoint \d+ at (0x[0-9a-f]+): file (\S+), line (\d+)\.$/.exec(l);
    if (set) out.push(`set ${set[1]} ${set[2]}:${set[3]}`);
    const listed = /^\d+(?:\.\d+)?\s.*\s(0x[0-9a-f]+) in (\w+) at (\S+:\d+)$/.exec(l);
    if (listed) out.push(`at ${listed[1]} ${listed[2]} ${listed[3]}`);
  }
  if ((fn || line) && !out.some((o) => o.startsWith('set ') || o.startsWith('at '))) out.push(`${fn}:${line}`);
  return out.join(' ');
}

async function duster(build: string, commands: string[]): Promise<string[]> {
  const { stdout } = await run(
    'node',
    [path.join(repo, 'bin/duster.js'), 'run', elf(build), '--append', APPEND, '--batch', ...commands.flatMap((c) => ['-ex', c])],
    { maxBuffer: 64 << 20, timeout: RUN_TIMEOUT_MS },
  );
  const transcript = stdout
    .split('\n')
    .filter((l) => !l.startsWith('guest| '))
    .join('\n');
  return transcript
    .split('\n(duster) ')
    .slice(1, commands.length + 1)
    .map((t) => report(t.split('\n').slice(1).join('\n')));
}

async function gdb(build: string, commands: string[]): Promise<string[]> {
  const q = await launchQemu({ image: elf(build), smp: 2, append: APPEND, gdb: 'unix', paused: true });
  try {
    const out = await gdbBatch({
      elf: elf(build),
      target: q.gdbAddress,
      commands: ['set scheduler-locking step', ...commands.flatMap((c) => ['echo @@@\\n', c])],
      timeoutMs: RUN_TIMEOUT_MS,
    });
    return out.split('@@@\n').slice(1).map(report);
  } finally {
    await q.kill();
  }
}

describe.each(['gcc-O2', 'clang-O2'])('stepping optimized code as gdb 13 does (%s)', (build) => {
  it('stops at statement rows after non-statement rows, and at breakpoints a step reaches', { timeout: 300_000 }, async () => {
    const commands = await script(build);
    const [d, g] = await Promise.all([duster(build, commands), gdb(build, commands)]);
    const rows = (r: string[]) => commands.map((c, i) => `${c} -> ${r[i]}`);
    expect(rows(d)).toEqual(rows(g));
    // Not vacuous: the steps went round gcd's loop, into kvsnprintf's %s case, and hit breakpoints on the way.
    expect(d.filter((r) => r === ':26').length).toBeGreaterThan(2);
    expect(d).toContain(`:${nullStringCheckLine() + 2}`);
    expect(d.filter((r) => r.startsWith('bp ')).length).toBeGreaterThan(4);
    if (build === 'clang-O2') expect(d).toContain('bp 3 step_round:34');
    // A location of a breakpoint of several (the inlined loop's line, in both calls) is named as gdb names it.
    expect(d).toContain('bp 5.1 weigh:17');
  });
});
