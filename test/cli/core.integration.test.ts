// Integration: post-mortem. duster runs the crash app to its panic and writes a QEMU dump; then
// `duster core` reads it back: the report names the fault the guest printed, every vCPU's
// backtrace equals gdb's `thread apply all bt` on the same dump, the guest's threads are those it
// started, and anything that would change the guest is refused as read-only.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../..');
const elf = path.join(repo, 'fixtures/unikernel/build/gcc-O0/kernel.elf');

async function duster(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run('node', [path.join(repo, 'bin/duster.js'), ...args], { timeout: 120_000, maxBuffer: 16 << 20 });
    return { code: 0, ...r };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('duster core on a crash dump (integration)', () => {
  let dir: string;
  let dump: string;
  let live: string;
  beforeAll(async () => {
    execFileSync('make', ['-s', '-C', path.join(repo, 'fixtures/unikernel')]);
    dir = mkdtempSync(path.join(os.tmpdir(), 'duster-core-'));
    dump = path.join(dir, 'crash.core');
    live = (await duster(['run', elf, '--append', 'app=crash', '--batch', '-ex', 'continue', '-ex', `dump ${dump}`])).stdout;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('stops the live session at the panic', () => {
    expect(live).toMatch(/Guest panicked \(pvpanic\)/);
  });

  it('reports the fault the guest printed, at the RIP addr2line puts in crash_write', async () => {
    const r = await duster(['core', dump, '--symbols', elf, '--report']);
    expect(r.code).toBe(0);
    const rip = /PANIC: Page Fault \(vector 14\) at RIP=(0x[0-9a-f]+)/.exec(live)![1]!;
    expect(r.stdout).toContain(`at ${rip} in crash_write at src/app_crash.c:`);
    const [fn] = execFileSync('addr2line', ['-f', '-e', elf, rip], { encoding: 'utf8' }).split('\n');
    expect(fn).toBe('crash_write');
    expect(r.stdout).toMatch(/faulting instruction: mov /);
    expect(r.stdout).toMatch(/Kernel log \(tail\):[\s\S]*PANIC: Page Fault/);
  });

  it('shows every vCPU backtrace exactly as gdb does on the same dump', async () => {
    const r = await duster(['core', dump, '--symbols', elf, '--report', '--json']);
    const report = JSON.parse(r.stdout) as { vcpus: Array<{ id: number; backtrace: string[] }>; threads: Array<{ name: string; state: string }> };
    const { stdout } = await run('gdb', ['-nx', '-batch', '-ex', 'set width 0', '-ex', 'thread apply all bt', elf, dump]);
    const gdbThreads = new Map<number, string[]>();
    let current: number | undefined;
    for (const line of stdout.split('\n')) {
      const t = /^Thread (\d+) /.exec(line);
      if (t) gdbThreads.set((current = Number(t[1])), []);
      else if (current !== undefined && line.startsWith('#')) gdbThreads.get(current)!.push(line.replace(/\s+/g, ' '));
    }
    expect(report.vcpus.map((v) => v.id).sort()).toEqual([...gdbThreads.keys()].sort());
    for (const v of report.vcpus) expect(v.backtrace.map((l) => l.replace(/\s+/g, ' '))).toEqual(gdbThreads.get(v.id));
    const started = [...live.matchAll(/thread \d+ (\S+) started on cpu/g)].map((m) => m[1]);
    for (const name of started) expect(report.threads.map((t) => t.name)).toContain(name);
    expect(report.threads.some((t) => t.name === 'crasher' && t.state === 'THREAD_RUNNING')).toBe(true);
  });

  it('serves read-only commands and refuses anything that would change the guest', async () => {
    const r = await duster(['core', dump, '--symbols', elf, '--batch', '-ex', 'bt 3', '-ex', 'info registers rip', '-ex', 'p panic_frame', '-ex', 'continue', '-ex', 'set var panic_cpu = 3', '-ex', 'break crash_main', '-ex', 'x/2i $pc']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^#0 +(0x[0-9a-f]+ in )?\w+ \(.*\) at src\/\w+\.[cS]:\d+$/m);
    expect(r.stdout).toMatch(/vector = 14, error_code = 2, rip = \d+/);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/read-only/),
      expect.stringMatching(/read-only/),
      expect.stringMatching(/read-only/),
    ]);
  });

  it('says clearly when the file is not a dump', async () => {
    const r = await duster(['core', elf, '--symbols', elf, '--report']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('duster core at -O2 (integration)', () => {
  it('writes a dump on panic, reports it, and its backtraces have gdb\'s frames, functions and lines', async () => {
    const o2 = path.join(repo, 'fixtures/unikernel/build/gcc-O2/kernel.elf');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'duster-core-o2-'));
    try {
      const live = await duster(['run', o2, '--append', 'app=crash', '--memory', '512M', '--dump-on-panic', dir, '--batch', '-ex', 'continue']);
      const dump = /wrote (\S+\.elf)/.exec(live.stdout)?.[1];
      expect(dump).toBeDefined();
      expect(live.stdout).toMatch(/Guest panicked on cpu \d: PANIC: Page Fault/);
      const r = await duster(['core', dump!, '--symbols', o2, '--report', '--json']);
      const report = JSON.parse(r.stdout) as { vcpus: Array<{ id: number; backtrace: string[] }> };
      const { stdout } = await run('gdb', ['-nx', '-batch', '-ex', 'set width 0', '-ex', 'thread apply all bt', o2, dump!]);
      // Arguments are left out: gdb resolves DW_OP_entry_value through call sites (`x=x@entry=1`); duster does not yet.
      const shape = (l: string) => l.replace(/\s+/g, ' ').replace(/ \(.*\) at /, ' () at ');
      const gdbThreads = new Map<number, string[]>();
      let current: number | undefined;
      for (const line of stdout.split('\n')) {
        const t = /^Thread (\d+) /.exec(line);
        if (t) gdbThreads.set((current = Number(t[1])), []);
        else if (current !== undefined && line.startsWith('#')) gdbThreads.get(current)!.push(shape(line));
      }
      for (const v of report.vcpus) expect(v.backtrace.map(shape)).toEqual(gdbThreads.get(v.id));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
