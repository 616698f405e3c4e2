// Integration: where duster and gdb 13 land, command by command, for scripts of step, next,
// finish, until and advance on the reference unikernel at -O0 and -O2 (inlined calls from
// kernel.h and app_demo.c included). Each is run on its own QEMU from the same breakpoints; every
// landing (function when announced, and line) must agree. gdb steps vCPUs, not guest threads: the
// guests run with preempt=off and the scripts keep clear of thread_sleep(), so that the thread gdb
// steps is the one duster steps (duster under preemption and across sleeps: the last test).
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { bootGuest } from '../support/guest.js';
import { gdbBatch, GdbTimeoutError } from '../support/gdb.js';

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../..');
const elf = (build: string) => path.join(repo, 'fixtures/unikernel/build', build, 'kernel.elf');

/**
 * A script: stop at `at` (conditions pin the data the path depends on, since the two sessions
 * reach a function at different iterations), forget that breakpoint, then the compared commands.
 */
interface Segment {
  at: string;
  commands: string[];
}

const times = (n: number, c: string) => Array.from({ length: n }, () => c);

const SEGMENTS: Segment[] = [
  { at: 'worker_step', commands: times(16, 'step') },
  // From the ring's lock held to its release: the consumer on the other vCPU contends for that lock,
  // and a step into spin_lock spins or not by timing (gdb, which freezes that vCPU, on one side,
  // duster on the other). Taking sched_lock is stepped into from counter_tick below.
  { at: 'app_demo.c:188 if ring.head - ring.tail < 8', commands: times(6, 'step') },
  {
    at: 'counter_tick if demo_counter % 100 != 99',
    commands: ['next', 'next', 'step', 'step', 'step', 'step', 'step', 'finish', 'finish'],
  },
  { at: 'compute_checksum', commands: ['next', 'next', 'next', 'next', 'until', 'until', 'until', 'until', 'next', 'until'] },
  { at: 'worker_step if w->steps % 3 == 0', commands: ['next', 'next', 'next', 'step', 'finish', 'next'] },
  { at: 'worker_step', commands: ['until 166', 'advance fib', 'until 168', 'next'] },
  // A loop of lines with branches inside the function, a switch (an indirect jump) and calls:
  // the format loop of a worker's progress message.
  { at: "kvsnprintf if fmt[0] == 'w'", commands: times(70, 'next') },
];

/** The commands of a whole session: each segment starts at its breakpoint. */
function script(): string[] {
  return SEGMENTS.flatMap((s) => [`break ${s.at}`, 'continue', 'delete', ...s.commands]);
}

/**
 * Where a command's output says the thread now stands: the function if a frame was announced
 * (with `pc@` when its address was shown: mid-line), and the line.
 */
function landing(text: string): string {
  let fn = '';
  let line = '?';
  for (const l of text.split('\n')) {
    if (l.startsWith('Run till exit')) continue;
    const f = /^(?:(?:Thread \d+ hit )?(?:Temporary b|B)reakpoint \d+, )?(0x[0-9a-f]+ in )?(\w+) \(.*\) at \S+:\d+$/.exec(l);
    if (f) fn = `${f[1] ? 'pc@' : ''}${f[2]}`;
    const n = /^(?:0x[0-9a-f]+\t)?(\d+)\t/.exec(l);
    if (n) line = n[1]!;
  }
  return `${fn}:${line}`;
}

/** Each run takes seconds; a run still going after this is stuck, and says where. */
const RUN_TIMEOUT_MS = 60_000;

async function dusterLandings(build: string, commands: string[], append = 'app=demo preempt=off'): Promise<string[]> {
  const pending = run(
    'node',
    [path.join(repo, 'bin/duster.js'), 'run', elf(build), '--append', append, '--batch', ...commands.flatMap((c) => ['-ex', c])],
    { maxBuffer: 64 << 20 },
  );
  // Our own deadline: duster ends cleanly on SIGTERM (it stops its QEMU), so its exit status
  // alone would not tell a cut-short run from a finished one.
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    pending.child.kill('SIGTERM');
  }, RUN_TIMEOUT_MS);
  const stdout = await pending
    .then(
      (r) => r.stdout,
      (e: { stdout?: string }) => {
        if (!timedOut) throw e;
        return e.stdout ?? '';
      },
    )
    .finally(() => clearTimeout(timer));
  if (timedOut) throw new Error(`duster did not finish within ${RUN_TIMEOUT_MS} ms; its output ended with:\n${stdout.slice(-1500)}`);
  const transcript = stdout
    .split('\n')
    .filter((l) => !l.startsWith('guest| '))
    .join('\n');
  return transcript
    .split('\n(duster) ')
    .slice(1, commands.length + 1)
    .map(landing);
}

async function gdbLandings(build: string, commands: string[], append = 'app=demo preempt=off'): Promise<string[]> {
  // Only the stepping vCPU runs during gdb's steps (`until` included, which scheduler-locking
  // step leaves out): gdb single-steps, and another vCPU in the same code hitting gdb's
  // step-resume breakpoints makes gdb 13 end the step in that other vCPU. duster needs no such
  // lock: its stops are checked for frame and guest thread. The lock has a price: a step that
  // needs a spinlock the frozen vCPU holds (sched_lock in a timer tick, the console's in kprintf)
  // spins forever. That depends on where the other vCPU stopped, so a stuck gdb gets one more
  // try on a fresh guest.
  const locked = (c: string) => (c === 'until' ? ['set scheduler-locking on', c, 'set scheduler-locking step'] : [c]);
  for (let attempt = 1; ; attempt++) {
    const q = await bootGuest({ image: elf(build), smp: 2, append, gdb: 'unix', paused: true });
    try {
      const out = await gdbBatch({
        elf: elf(build),
        target: q.gdbAddress,
        commands: ['set scheduler-locking step', ...commands.flatMap((c) => ['echo @@@\\n', ...locked(c)])],
        timeoutMs: RUN_TIMEOUT_MS,
      });
      return out.split('@@@\n').slice(1).map(landing);
    } catch (e) {
      if (!(e instanceof GdbTimeoutError) || attempt === 2) throw e;
      console.log(`gdb stuck on attempt ${attempt}, retrying: ${e.message.split('\n').slice(-3).join(' | ')}`);
    } finally {
      await q.kill();
    }
  }
}

describe.each(['gcc-O0', 'gcc-O2'])('duster and gdb step to the same places (%s)', (build) => {
  it('step, next, finish, until and advance through inlined and real calls', { timeout: 300_000 }, async () => {
    const commands = script();
    const [d, g] = await Promise.all([dusterLandings(build, commands), gdbLandings(build, commands)]);
    const rows = commands.map((c, i) => `${c} -> ${d[i]}`);
    expect(rows).toEqual(commands.map((c, i) => `${c} -> ${g[i]}`));
    // The scripts do reach inlined frames and real calls (the comparison is not vacuous).
    const seen = new Set(d.map((l) => l.split(':')[0]));
    for (const fn of ['compute_checksum', 'spin_lock_irqsave', 'fib', 'kvsnprintf']) expect(seen).toContain(fn);
    if (build === 'gcc-O2') expect(seen).toContain('point_area');
  });
});

describe('duster and gdb step to the same places (clang-O2)', () => {
  it("step through a loop of inlined calls, over clang's line-0 rows", { timeout: 200_000 }, async () => {
    const commands = ['break worker_step', 'continue', 'delete', ...times(17, 'step')];
    const [d, g] = await Promise.all([dusterLandings('clang-O2', commands), gdbLandings('clang-O2', commands)]);
    expect(commands.map((c, i) => `${c} -> ${d[i]}`)).toEqual(commands.map((c, i) => `${c} -> ${g[i]}`));
    expect(new Set(d.map((l) => l.split(':')[0]))).toContain('mix');
  });
});

describe('stepping stays with the guest thread (gcc-O0)', () => {
  it('next over thread_sleep() comes back to the same worker, where gdb wanders off with the vCPU', { timeout: 200_000 }, async () => {
    const steps = ['next', 'next', 'next', 'step', 'next', 'finish', ...times(14, 'next'), 'step'];
    const commands = ['break worker_step', 'continue', 'delete', ...steps];
    const d = await dusterLandings('gcc-O0', commands, 'app=demo');
    const cut = d.findIndex((l) => l.endsWith(':181')) + 1;
    expect(cut).toBeGreaterThan(3);
    // gdb only up to thread_sleep(): stepping over it, gdb follows the vCPU, not the guest thread.
    const g = await gdbLandings('gcc-O0', commands.slice(0, cut), 'app=demo');
    // Up to `next` over thread_sleep() both agree. There the guest thread sleeps and gdb, which
    // only knows vCPUs, follows the vCPU into whatever guest thread runs next; duster stays with
    // the guest thread, as a kernel developer means.
    expect(d.slice(0, cut)).toEqual(g.slice(0, cut));
    const rest = d.slice(cut);
    expect(rest.slice(0, -1).every((l) => /^(worker_thread|):(177|178|181)$/.test(l))).toBe(true);
    expect(rest.at(-1)).toBe('worker_step:158');
  });
});

describe.each(['gcc-O0', 'gcc-O2'])('duster and gdb report the same watchpoint hits (%s)', (build) => {
  it('write, read and access watchpoints: values and where they stopped', { timeout: 120_000 }, async () => {
    // demo_counter is only touched by the counter thread: the hits and values are the same in both runs.
    const commands = [
      'watch demo_counter',
      'continue',
      'continue',
      'delete',
      'rwatch demo_counter',
      'continue',
      'delete',
      'awatch demo_counter',
      'continue',
      'continue',
      'continue',
      // gdb's -location: the address is watched and the value read as the expression's type.
      'delete',
      'watch -l demo_counter',
      'continue',
      'info watchpoints',
    ];
    const report = (t: string) =>
      t
        .split('\n')
        .filter((l) => /watchpoint \d+: |^(Old|New)? ?[Vv]alue = |^\d+\t| at \S+:\d+$|^\d+ +(hw |read |acc )?watchpoint /.test(l))
        .map((l) => l.replace(/^Thread \d+ hit /, ''))
        .join('\n');
    const { stdout } = await run(
      'node',
      [path.join(repo, 'bin/duster.js'), 'run', elf(build), '--append', 'app=demo', '--batch', ...commands.flatMap((c) => ['-ex', c])],
      { timeout: 120_000 },
    );
    const d = stdout
      .split('\n')
      .filter((l) => !l.startsWith('guest| '))
      .join('\n')
      .split('\n(duster) ')
      .slice(1, commands.length + 1)
      .map(report);
    const q = await bootGuest({ image: elf(build), smp: 2, append: 'app=demo', gdb: 'unix', paused: true });
    let g: string[];
    try {
      g = (await gdbBatch({ elf: elf(build), target: q.gdbAddress, commands: commands.flatMap((c) => ['echo @@@\\n', c]) }))
        .split('@@@\n')
        .slice(1)
        .map(report);
    } finally {
      await q.kill();
    }
    expect(d).toEqual(g);
    const all = d.join('\n');
    for (const hit of [
      'Old value = 0\nNew value = 1',
      'Hardware read watchpoint 2: demo_counter\nValue = 2',
      'Hardware access (read/write) watchpoint 3: demo_counter\nValue = 2',
      'Hardware access (read/write) watchpoint 3: demo_counter\nOld value = 2\nNew value = 3',
    ])
      expect(all).toContain(hit);
  });
});
