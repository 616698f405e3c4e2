// Integration: the unikernel's own threads, live and post-mortem, on the reference unikernel
// (-smp 2, app=demo). One stop: `info threads` there must list every thread the guest announced on
// its serial console by name, with the state and vCPU gdb reads from the guest's memory; a dump of
// that same stop must give the same list; each switched-out thread's backtrace must run from the
// scheduler's switch path and equal gdb's `bt` once gdb is given that thread's saved registers by
// hand. A corrupted thread list (cycle, wild pointer) is reported, not followed.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gdbBatch } from '../support/gdb.js';
import { withVcpuRegisters } from '../support/qemu-core.js';

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../..');
const kernel = (build: string) => path.join(repo, `fixtures/unikernel/build/${build}/kernel.elf`);

interface JsonLine {
  command?: string;
  ok?: boolean;
  data?: unknown;
  text?: string;
  event?: string;
}
interface ThreadRow {
  id: string;
  name: string;
  state: string;
  vcpu?: number;
  frame?: { function?: string; pc: string };
}

async function duster(args: string[], commands: string[]): Promise<JsonLine[]> {
  const all = [path.join(repo, 'bin/duster.js'), ...args, '--batch', '--json', ...commands.flatMap((c) => ['-ex', c])];
  const { stdout } = await run('node', all, { timeout: 120_000, maxBuffer: 16 << 20 }).catch((e: { stdout: string }) => e);
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as JsonLine);
}

function result(lines: JsonLine[], command: string): JsonLine {
  const r = lines.filter((l) => l.command === command).at(-1);
  if (!r) throw new Error(`no result for '${command}'`);
  return r;
}

/** The guest threads of the last `info threads` (without which one is selected: that is the session's). */
const threadsOf = (lines: JsonLine[]) =>
  (result(lines, 'info threads').data as { threads: Array<ThreadRow & { current?: boolean }> }).threads.map(({ current: _, ...t }) => t);

/** The frames of the last backtrace in a text (gdb prints a #0 line when it loads a core). */
function lastBacktrace(out: string): string[] {
  const lines = out.split('\n').filter((l) => l.startsWith('#'));
  return lines.slice(lines.findLastIndex((l) => l.startsWith('#0 '))).map((l) => l.replace(/\s+/g, ' '));
}

/** gdb's own walk of thread_list on a dump: id, name, state, saved_rsp and the 7 saved words. */
async function gdbThreads(elf: string, dir: string, core: string) {
  const script = path.join(dir, 'walk.gdb');
  writeFileSync(
    script,
    [
      `core-file ${core}`,
      'set $t = thread_list',
      'while $t',
      '  printf "T %d %s %lu ", $t->id, $t->name, $t->saved_rsp',
      '  output $t->state',
      '  echo \\n',
      '  x/7gx $t->saved_rsp',
      '  set $t = $t->next',
      'end',
      'set $c = 0',
      'while $c < ncpus',
      '  printf "C %d %d\\n", $c, percpu[$c].current_thread->id',
      '  set $c = $c + 1',
      'end',
    ].join('\n'),
  );
  const out = await gdbBatch({ elf, commands: [`source ${script}`] });
  const threads: Array<{ id: number; name: string; state: string; sp: bigint; words: bigint[] }> = [];
  for (const line of out.split('\n')) {
    const t = /^T (\d+) (\S+) (\d+) (THREAD_\w+)/.exec(line);
    if (t) threads.push({ id: Number(t[1]), name: t[2]!, sp: BigInt(t[3]!), state: t[4]!, words: [] });
    else if (/^0x[0-9a-f]+.*:\s/.test(line))
      threads.at(-1)!.words.push(...[...line.split(':')[1]!.matchAll(/0x[0-9a-f]+/g)].map((m) => BigInt(m[0])));
  }
  const running = new Map([...out.matchAll(/^C (\d+) (\d+)$/gm)].map((m) => [Number(m[2]), Number(m[1]) + 1]));
  return { threads, running };
}

describe.each(['gcc-O0', 'gcc-O2'])('unikernel threads, %s (integration)', (build) => {
  const elf = kernel(build);
  let dir: string;
  let dump: string;
  let live: JsonLine[];
  beforeAll(async () => {
    execFileSync('make', ['-s', '-C', path.join(repo, 'fixtures/unikernel')]);
    dir = mkdtempSync(path.join(os.tmpdir(), 'duster-threads-'));
    dump = path.join(dir, 'demo.core');
    live = await duster(
      ['run', elf, '--smp', '2', '--append', 'app=demo'],
      ['break counter_tick', 'continue', 'continue', 'delete', 'info threads', `dump ${dump}`],
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists every thread the guest announced, with the name, state and vCPU in its memory', async () => {
    const serial = live
      .filter((l) => l.event === 'serial')
      .map((l) => l.text)
      .join('\n');
    const started = [...serial.matchAll(/thread (\d+) (\S+) started on cpu/g)].map((m) => ({ id: `2.${m[1]}`, name: m[2]! }));
    expect(started.length).toBeGreaterThanOrEqual(3);
    const rows = threadsOf(live);
    for (const t of started) expect(rows.find((r) => r.id === t.id)?.name).toBe(t.name);
    const truth = await gdbThreads(elf, dir, dump);
    expect(rows.map((r) => [r.id, r.name, r.state, r.vcpu])).toEqual(
      truth.threads.map((t) => [`2.${t.id}`, t.name, t.state, truth.running.get(t.id)]),
    );
    expect(rows.filter((r) => r.vcpu !== undefined)).toHaveLength(2);
  });

  it('gives the same thread list from a crash dump of that stop', async () => {
    const post = await duster(['core', dump, '--symbols', elf], ['info threads']);
    expect(threadsOf(post)).toEqual(threadsOf(live));
    const report = await run('node', [path.join(repo, 'bin/duster.js'), 'core', dump, '--symbols', elf, '--report', '--json']);
    const reported = (JSON.parse(report.stdout) as { threads: Array<{ id: number; name: string; state: string; vcpu?: number }> }).threads;
    expect(reported.map((t) => [`2.${t.id}`, t.name, t.state, t.vcpu])).toEqual(
      threadsOf(live).map((r) => [r.id, r.name, r.state, r.vcpu]),
    );
  });

  it('unwinds each switched-out thread from the switch path exactly as gdb does with its saved registers', async () => {
    const { threads } = await gdbThreads(elf, dir, dump);
    const asleep = threadsOf(live).filter((r) => r.vcpu === undefined);
    expect(asleep.length).toBeGreaterThanOrEqual(3);
    const ours = await duster(
      ['core', dump, '--symbols', elf],
      asleep.flatMap((r) => [`thread ${r.id}`, 'bt']),
    );
    const bts = ours.filter((l) => l.command === 'bt');
    for (const [i, r] of asleep.entries()) {
      const t = threads.find((x) => `2.${x.id}` === r.id)!;
      // kernel.h: [sp] r15 r14 r13 r12 rbx rbp rip, and rsp = sp + 56 after switch_to returns.
      const [r15, r14, r13, r12, rbx, rbp, rip] = t.words;
      const regs = new Map([
        ['r15', r15!],
        ['r14', r14!],
        ['r13', r13!],
        ['r12', r12!],
        ['rbx', rbx!],
        ['rbp', rbp!],
        ['rip', rip!],
        ['rsp', t.sp + 56n],
        ['cs', 0x8n],
        ['ss', 0x10n],
      ]);
      const patched = path.join(dir, `thread-${t.id}.core`);
      await withVcpuRegisters(dump, patched, 1, regs);
      const gdb = lastBacktrace(await gdbBatch({ elf, commands: [`core-file ${patched}`, 'bt'] }));
      expect(lastBacktrace(bts[i]!.text!)).toEqual(gdb);
      // Every switched-out thread waits in the switch path: schedule_locked (inlined at -O2) under
      // the sleep, yield or preemption entry.
      const switchPath = gdb.slice(0, gdb.findIndex((l) => / (thread_sleep|thread_yield|sched_preempt) \(/.test(l)) + 1);
      expect(switchPath.length).toBeGreaterThan(build === 'gcc-O0' ? 1 : 0);
      if (build === 'gcc-O0') expect(switchPath[0]).toMatch(/^#0 (0x\w+ in )?schedule_locked \(\)/);
    }
  });
});

describe('a corrupted unikernel thread list (integration)', () => {
  const elf = kernel('gcc-O0');
  beforeAll(() => {
    execFileSync('make', ['-s', '-C', path.join(repo, 'fixtures/unikernel')]);
  });

  it('reports a cycle and a wild pointer in the thread list instead of following them', async () => {
    const cycle = await duster(
      ['run', elf, '--append', 'app=demo'],
      ['break counter_tick', 'continue', 'delete', 'set var thread_list->next->next = thread_list', 'info threads'],
    );
    expect(result(cycle, 'info threads').text).toMatch(/thread list incomplete: thread list loops back to 0x[0-9a-f]+/);
    expect(threadsOf(cycle)).toHaveLength(2);
    const wild = await duster(
      ['run', elf, '--append', 'app=demo'],
      ['break counter_tick', 'continue', 'delete', 'set var thread_list->next->next = (struct thread *)0xdead0000', 'info threads', 'bt 1'],
    );
    expect(result(wild, 'info threads').text).toMatch(/thread list incomplete: thread at 0xdead0000 \(struct thread \*\) is unreadable/);
    expect(threadsOf(wild)).toHaveLength(2);
    expect(result(wild, 'bt 1').ok).toBe(true);
  });
});
