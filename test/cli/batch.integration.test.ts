// Integration: the `duster` command in batch mode against QEMU, as a user runs it: bad input gets one
// clear line and the session goes on; the exit status says whether any command failed.
import { execFile, execFileSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../..');
const kernel = path.join(repo, 'fixtures/unikernel/build/gcc-O0/kernel.elf');

async function duster(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', [path.join(repo, 'bin/duster.js'), ...args], {
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

function nm(name: string): string {
  const line = execFileSync('nm', [kernel], { encoding: 'utf8' })
    .split('\n')
    .find((l) => l.endsWith(` ${name}`))!;
  return `0x${line.split(' ')[0]!.replace(/^0+/, '')}`;
}

describe('duster batch mode (integration)', () => {
  beforeAll(() => {
    execFileSync('make', ['-s', '-C', path.join(repo, 'fixtures/unikernel')]);
  });

  it('prints --help and a version', async () => {
    const help = await duster(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/duster run IMAGE/);
    expect((await duster(['--version'])).stdout).toMatch(/^duster \d+\.\d+\.\d+/);
  });

  it('runs commands in order, keeps going after errors, and exits 1 when one failed', async () => {
    const tick = nm('counter_tick');
    const r = await duster([
      'run',
      kernel,
      '--append',
      'app=demo',
      '--batch',
      '-ex',
      `break *${tick}`,
      '-ex',
      'frobnicate',
      '-ex',
      'continue',
      '-ex',
      'info registers rip',
      '-ex',
      'x/2xg $nosuch',
      '-ex',
      'delete 99',
      '-ex',
      'info breakpoints',
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`Breakpoint 1 at ${tick}: file src/\\w+\\.c, line \\d+\\.`));
    expect(r.stdout).toMatch(/Breakpoint 1, (0x[0-9a-f]+ in )?counter_tick \(\) at src\/\w+\.c:\d+/);
    expect(r.stdout).toMatch(new RegExp(`^rip\\s+${tick}\\s`, 'm'));
    expect(r.stdout).toMatch(/breakpoint already hit 1 time/);
    const errors = r.stderr.trim().split('\n');
    expect(errors).toEqual([
      "undefined command: 'frobnicate' (try 'help')",
      // $nosuch is an unset convenience variable (void), as in gdb.
      "Value can't be converted to integer.",
      'no breakpoint number 99',
    ]);
  });

  it('runs a command file with -x and shows guest serial output marked', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'duster-cli-'));
    const file = path.join(dir, 'cmds');
    writeFileSync(file, `break *${nm('worker_step')}\ncontinue\ninfo threads\n`);
    const r = await duster(['run', kernel, '--append', 'app=demo', '--batch', '-x', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/guest\| duster reference unikernel: app=demo cpus=2/);
    expect(r.stdout).toMatch(/^\* \d\s+Thread 1\.\d \(CPU \d/m);
  });

  it('emits one JSON object per command with --json', async () => {
    const r = await duster(['run', kernel, '--append', 'app=hello', '--batch', '--json', '-ex', 'info registers rip', '-ex', 'stepi']);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { command?: string; ok?: boolean; data?: unknown });
    const commands = lines.filter((l) => l.command);
    expect(commands.map((c) => [c.command, c.ok])).toEqual([
      ['info registers rip', true],
      ['stepi', true],
      ['quit', true],
    ]);
  });

  it('says clearly when the image is not an ELF or QEMU is missing', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'duster-cli-'));
    const notElf = path.join(dir, 'notes.txt');
    writeFileSync(notElf, 'hello');
    const a = await duster(['run', notElf, '--batch']);
    expect(a.code).not.toBe(0);
    expect(a.stderr.trim().split('\n')).toHaveLength(1);
    const b = await duster(['run', kernel, '--batch'], { DUSTER_QEMU: path.join(dir, 'no-qemu') });
    expect(b.code).not.toBe(0);
    expect(b.stderr.trim()).toMatch(/^duster run: QEMU binary .*no-qemu is not an executable file$/);
  });
});
