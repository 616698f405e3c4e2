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

/** [command, output] in order, from duster's batch transcript. */
function splitDuster(stdout: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const part of stdout
    .split('\n')
    .filter((l) => !l.startsWith('guest| '))
    .join('\n')
    .split(/^\(duster\) /m)
    .slice(1)) {
    const nl = part.indexOf('\n');
    out.push([part.slice(0, nl), part.slice(nl + 1).trim()]);
  }
  return out;
}

/** gdb's output per command on a dump, in order, separated by echoed markers. */
async function gdbOutputs(elfPath: string, core: string, thread: number, commands: string[]): Promise<string[]> {
  const args = ['-nx', '-batch', '-ex', 'set pagination off', '-ex', 'set width 0', '-ex', `thread ${thread}`];
  for (const c of commands) args.push('-ex', 'echo @@@\\n', '-ex', c);
  args.push(elfPath, core);
  const { stdout } = await run('gdb', args, { timeout: 60_000, maxBuffer: 16 << 20 });
  return stdout
    .split('@@@\n')
    .slice(1)
    .map((t) => t.trim());
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

/** duster's stdout; a command that failed (as gdb -batch, the exit status is then 1) wrote its error to stderr, as gdb's do. */
async function duster(args: string[]): Promise<string> {
  const { stdout } = await run('node', [path.join(repo, 'bin/duster.js'), ...args], { timeout: 120_000, maxBuffer: 16 << 20 }).catch(
    (e: { stdout?: string; stderr?: string }) => {
      if (e.stdout === undefined || !/Cannot access memory at address 0x7f0000000000\n/.test(e.stderr ?? '')) throw e;
      return { stdout: e.stdout };
    },
  );
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

/**
 * Stops (none at an inlined call's first instruction: gdb shows a dump's frames unhidden) and what
 * is asked there. `go` reaches the stop (a breakpoint at `at` by default); `thread` then names it.
 */
const STOPS: Array<{ at: string; fn?: string; go?: string[]; commands: string[] }> = [
  // thread_announce() tail-calls kprintf(): the backtrace shows it from the call sites' DWARF.
  {
    at: 'kprintf',
    go: ['break thread_announce', 'continue', 'delete', 'advance kprintf'],
    commands: ['bt', 'info frame', 'info args', 'up', 'info frame', 'info locals', 'up', 'info frame', 'info args'],
  },
  {
    at: 'worker_step',
    commands: [
      'bt',
      'info frame',
      'info args',
      'info locals',
      'p *w',
      'p w->grid[1]',
      'p w->last',
      'up',
      'info frame',
      'info locals',
      'info args',
    ],
  },
  {
    at: 'app_demo.c:163',
    fn: 'worker_step',
    commands: [
      'bt',
      'info frame',
      'info args',
      'info locals',
      'info line *$pc',
      'info line *0x1005b6',
      'up',
      'info frame',
      'info locals',
      'info line *$pc',
    ],
  },
  {
    at: 'compute_checksum',
    commands: ['bt', 'info frame', 'info args', 'info locals', 'p grid[1]', 'p *grid@2', 'up', 'info frame', 'info locals'],
  },
  // A worker's call (the counter thread's fib(15) has no `w` up the stack).
  { at: 'fib if n >= 18', commands: ['bt', 'info frame', 'info args', 'up', 'info frame', 'info locals', 'p w->grid'] },
  { at: 'tree_sum', commands: ['bt', 'info frame', 'info args', 'p *t', 'p t->left->right->key'] },
  { at: 'list_sum', commands: ['bt', 'info frame', 'info args', 'info locals', 'p *head->next'] },
  // At -O2 kvsnprintf's buf is DW_OP_entry_value(rdi) here, and kprintf's call site gives rdi as
  // DW_OP_fbreg and rdx as kprintf's own entry value: both need the caller's frame, then its caller's.
  // At -O2 the call site gives r as the caller's rdi, which the unwinder cannot recover; ring_put
  // never writes rdi, so its own rdi is the caller's (gdb assumes that of every register).
  { at: 'app_demo.c:192', fn: 'ring_put', commands: ['bt', 'info frame', 'info args', 'up', 'info frame', 'info locals'] },
  // At -O2 point_area is inlined into worker_step: info frame of an inlined frame and of its caller.
  { at: 'point_area', commands: ['bt', 'info frame', 'info args', 'up', 'info frame'] },
  {
    at: 'console.c:119',
    fn: 'kvsnprintf',
    commands: ['bt', 'info frame', 'info args', 'p buf', 'p size', 'up', 'info frame', 'info args'],
  },
];
const PRINTS = [
  'p demo_config',
  'p matrix',
  'p matrix[1][2] + 1',
  'p/x demo_config.flags',
  'p current_color',
  // Enumerators of a file-scope enum, and of one from a header (every unit's top level).
  'p COLOR_GREEN',
  'p/d COLOR_BLUE',
  'whatis COLOR_RED',
  'p current_color == COLOR_BLUE',
  'p THREAD_SLEEPING',
  'p sizeof(struct thread)',
  'p *list_head',
  'p list_head->next->value',
  'p &matrix[2]',
  'p demo_config.weights[3] * 2',
  // Functions as values, and code as gdb disassembles it.
  'p worker_step',
  'p &worker_step',
  'p *ops[1]',
  'p ops[0] == op_add',
  'p ops',
  'p sizeof(worker_step)',
  'x/3i $pc',
  'disassemble fib',
  // print/x as gdb: numbers only, a function's first code byte; and the script-writing commands.
  // gdb drops the `(type)` only before a plain char pointer, however qualified.
  'p demo_config.name',
  'p (unsigned char *)demo_config.name',
  'p (signed char *)demo_config.name',
  'p (volatile char *)demo_config.name',
  'p (char * const)demo_config.name',
  'p &demo_config.name',
  // Convenience variables and the value history: copies that live in the debugger.
  'set $x = 5',
  'p $x',
  'set $x += 2',
  'p $x++',
  'p $x',
  'whatis $x',
  'p --$x * 2',
  'p $y = demo_config',
  'p $y.max_items = 3',
  'p $y',
  'p demo_config.max_items',
  'p $',
  'p $$2',
  'whatis $$3',
  'p $foo',
  'p $p = &demo_config',
  'p $p->name',
  'p *$p',
  'x/2xw &demo_config',
  'p $_',
  'p $__',
  'whatis $_',
  'x/3c demo_config.name',
  'p $_ + 1',
  'p $__',
  'output $x',
  'set $x = 1.5',
  'p -$x',
  'whatis $x',
  'set $s = "abc"',
  'p $s',
  'p sizeof($s)',
  // gdb's print settings, and its repeats rule (more than the threshold), also in a limited array.
  'p {int[10]}&thread_stacks[23]',
  'p {int[11]}&thread_stacks[23]',
  'p {int[1000]}&thread_stacks[23]',
  'p {char[10]}&thread_stacks[23]',
  'p {char[11]}&thread_stacks[23]',
  'set print pretty on',
  'show print pretty',
  'p demo_config',
  'p list_nodes',
  'p workers[0]',
  'p/x demo_config.bounds',
  'output demo_config.bounds',
  'p $y',
  'set print pretty off',
  'set print elements 3',
  'show print elements',
  'p demo_config',
  'p matrix',
  'p demo_config.name',
  'p tree_nodes',
  'set print repeats 2',
  'show print repeats',
  'p workers[0].grid',
  'p {int[30]}&thread_stacks[23]',
  'set print elements unlimited',
  'set print repeats 0',
  'show print elements',
  'show print repeats',
  'p workers[0].grid',
  'p {int[12]}&thread_stacks[23]',
  'set print elements 200',
  'set print repeats 10',
  // x in every format and size, and a bare x going on where the last one stopped; list likewise.
  'x/16xb &matrix',
  'x',
  'x/10dh &matrix',
  'x/6dw &matrix',
  'x/3xg &matrix',
  'x',
  'x/10c demo_config.name',
  'x/5ub &matrix',
  'x/3a &demo_config',
  'x/3ow &matrix',
  'x/3tb &matrix',
  'x/2s demo_config.name',
  'x',
  'x/2i $pc',
  'x',
  'x/4dw &matrix',
  'x/2',
  'list worker_step',
  'list',
  'list -',
  // The symbol listings, with their non-debugging symbols (boot.S labels, linker symbols).
  'info functions',
  'info variables',
  'info functions ^spin',
  'info variables gdt',
  'info functions stub_1',
  'info f',
  // print/FMT in every letter, on integers, floats (bits for x z o t d u), pointers, enums, functions and aggregates.
  'p/x 1.5',
  'p/o 8',
  'p/o 0',
  'p/t 10',
  'p/t 0',
  'p/c 65',
  'p/c 300',
  'p/d -1',
  'p/u -1',
  'p/u (char)-1',
  'p/a &worker_step',
  'p/a 0',
  'p/z 5',
  'p/z (short)5',
  'p/f 1',
  'p/f 1.5',
  'p/x demo_config.bounds',
  'p/t demo_config.flags',
  'p/c demo_config.weights',
  'p/d demo_config.name',
  'p/x -1',
  'p/o -1',
  'p/x (char)-1',
  'p/d (unsigned char)200',
  'p/c matrix',
  'p/s demo_config.name',
  'p/u demo_config',
  'p/a demo_config',
  'output/t 5',
  'p/x current_color',
  'p/d current_color',
  'p/f demo_config.max_items',
  'p/d 1.5',
  'p/o 1.5',
  'p/t 1.5',
  'p/c 65.0',
  'p/u -1.5',
  'p/z 1.5',
  'p/a 1.5',
  'p/x (float)1.5',
  'p/f (char)65',
  'p/f (short)1',
  'p/f (long)1',
  'p/c (char)200',
  'p/x ops',
  'p/d ops',
  'p/a ops',
  'p/a &demo_config',
  'p/s 5',
  'p/d worker_step',
  'p/x demo_config.name',
  'p/c demo_config.name',
  'p/u list_head',
  'p/t -1',
  'p/z demo_config.bounds',
  // Integer constants typed by C's rules (a hex constant too big for long is unsigned long).
  'p 0xffffffff81002470',
  'whatis 0xffffffff81002470',
  'whatis 0x80000000',
  'whatis 2147483648',
  'p 9223372036854775808',
  'whatis 1ll + 1',
  'p/x 0xffffffff81002470 + 1',
  'p -0x80000000',
  'p 0xffffffff81002470 > 0',
  'info symbol 0xffffffff80001000',
  // extern declarations of what assembly defines: at the ELF symbol, typed by the declaration.
  // A value is read whole before it prints: unmapped memory is one error, not one per member.
  'p *(struct thread *)0x7f0000000000',
  'p *(int *)0x7f0000000000',
  'p ((struct thread *)0x7f0000000000)->name',
  'p &boot_stacks',
  'whatis boot_stacks',
  'info symbol &boot_stacks',
  'p &trap_stub_table',
  'p trap_stub_table[1] == trap_stub_table[0] + 16',
  'p sizeof(trap_stub_table)',
  'p/x worker_step',
  'p/x ops[0]',
  'p/x list_head',
  'p/x &matrix',
  'p/x demo_config',
  'output demo_config.flags',
  'output/x 255',
  'echo a\\tb\\n',
  'printf "%d %5s|%-4x|%#o %c %lu %p %p\\n", matrix[1][2], demo_config.name, 255, 8, 65, sizeof(struct thread), list_head, 0',
  'printf "%5.2f %g %e %08.3f|%+d|% d|%X|%.3d\\n", 3.14159, 0.0001, 12345.678, 2.5, 5, 7, 0xabc, 7',
  'printf "%ld %lx %u %d %s|%.2s\\n", -1, -1, -1, 0x100000001, demo_config.name, demo_config.name',
];

describe.each(['gcc-O0', 'gcc-O2'])('duster and gdb agree at stops (%s)', (build) => {
  it('bt, args, locals and expressions at ten stops, each written as a dump for gdb', { timeout: 120_000 }, async () => {
    const cores = STOPS.map((_s, i) => path.join(dir, `${build}-${i}.core`));
    const asked = STOPS.map((s, i) => [...s.commands, 'frame 0', ...(i === 1 ? PRINTS : [])]);
    const commands = STOPS.flatMap((s, i) => [
      ...(s.go ?? [`break ${s.at}`, 'continue', 'delete']),
      'thread',
      ...asked[i]!,
      `dump ${cores[i]}`,
    ]);
    const transcript = splitDuster(
      await duster(['run', elf(build), '--append', 'app=demo', '--batch', ...commands.flatMap((c) => ['-ex', c])]),
    );
    let at = -1;
    for (const [i, stop] of STOPS.entries()) {
      at = transcript.findIndex(([c], k) => k > at && c === 'thread');
      const thread = Number(/^\[Current thread is thread (\d+) /.exec(transcript[at]![1])?.[1]);
      const mine = transcript.slice(at + 1, at + 1 + asked[i]!.length);
      const gdb = await gdbOutputs(elf(build), cores[i]!, thread, asked[i]!);
      expect(btShape(mine[0]![1])[0]).toMatch(new RegExp(`^${stop.fn ?? stop.at.split(' ')[0]!} `));
      for (const [k, [c, text]] of mine.entries()) expect([stop.at, c, dropHistory(text)]).toEqual([stop.at, c, dropHistory(gdb[k]!)]);
    }
    // The tail-call frame is there (gdb shows it too: the comparison above is of the same frames).
    expect(transcript.find(([c]) => c === 'bt')![1]).toMatch(/^#1 {2}0x[0-9a-f]+ in thread_announce \(\) at src\/sched\.c:\d+$/m);
  });
});
