// Integration: the reference unikernel boots under QEMU (TCG) at -O0 and -O2, brings up its vCPUs,
// runs threads, reports the crash app's fault at the right RIP, and is debuggable by real gdb.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type QemuInstance } from '../../src/qemu/index.js';
import { bootGuest } from '../support/guest.js';
import { gdbBatch, parseGdbBacktrace } from '../support/gdb.js';

const root = path.resolve(import.meta.dirname, '../../fixtures/unikernel');
const elf = (build: string) => path.join(root, 'build', build, 'kernel.elf');

beforeAll(() => {
  execFileSync('make', ['-s', '-C', root]);
});

let running: QemuInstance[] = [];
afterEach(async () => {
  await Promise.all(running.map((q) => q.kill()));
  running = [];
});

async function boot(build: string, append: string, smp = 2): Promise<QemuInstance> {
  const q = await bootGuest({ image: elf(build), smp, append, gdb: 'unix' });
  running.push(q);
  return q;
}

describe.each(['gcc-O0', 'gcc-O2'])('reference unikernel %s', (build) => {
  it('brings up both vCPUs and runs threads on each', { timeout: 150_000 }, async () => {
    const q = await boot(build, 'app=demo');
    // Threads migrate between vCPUs; wait until each vCPU has been seen running thread code (a
    // thread's first words, or its progress). cpu 0 does the wakeups and prints about twice as
    // often; on a loaded host a minute can pass between two lines from cpu 1.
    await q.waitForSerial(/(started|step \d+|list_sum=\d+) on cpu 0/, 60_000);
    await q.waitForSerial(/(started|step \d+|list_sum=\d+) on cpu 1/, 60_000);
    await q.waitForSerial(/counter: demo_counter=\d+/, 60_000);
    const text = q.serialText;
    expect(text).toMatch(/app=demo cpus=2/);
    expect(text).toMatch(/cpu 0 online/);
    expect(text).toMatch(/cpu 1 online/);
    const started = [...text.matchAll(/thread (\d+) (\S+) started on cpu (\d+)/g)];
    expect(new Set(started.map((m) => m[2])).size).toBeGreaterThanOrEqual(3);
  });

  it('reports the crash app fault at the RIP addr2line puts in crash_write', async () => {
    const q = await boot(build, 'app=crash');
    const m = (await q.waitForSerial(/PANIC: Page Fault \(vector 14\) at RIP=(0x[0-9a-f]+) CR2=(0x[0-9a-f]+)/, 20_000))!;
    expect(BigInt(m[2]!)).toBe(0n);
    const [func, where] = execFileSync('addr2line', ['-f', '-e', elf(build), m[1]!], { encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(func).toBe('crash_write');
    expect(where).toMatch(/app_crash\.c:\d+$/);
    // The faulting instruction is the store through NULL on the line that writes it.
    const line = Number(where!.split(':').pop());
    const source = execFileSync('sed', ['-n', `${line}p`, path.join(root, 'src/app_crash.c')], { encoding: 'utf8' });
    expect(source).toMatch(/\*\w+\s*=/);
  });
});

describe('reference unikernel with 4 vCPUs', () => {
  it('brings all four online', async () => {
    const q = await boot('gcc-O2', 'app=demo', 4);
    await q.waitForSerial(/cpu 3 online/, 20_000);
    expect(q.serialText).toMatch(/app=demo cpus=4/);
  });
});

describe('gdb 13 debugs the image through the harness gdbstub', () => {
  it('breaks in a worker thread function, continues and prints a backtrace', async () => {
    const q = await boot('gcc-O0', 'app=demo');
    await q.waitForSerial(/worker-\d step/, 20_000);
    const out = await gdbBatch({
      elf: elf('gcc-O0'),
      target: q.gdbAddress,
      commands: ['hbreak worker_step', 'continue', 'bt', 'delete', 'detach'],
    });
    expect(out).toMatch(/Breakpoint 1, worker_step/);
    const frames = parseGdbBacktrace(out);
    expect(frames[0]).toMatchObject({ func: 'worker_step', file: expect.stringMatching(/app_demo\.c$/) });
    expect(frames.map((f) => f.func)).toContain('worker_thread');
    // Detached, not killed: the guest keeps printing.
    const before = q.serialText.length;
    await q.waitForSerial(/counter: demo_counter=\d+/, 5_000, before);
  });
});
