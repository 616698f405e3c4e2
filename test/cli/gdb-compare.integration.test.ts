// Integration: duster and gdb on the same stop. duster breaks in a worker thread of the reference
// unikernel and writes a crash dump of that exact moment; gdb 13 opens the dump with the same ELF.
// Their backtraces, arguments, locals and printed expressions must agree (stepping: step-compare).
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

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
