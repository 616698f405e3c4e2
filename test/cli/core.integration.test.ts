// Integration: post-mortem. duster runs the crash app (2 vCPUs, 512 MiB, -O0 and -O2) to its panic;
// --dump-on-panic writes a QEMU dump and the `dump` command a second one of the same moment. Then
// `duster core` reads them back and gdb opens the same dump with the same ELF: the fault address
// and instruction, every vCPU's registers and backtrace, and each frame's arguments and locals
// must agree; anything that would change the guest is refused as read-only.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../..');
const elfOf = (build: string) => path.join(repo, 'fixtures/unikernel/build', build, 'kernel.elf');

async function duster(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run('node', [path.join(repo, 'bin/duster.js'), ...args], { timeout: 120_000, maxBuffer: 16 << 20 });
    return { code: 0, ...r };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

async function gdb(elf: string, dump: string, commands: string[]): Promise<string> {
  const { stdout } = await run(
    'gdb',
    ['-nx', '-batch', '-ex', 'set width 0', '-ex', 'set pagination off', ...commands.flatMap((c) => ['-ex', c]), elf, dump],
    { timeout: 60_000, maxBuffer: 16 << 20 },
  );
  return stdout;
}

/** gdb's `thread apply all bt`: thread id -> frame lines, blanks collapsed. */
async function gdbBacktraces(elf: string, dump: string): Promise<Map<number, string[]>> {
  return applyAllFrames(await gdb(elf, dump, ['thread apply all bt']));
}

/** `thread apply all bt` output: each thread's frames, in the order the threads came. */
function applyAllFrames(text: string): Map<number, string[]> {
  const out = new Map<number, string[]>();
  let current: number | undefined;
  for (const line of text.split('\n')) {
    const t = /^Thread (\d+) /.exec(line);
    if (t) out.set((current = Number(t[1])), []);
    else if (current !== undefined && line.startsWith('#')) out.get(current)!.push(line.replace(/\s+/g, ' '));
  }
  return out;
}

/** The output of each command, in order: gdb's after an echoed marker, duster's after its prompt. */
async function perCommand(elf: string, dump: string, thread: number, commands: string[]): Promise<{ duster: string[]; gdb: string[] }> {
  const d = await duster(['core', dump, '--symbols', elf, '--batch', '-ex', `thread ${thread}`, ...commands.flatMap((c) => ['-ex', c])]);
  expect(d.stderr).toBe('');
  const mine = d.stdout.split(/^\(duster\) .*\n/m).slice(2, 2 + commands.length);
  const theirs = (await gdb(elf, dump, [`thread ${thread}`, ...commands.flatMap((c) => ['echo @@@\\n', c])])).split('@@@\n').slice(1);
  return { duster: mine.map((t) => t.trim()), gdb: theirs.map((t) => t.trim()) };
}

describe.each(['gcc-O0', 'gcc-O2'])('duster core on a crash dump of the %s kernel, 2 vCPUs, 512 MiB (integration)', (build) => {
  const elf = elfOf(build);
  let dir: string;
  let live: string;
  let dump: string;
  let commanded: string;
  beforeAll(async () => {
    execFileSync('make', ['-s', '-C', path.join(repo, 'fixtures/unikernel')]);
    dir = mkdtempSync(path.join(os.tmpdir(), `duster-core-${build}-`));
    commanded = path.join(dir, 'commanded.core');
    const r = await duster([
      'run',
      elf,
      '--smp',
      '2',
      '--memory',
      '512M',
      '--append',
      'app=crash',
      '--dump-on-panic',
      dir,
      '--batch',
      '-ex',
      'continue',
      '-ex',
      `dump ${commanded}`,
    ]);
    live = r.stdout;
    dump = /wrote (\S+\.elf) \(duster core /.exec(live)?.[1] ?? '';
  }, 180_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the same whole dump on panic and on command, and prints its report', async () => {
    expect(live).toMatch(/Guest panicked \(pvpanic\)/);
    expect(dump).not.toBe('');
    // Both are of the same stopped moment: byte for byte the same file.
    await run('cmp', ['-s', dump, commanded]);
    expect(live).toMatch(/^Guest panicked on CPU \d: PANIC: Page Fault \(vector 14\)/m);
  });

  it('reports the fault at the address, function, line and instruction gdb shows', async () => {
    const r = await duster(['core', dump, '--symbols', elf, '--report', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as {
      panic: { cpu: number; pc: string; location: string; instruction: string };
      vcpus: Array<{ id: number; registers: Record<string, string> }>;
    };
    const printed = /PANIC: Page Fault \(vector 14\) at RIP=(0x[0-9a-f]+) CR2=(0x[0-9a-f]+) cpu=(\d+)/.exec(live)!;
    expect(report.panic.pc).toBe(printed[1]);
    expect(report.panic.cpu).toBe(Number(printed[3]));
    expect(report.vcpus.find((v) => v.id === report.panic.cpu + 1)!.registers.cr2).toBe(printed[2]);
    // gdb: the frame under `<signal handler called>` on the vCPU that faulted.
    const frames = (await gdbBacktraces(elf, dump)).get(report.panic.cpu + 1)!;
    const faulting = frames[frames.findIndex((l) => l.includes('<signal handler called>')) + 1]!;
    const [, pc, fn, where] = /^#(\d+) 0x0*([0-9a-f]+) in (\w+) \(.*\) at (\S+)$/.exec(faulting)!.slice(1);
    expect(report.panic.pc).toBe(`0x${pc}`);
    expect(report.panic.location).toBe(`${fn} at ${where}`);
    const insn = /^(?:=>)? +0x[0-9a-f]+ <[^>]+>:\s+(.*)$/m.exec(await gdb(elf, dump, [`x/i ${report.panic.pc}`]))![1]!;
    expect(report.panic.instruction).toBe(insn.trimEnd());
  });

  it('thread apply all bt as gdb: the vCPUs from the last down, the same frames, the selection kept', async () => {
    const r = await duster(['core', dump, '--symbols', elf, '--batch', '-ex', 'frame 1', '-ex', 'thread apply all bt', '-ex', 'frame']);
    const theirs = await gdbBacktraces(elf, dump);
    const mine = applyAllFrames(r.stdout.split(/^\(duster\) /m).find((part) => part.startsWith('thread apply all bt'))!);
    expect([...mine.keys()]).toEqual([...theirs.keys()]);
    expect(mine).toEqual(theirs);
    const frameAfter = r.stdout.split(/^\(duster\) /m).find((part) => part.startsWith('frame\n'))!;
    expect(frameAfter.split('\n')[1]).toMatch(/^#1 /);
  });

  it("shows every vCPU's registers and backtrace as gdb does, and the unikernel's threads", async () => {
    const r = await duster(['core', dump, '--symbols', elf, '--report', '--json']);
    const report = JSON.parse(r.stdout) as {
      vcpus: Array<{ id: number; registers: Record<string, string>; backtrace: string[] }>;
      threads: Array<{ name: string; state: string }>;
    };
    const theirs = await gdbBacktraces(elf, dump);
    expect(report.vcpus.map((v) => v.id).sort()).toEqual([...theirs.keys()].sort());
    for (const v of report.vcpus) {
      // Frames, addresses, functions, lines, arguments (entry values included) as gdb prints them.
      expect(v.backtrace.map((l) => l.replace(/\s+/g, ' '))).toEqual(theirs.get(v.id)!);
      const regs = await gdb(elf, dump, [
        `thread ${v.id}`,
        `info registers ${Object.keys(v.registers)
          .filter((n) => !n.startsWith('cr'))
          .join(' ')}`,
      ]);
      for (const [name, value] of Object.entries(v.registers)) {
        if (name.startsWith('cr')) continue; // gdb has no control registers from a QEMU core
        expect([v.id, name, new RegExp(`^${name}\\s+(0x[0-9a-f]+)`, 'm').exec(regs)?.[1]]).toEqual([v.id, name, value]);
      }
    }
    const started = [...live.matchAll(/thread \d+ (\S+) started on cpu/g)].map((m) => m[1]);
    expect(started.length).toBeGreaterThan(0);
    for (const name of started) expect(report.threads.map((t) => t.name)).toContain(name);
    expect(report.threads.some((t) => t.name === 'crasher' && t.state === 'THREAD_RUNNING')).toBe(true);
  });

  it("shows each frame's arguments and locals as gdb does", { timeout: 120_000 }, async () => {
    const theirs = await gdbBacktraces(elf, dump);
    for (const [thread, frames] of theirs) {
      const commands = frames.flatMap((_l, k) => [`frame ${k}`, 'info args', 'info locals']);
      const out = await perCommand(elf, dump, thread, commands);
      expect(out.duster).toHaveLength(commands.length);
      for (const [i, c] of commands.entries()) expect([thread, c, out.duster[i]]).toEqual([thread, c, out.gdb[i]]);
    }
  });

  it('serves read-only commands and refuses anything that would change the guest', async () => {
    const r = await duster([
      'core',
      dump,
      '--symbols',
      elf,
      '--batch',
      '-ex',
      'bt 3',
      '-ex',
      'info registers rip',
      '-ex',
      'p panic_frame',
      '-ex',
      'continue',
      '-ex',
      'set var panic_cpu = 3',
      '-ex',
      'break crash_main',
      '-ex',
      'stepi',
      '-ex',
      'x/2i $pc',
    ]);
    expect(r.code).toBe(1);
    // A vCPU the panic's NMI caught at its stub's first instruction is in a signal frame, as gdb shows it.
    expect(r.stdout).toMatch(/^#0 +((0x[0-9a-f]+ in )?\w+ \(.*\) at src\/\w+\.[cS]:\d+|<signal handler called>)$/m);
    expect(r.stdout).toMatch(/vector = 14, error_code = 2, rip = \d+/);
    expect(r.stdout).toMatch(/^=> 0x[0-9a-f]+ <\w+(\+\d+)?>:\t/m);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/read-only/),
      expect.stringMatching(/read-only/),
      expect.stringMatching(/read-only/),
      expect.stringMatching(/read-only/),
    ]);
  });
});

describe('duster core on what is not a dump (integration)', () => {
  it('says so in one line', async () => {
    const elf = elfOf('gcc-O0');
    execFileSync('make', ['-s', '-C', path.join(repo, 'fixtures/unikernel')]);
    const r = await duster(['core', elf, '--symbols', elf, '--report']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/not a core dump/)]);
  });
});
