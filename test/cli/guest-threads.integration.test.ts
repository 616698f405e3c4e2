// Integration: the unikernel's own threads. Every thread the guest reports starting on its serial
// console is listed with its name; a sleeping thread's backtrace comes from its saved context and
// runs from the scheduler's switch path down to thread_trampoline; a corrupted thread list (a
// cycle) is reported instead of followed forever.
import { execFile, execFileSync } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../..');
const elf = path.join(repo, 'fixtures/unikernel/build/gcc-O0/kernel.elf');

async function duster(commands: string[]): Promise<string> {
  const args = [path.join(repo, 'bin/duster.js'), 'run', elf, '--append', 'app=demo', '--batch', ...commands.flatMap((c) => ['-ex', c])];
  const { stdout } = await run('node', args, { timeout: 120_000, maxBuffer: 16 << 20 }).catch((e: { stdout: string }) => e);
  return stdout;
}

describe('unikernel threads (integration)', () => {
  beforeAll(() => {
    execFileSync('make', ['-s', '-C', path.join(repo, 'fixtures/unikernel')]);
  });

  it('lists every thread the guest started and unwinds a sleeping one from its saved context', async () => {
    const out = await duster(['break counter_tick', 'continue', 'continue', 'delete', 'info threads', 'gthread 5']);
    const started = [...out.matchAll(/guest\| thread (\d+) (\S+) started on cpu/g)].map((m) => [Number(m[1]), m[2]]);
    expect(started.length).toBeGreaterThanOrEqual(3);
    const listed = new Map([...out.matchAll(/^ {2}(\d+) +(\S+) +(THREAD_\w+)/gm)].map((m) => [Number(m[1]), { name: m[2], state: m[3] }]));
    expect(listed.size).toBeGreaterThanOrEqual(started.length);
    for (const [id, name] of started) expect(listed.get(id as number)?.name).toBe(name);
    // worker-2 (id 5) is asleep or waiting most of the time: then its stack goes through the scheduler.
    const bt = out.slice(out.indexOf('[Unikernel thread 5'));
    if (!/on vCPU/.test(bt.split('\n')[0]!)) {
      expect(bt).toMatch(/#0 +(0x[0-9a-f]+ in )?(schedule_locked|schedule|context_switch)\b/);
      expect(bt).toMatch(/thread_trampoline \(\) at src\/entry\.S:\d+\n/);
    }
  });

  it('reports a cycle in the thread list instead of looping', async () => {
    const out = await duster(['break counter_tick', 'continue', 'delete', 'set var thread_list->next->next = thread_list', 'info threads']);
    expect(out).toMatch(/thread list incomplete: thread list loops back to 0x[0-9a-f]+/);
  });
});
