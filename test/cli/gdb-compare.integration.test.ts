// Integration: duster and gdb on the same stop. duster breaks in a worker thread of the reference
// unikernel and writes a crash dump of that exact moment; gdb 13 opens the dump with the same ELF.
// Their backtraces, arguments, locals and printed expressions must agree. Stepping is compared on
// two runs from the same breakpoint: the lines `next`, `step` and `finish` land on.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchQemu } from '../../src/qemu/index.js';
import { gdbBatch } from '../support/gdb.js';

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../..');
const elf = (build: string) => path.join(repo, 'fixtures/unikernel/build', build, 'kernel.elf');

/** Output of each command, keyed by the command, from duster's batch transcript. */
function splitDuster(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  let cmd: string | undefined;
  let buf: string[] = [];
  for (const line of stdout.split('\n')) {
    if (line.startsWith('guest| ')) continue;
    const m = /^\(duster\) (.*)$/.exec(line);
    if (m) {
      if (cmd !== undefined) out.set(cmd, buf.join('\n').trim());
      cmd = m[1]!;
      buf = [];
    } else buf.push(line);
  }
  if (cmd !== undefined) out.set(cmd, buf.join('\n').trim());
  return out;
}

/** gdb's output per command, separated by echoed markers. */
async function gdbOutputs(elfPath: string, core: string, thread: number, commands: string[]): Promise<Map<string, string>> {
  const args = ['-nx', '-batch', '-ex', 'set pagination off', '-ex', 'set width 0', '-ex', `thread ${thread}`];
  for (const c of commands) args.push('-ex', `echo @@@ ${c}\\n`, '-ex', c);
  args.push(elfPath, core);
  const { stdout } = await run('gdb', args, { timeout: 60_000, maxBuffer: 16 << 20 });
  const out = new Map<string, string>();
  for (const part of stdout.split('@@@ ').slice(1)) {
    const nl = part.indexOf('\n');
    out.set(part.slice(0, nl), part.slice(nl + 1).trim());
  }
  return out;
}

const dropHistory = (s: string) => s.replace(/^\$\d+ = /gm, '');

/** bt lines reduced to what both print the same way: function, file basename, line. */
function btShape(text: string): string[] {
  return text
    .split('\n')
    .map((l) => /^#\d+\s+(?:0x[0-9a-f]+ in )?(\S+) \(.*?\)(?: at (\S+):(\d+))?/.exec(l))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => `${m[1]} ${m[2] ? path.basename(m[2]) : ''}:${m[3] ?? ''}`);
}

async function duster(args: string[]): Promise<string> {
  const { stdout } = await run('node', [path.join(repo, 'bin/duster.js'), ...args], { timeout: 120_000, maxBuffer: 16 << 20 });
  return stdout;
}

beforeAll(() => {
  execFileSync('make', ['-s', '-C', path.join(repo, 'fixtures/unikernel')]);
});

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'duster-vs-gdb-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(['gcc-O0', 'gcc-O2'])('duster and gdb agree on one stop (%s)', (build) => {
  const full = build === 'gcc-O0';
  const prints = ['p demo_config', 'p matrix', 'p matrix[1][2] + 1', 'p/x demo_config.flags', 'p current_color', 'p sizeof(struct thread)', 'p *list_head', 'p list_head->next->value', 'p &matrix[2]', 'p demo_config.weights[3] * 2'];
  const frameCmds = full ? ['bt', 'info args', 'info locals', 'p *w', 'p w->grid[1]', 'p w->last', 'up', 'info locals'] : ['bt'];

  it('bt, args, locals and expressions', async () => {
    const core = path.join(dir, `${build}.core`);
    const commands = ['break worker_step', 'continue', ...frameCmds, 'frame 0', ...prints, `dump ${core}`];
    const out = await duster(['run', elf(build), '--append', 'app=demo', '--batch', ...commands.flatMap((c) => ['-ex', c])]);
    const d = splitDuster(out);
    const thread = Number(/Thread (\d+) hit Breakpoint 1/.exec(out)?.[1] ?? 1);
    const g = await gdbOutputs(elf(build), core, thread, [...frameCmds, 'frame 0', ...prints]);
    expect(btShape(d.get('bt')!)).toEqual(btShape(g.get('bt')!));
    expect(btShape(d.get('bt')!)[0]).toMatch(/^worker_step app_demo\.c:\d+$/);
    for (const c of prints) expect([c, dropHistory(d.get(c)!)]).toEqual([c, dropHistory(g.get(c)!)]);
    if (full) {
      for (const c of ['info args', 'p *w', 'p w->grid[1]', 'p w->last']) expect([c, dropHistory(d.get(c)!)]).toEqual([c, dropHistory(g.get(c)!)]);
      // gdb's `up` shows the caller frame; then its locals.
      expect(btShape(`#1  ${d.get('up')!.replace(/^#1\s+/, '')}`)).toEqual(btShape(`#1  ${g.get('up')!.split('\n')[0]!.replace(/^#1\s+/, '')}`));
    }
  });
});

describe('duster and gdb step to the same lines (gcc-O0)', () => {
  it('next, step and finish from worker_step', async () => {
    const steps = ['next', 'next', 'next', 'step', 'next', 'finish', 'next', 'next', 'next', 'next', 'next', 'next', 'next', 'next', 'next', 'next', 'next', 'step'];
    const lineOf = (text: string) => Number(/^(\d+)\t/m.exec(text)?.[1] ?? NaN);
    const funcOf = (text: string) => /(?:in )?(\w+) \(/.exec(text.split('\n').find((l) => / \(.*\) at /.test(l) && !l.startsWith('Run till exit')) ?? '')?.[1];
    const out = await duster(['run', elf('gcc-O0'), '--append', 'app=demo', '--batch', '-ex', 'break worker_step', '-ex', 'continue', '-ex', 'delete', ...steps.flatMap((s) => ['-ex', s])]);
    const transcript = out.split('\n(duster) ').slice(4).filter((t) => !t.startsWith('quit'));
    const dusterLines = transcript.map((t) => [funcOf(t), lineOf(t)]);
    const cut = dusterLines.findIndex(([, l]) => l === 181) + 1;

    const q = await launchQemu({ image: elf('gcc-O0'), smp: 2, append: 'app=demo', gdb: 'unix', paused: true });
    try {
      const g = await gdbBatch({ elf: elf('gcc-O0'), target: q.gdbAddress, commands: ['break worker_step', 'continue', 'delete', ...steps.slice(0, cut + 1).flatMap((s) => [`echo @@@\\n`, s])] });
      const gdbLines = g.split('@@@\n').slice(1).map((t) => [funcOf(t), lineOf(t)]);
      // Up to `next` over thread_sleep() both agree. There the guest thread sleeps and gdb, which
      // only knows vCPUs, follows the vCPU into whatever guest thread runs next (it lands in fib(),
      // the counter thread's code); duster stays with the guest thread, as a kernel developer means.
      expect(dusterLines.slice(0, cut)).toEqual(gdbLines.slice(0, cut));
      const rest = dusterLines.slice(cut);
      expect(rest.slice(0, -1).every(([f, l]) => f === undefined && [177, 178, 181].includes(l as number))).toBe(true);
      expect(rest.at(-1)).toEqual(['worker_step', 158]);
    } finally {
      await q.kill();
    }
  });
});
