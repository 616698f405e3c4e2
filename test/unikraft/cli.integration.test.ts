// Integration: real Unikraft 0.17 images (the fixtures' README) debugged out of the box with
// `duster run IMAGE` and nothing else: the symbols come from IMAGE.dbg beside the multiboot image,
// the thread list is Unikraft's (idle, init, worker-1, worker-2, by address as the guest's own
// uk_sched_dumpk_threads prints them), switched-out threads unwind from ukarch_ctx_switch's saved
// context exactly as gdb does once given those registers by hand, and the crash app stops at its
// fault instead of letting Unikraft power QEMU off. gdb 13 on the same images is the oracle; where
// it differs (it sees only vCPUs, and ends every thread with a `0x0 in ?? ()` frame for the zero
// return address the thread start pushes) the test says so.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchQemu } from '../../src/qemu/index.js';
import { gdbBatch, parseGdbBacktrace } from '../support/gdb.js';
import { unikraftApps, unikraftImage } from '../support/unikraft.js';

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../..');

interface JsonLine {
  command?: string;
  ok?: boolean;
  data?: unknown;
  text?: string;
  event?: string;
  error?: string;
}
interface ThreadRow {
  id: string;
  name: string;
  state: string;
  address: string;
  vcpu?: number;
  frame?: { function?: string; pc: string; line?: number };
}

async function duster(args: string[], commands: string[]): Promise<{ lines: JsonLine[]; stderr: string }> {
  const all = [path.join(repo, 'bin/duster.js'), ...args, '--batch', '--json', ...commands.flatMap((c) => ['-ex', c])];
  const { stdout, stderr } = await run('node', all, { timeout: 180_000, maxBuffer: 16 << 20 }).catch(
    (e: { stdout: string; stderr: string }) => e,
  );
  return {
    lines: stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as JsonLine),
    stderr,
  };
}

function result(lines: JsonLine[], command: string, nth = -1): JsonLine {
  const r = lines.filter((l) => l.command === command).at(nth);
  if (!r) throw new Error(`no result for '${command}' in ${JSON.stringify(lines.filter((l) => !l.event)).slice(0, 2000)}`);
  return r;
}

const serial = (lines: JsonLine[]) => lines.filter((l) => l.event === 'serial').map((l) => l.text!);
const threadRows = (lines: JsonLine[], nth = -1) => (result(lines, 'info threads', nth).data as { threads: ThreadRow[] }).threads;
/** Function names of the last `bt` in a --json run's text. */
const btFunctions = (lines: JsonLine[], nth = -1) => parseGdbBacktrace(result(lines, 'bt', nth).text!).map((f) => f.func);

/** gdb against a fresh QEMU of the same image (-smp 1, as Unikraft 0.17 runs one CPU), stopped paused. */
async function gdbOn(variant: string, commands: string[]): Promise<string> {
  const q = await launchQemu({ image: unikraftImage(variant), smp: 1, gdb: 'tcp', paused: true });
  try {
    return await gdbBatch({ elf: `${unikraftImage(variant)}.dbg`, target: q.gdbAddress!, commands, timeoutMs: 120_000 });
  } finally {
    await q.kill();
  }
}

/** gdb's registers for a switched-out thread, from ukarch_ctx_switch's frame as the README lays it out. */
const gdbSavedContext = (address: string) => [
  `set $t = (struct uk_thread *)${address}`,
  'set $s = (unsigned long *)$t->ctx.sp',
  'set $r15 = $s[0]',
  'set $r14 = $s[1]',
  'set $r13 = $s[2]',
  'set $r12 = $s[3]',
  'set $rbx = $s[4]',
  'set $rbp = $s[5]',
  'set $pc = $s[6]',
  'set $sp = (unsigned long)($s + 7)',
];

/** Enumerators of an enum declared at a header's file scope (`enum ukplat_gstate`), as expressions. */
const ENUM_PRINTS = ['p UKPLAT_CRASH', 'p/d UKPLAT_CRASH', 'whatis UKPLAT_CRASH', 'p (enum ukplat_gstate)(UKPLAT_CRASH - 2)'];

describe('Unikraft threads-O0 from `duster run IMAGE` alone (integration)', () => {
  let lines: JsonLine[];
  let stderr: string;
  beforeAll(async () => {
    // Stop 1: in init as it asks the guest to print its own thread list; stop 2: worker_step's
    // third hit, when every thread has run and been switched out at least once.
    ({ lines, stderr } = await duster(
      ['run', unikraftImage('threads-O0')],
      [
        'break uk_sched_dumpk_threads',
        'continue',
        'info threads',
        'thread 2.4',
        'bt',
        'delete',
        'break worker_step',
        'continue',
        'continue',
        'continue',
        'info threads',
        'thread 2.2',
        'bt',
        'thread 2.4',
        'bt',
        'info locals',
        'up',
        'info locals',
        ...ENUM_PRINTS,
      ],
    ));
  }, 240_000);

  it('loads IMAGE.dbg beside the multiboot image without being told', () => {
    expect(stderr).not.toMatch(/warning/);
    expect(lines.filter((l) => l.event === 'warning')).toEqual([]);
    expect(result(lines, 'break uk_sched_dumpk_threads').ok).toBe(true);
  });

  it('lists idle, init, worker-1 and worker-2 with the addresses the guest prints for them', () => {
    const rows = threadRows(lines, 0);
    expect(rows.map((t) => [t.id, t.name])).toEqual([
      ['2.1', 'idle'],
      ['2.2', 'init'],
      ['2.3', 'worker-1'],
      ['2.4', 'worker-2'],
    ]);
    // The guest's own dump, printed right after this stop: `+ thread 0x140d0 (idle), ctx: ...`.
    const own = serial(lines).flatMap((l) => [...l.matchAll(/\+ thread (0x[0-9a-f]+) \(([^)]+)\)/g)].map((m) => [m[1], m[2]]));
    expect(rows.map((t) => [t.address, t.name])).toEqual(own);
    // init runs on the one vCPU; the others never ran yet (worker-2 has not been scheduled).
    expect(rows.find((t) => t.name === 'init')).toMatchObject({ vcpu: 1, frame: { function: 'uk_sched_dumpk_threads' } });
    // A thread that never ran is shown at its entry function about to run (its initial stack holds
    // [_ctx_x86_call1, arg, entry, 0]), with nothing under it, and says it has not started.
    expect(rows.find((t) => t.name === 'worker-2')).toMatchObject({ state: 'runnable, not started', frame: { function: 'worker_fn' } });
    expect(btFunctions(lines, 0)).toEqual(['worker_fn']);
    expect(result(lines, 'thread 2.4', 0).text).toMatch(/\(runnable, not started, saved context\)/);
  });

  it('prints enumerators of file-scope enums as gdb does', async () => {
    const ours = ENUM_PRINTS.map((c) =>
      result(lines, c)
        .text!.trim()
        .replace(/^\$\d+ = /, ''),
    );
    // gdb on the symbol file alone: enumerators are constants, no target needed.
    const gdb = await gdbBatch({ elf: `${unikraftImage('threads-O0')}.dbg`, commands: ENUM_PRINTS });
    const theirs = gdb
      .trim()
      .split('\n')
      .map((l) => l.replace(/^\$\d+ = /, ''));
    expect(ours).toEqual(theirs);
    expect(ours).toEqual(['UKPLAT_CRASH', '3', 'type = enum ukplat_gstate', 'UKPLAT_RESTART']);
  }, 60_000);

  it('numbers threads once for the session: 2.N names the same thread at every stop', () => {
    expect(threadRows(lines, 1).map((t) => [t.id, t.address])).toEqual(threadRows(lines, 0).map((t) => [t.id, t.address]));
  });

  it('shows the running worker on its vCPU and the switched-out ones where they wait', () => {
    const rows = threadRows(lines, 1);
    const running = rows.filter((t) => t.vcpu !== undefined);
    expect(running).toHaveLength(1);
    expect(running[0]!.frame?.function).toBe('worker_step');
    expect(rows.find((t) => t.name === 'init')!.frame?.function).toBe('main');
    // idle runs only when every other thread sleeps: under TCG's timing it may not have run yet, and is then shown at its entry.
    expect(rows.find((t) => t.name === 'idle')!.frame?.function).toBe('idle_thread_fn');
    const other = rows.find((t) => t.name.startsWith('worker') && t.vcpu === undefined)!;
    expect(other.frame?.function).toBe('worker_fn');
  });

  it('unwinds init from its saved context as gdb does with those registers', async () => {
    const ours = btFunctions(lines, 1);
    expect(ours.slice(0, 5)).toEqual(['uk_sched_thread_switch', 'schedcoop_schedule', 'uk_sched_yield', 'uk_sched_thread_sleep', 'main']);
    const gdb = await gdbOn('threads-O0', [
      'break worker_step',
      'continue',
      'continue',
      'continue',
      'set backtrace past-main on',
      ...gdbSavedContext('0x16020'),
      'bt',
    ]);
    // gdb's frame #0 is at the saved pc itself (.Lresume inside ukarch_ctx_switch, which has no
    // CFI, so gdb unwinds it by its prologue analysis); duster starts at the return address in
    // uk_sched_thread_switch, the frame that called it. The rest must agree.
    const theirs = parseGdbBacktrace(gdb.slice(gdb.indexOf('#0'))).map((f) => f.func);
    expect(theirs.slice(theirs.indexOf('uk_sched_thread_switch'))).toEqual(ours);
  }, 180_000);

  it('shows a switched-out worker and its locals', () => {
    expect(btFunctions(lines, 2)).toEqual([
      'uk_sched_thread_switch',
      'schedcoop_schedule',
      'uk_sched_yield',
      'uk_sched_thread_sleep',
      'worker_fn',
    ]);
    expect(result(lines, 'up').ok).toBe(true);
    // uk_sched_thread_switch switched away from worker-2; schedcoop_schedule's scheduler is the
    // one the guest prints as `sched 0x14020`.
    expect(result(lines, 'info locals', 0).text).toMatch(/^prev = 0x19020$/m);
    expect(result(lines, 'info locals', 1).text).toMatch(/^c = 0x14020$/m);
  });
});

describe('Unikraft thread breakpoints and steps (integration)', () => {
  it('stops worker_step only in worker-2 and steps over its sleep staying with it', async () => {
    const nexts = Array.from({ length: 8 }, () => 'next');
    const { lines } = await duster(
      ['run', unikraftImage('threads-O0')],
      ['break uk_sched_dumpk_threads', 'continue', 'break worker_step thread 2.4', 'continue', ...nexts, 'thread'],
    );
    // worker-1 reaches worker_step first (the guest prints its step 0 first); the stop is worker-2's.
    expect(result(lines, 'continue', 1).data).toMatchObject({ reason: 'breakpoint', frame: { function: 'worker_step' } });
    expect(result(lines, 'continue', 1).text).toContain('worker_step (w=0x13f010 <workers+16>, i=0)');
    const lineNumbers = lines.filter((l) => l.command === 'next').map((l) => (l.data as { frame: { line: number } }).frame.line);
    // 24..28 in worker_step, then worker_fn 39 (printf), 40 (the sleep: other threads run), 35/36 again.
    expect(lineNumbers).toContain(40);
    expect(lineNumbers.at(-1)).toBeLessThan(40);
    expect(result(lines, 'thread').data).toMatchObject({ guestThread: '2.4', name: 'worker-2' });
    expect(serial(lines).join('\n')).toMatch(/worker 2 step 0 value 200[\s\S]*worker 1 step 1/);
  }, 240_000);
});

describe('A corrupted Unikraft thread list (integration)', () => {
  it('ends the walk at a cycle and at a wild pointer with a note, keeping the threads read before', async () => {
    const next = (to: string) => `set var ((struct uk_thread *)0x17020)->thread_list.tqe_next = (struct uk_thread *)${to}`;
    const { lines } = await duster(
      ['run', unikraftImage('threads-O0')],
      ['break worker_step', 'continue', next('0x16020'), 'info threads', next('0xdead0000'), 'info threads', 'thread 2.4', 'bt 1'],
    );
    const cycle = result(lines, 'info threads', 0).data as { threads: ThreadRow[]; error: string };
    expect(cycle.threads.map((t) => t.name)).toEqual(['idle', 'init', 'worker-1']);
    expect(cycle.error).toBe('thread list loops back to 0x16020');
    const wild = result(lines, 'info threads', 1).data as { threads: ThreadRow[]; error: string };
    expect(wild.threads.map((t) => t.name)).toEqual(['idle', 'init', 'worker-1']);
    expect(wild.error).toMatch(/^thread at 0xdead0000 \(struct uk_thread \*\) is unreadable: /);
    expect(result(lines, 'thread 2.4')).toMatchObject({ ok: false });
    // The session goes on.
    expect(result(lines, 'bt 1').text).toContain('worker_step');
  }, 240_000);
});

describe('Unikraft threads-O2 (integration)', () => {
  it('lists the threads and unwinds a switched-out worker whose switch path is inlined', async () => {
    const { lines } = await duster(
      ['run', unikraftImage('threads-O2')],
      ['break worker_step', 'continue', 'continue', 'continue', 'info threads', 'thread 2.2', 'bt'],
    );
    const rows = threadRows(lines);
    expect(rows.map((t) => [t.name, t.address])).toEqual([
      ['idle', '0x1770d0'],
      ['init', '0x15020'],
      ['worker-1', '0x16020'],
      ['worker-2', '0x178020'],
    ]);
    for (const t of rows.filter((x) => x.vcpu === undefined && x.frame))
      expect(['worker_fn', 'main', 'idle_thread_fn']).toContain(t.frame!.function);
    // init at -O2: the switch path is inlined into main, so its saved rip is in main itself.
    const ours = btFunctions(lines);
    expect(ours).toContain('main');
    const gdb = await gdbOn('threads-O2', [
      'break worker_step',
      'continue',
      'continue',
      'continue',
      'set backtrace past-main on',
      ...gdbSavedContext('0x15020'),
      'bt',
    ]);
    const theirs = parseGdbBacktrace(gdb.slice(gdb.indexOf('#0'))).map((f) => f.func);
    expect(theirs.slice(theirs.indexOf(ours[0]!))).toEqual(ours);
  }, 240_000);
});

describe('Unikraft crash-O0 (integration)', () => {
  it('stops at the NULL write in crash_inner, on every run, with the frames gdb shows', async () => {
    for (let i = 0; i < 3; i++) {
      const { lines } = await duster(['run', unikraftImage('crash-O0')], ['continue', 'bt', 'info locals', 'info threads']);
      const stop = result(lines, 'continue').data as {
        reason: string;
        panic: { message: string; pc: string; caughtAt: string; frame: number };
        frame: { function: string; line: number };
      };
      expect(stop.reason).toBe('panic');
      expect(stop.panic).toMatchObject({
        message: 'Unikraft crashed: do_page_fault called ukplat_terminate(UKPLAT_CRASH)',
        pc: '0x115575',
        caughtAt: 'ukplat_terminate',
        frame: 3,
      });
      // The faulting frame is the one selected and shown, at crash.c:66.
      expect(stop.frame).toMatchObject({ function: 'crash_inner', line: 66 });
      expect(result(lines, 'info locals').text).toBe('vp = 0x0\n');
      const crashing = threadRows(lines).find((t) => t.vcpu !== undefined)!;
      expect(crashing.name).toBe('worker-2');
      if (i > 0) continue;
      const gdb = await gdbOn('crash-O0', ['break ukplat_terminate', 'continue', 'bt']);
      const theirs = parseGdbBacktrace(gdb.slice(gdb.indexOf('#0'))).map((f) => f.func);
      // gdb: `<signal handler called>` parses as no function; and it ends with `0x0 in ?? ()`, the
      // zero return address under the thread entry, which duster takes for the end of the stack.
      expect(theirs).toEqual(['ukplat_terminate', 'do_page_fault', 'crash_inner', 'crash_middle', 'crash_outer', 'worker_fn', '??']);
      expect(result(lines, 'bt').text).toContain('#2  <signal handler called>');
      expect(btFunctions(lines)).toEqual(theirs.slice(0, -1));
    }
  }, 600_000);

  it('writes a dump on the crash that duster core reads as Unikraft, selected at the fault', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'duster-uk-dump-'));
    try {
      await duster(['run', unikraftImage('crash-O0'), '--dump-on-panic', dir], ['continue']);
      const [dump] = readdirSync(dir).map((f) => path.join(dir, f));
      expect(dump).toBeDefined();
      const { stdout } = await run(
        'node',
        [path.join(repo, 'bin/duster.js'), 'core', dump!, '--symbols', `${unikraftImage('crash-O0')}.dbg`, '--report'],
        { timeout: 120_000, maxBuffer: 16 << 20 },
      );
      expect(stdout).toContain(
        'Guest panicked on CPU 0: Unikraft crashed: do_page_fault called ukplat_terminate(UKPLAT_CRASH)\n  at 0x115575 in crash_inner at ',
      );
      expect(stdout).toContain('faulting instruction: mov    %edx,(%rax)');
      expect(stdout).toMatch(/Threads \(Unikraft\):[\s\S]*2\.4 +worker-2 0x19020 +runnable +running on CPU 0/);
      const { lines } = await duster(['core', dump!, '--symbols', `${unikraftImage('crash-O0')}.dbg`], ['frame']);
      expect(result(lines, 'frame').data).toMatchObject({ level: 3, function: 'crash_inner', line: 66 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);

  it('lets c-hello run to its clean exit: a halt is no crash', async () => {
    const { lines } = await duster(['run', unikraftImage('c-hello-O0')], ['break main', 'continue', 'continue']);
    expect(result(lines, 'continue', 0).data).toMatchObject({ reason: 'breakpoint', frame: { function: 'main', line: 5 } });
    expect(result(lines, 'continue', 1).data).toMatchObject({ reason: 'exited', exitCode: 0 });
    expect(serial(lines)).toContain('Hello from Unikraft!');
  }, 240_000);
});

describe('Unikraft images and symbol files by name (integration)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'duster-uk-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('boots the image beside a .dbg named on the command line', async () => {
    const { lines } = await duster(['run', `${unikraftImage('c-hello-O0')}.dbg`], ['break main', 'continue']);
    expect(result(lines, 'continue').data).toMatchObject({ reason: 'breakpoint', frame: { function: 'main' } });
  }, 240_000);

  it('refuses a .dbg of another build in one line, and warns when there are no symbols at all', async () => {
    const image = path.join(dir, 'app_qemu-x86_64');
    copyFileSync(unikraftImage('c-hello-O0'), image);
    copyFileSync(`${unikraftImage('threads-O0')}.dbg`, `${image}.dbg`);
    const bad = await duster(['run', image], ['info threads']);
    expect(bad.stderr.trim()).toBe(
      `duster run: ${image}.dbg does not match ${image}: their contents at 0x100000 differ (give the symbols this image was built with)`,
    );
    rmSync(`${image}.dbg`);
    const bare = await duster(['run', image], ['stepi', 'info threads']);
    // --json: the warning is one of the JSON events.
    const warning = bare.lines.find((l) => l.event === 'warning') as { kind?: string; message?: string } | undefined;
    expect(warning?.kind).toBe('no-debug-info');
    expect(warning?.message).toContain(`${image} has no debug info and no ${image}.dbg is beside it: debugging at the instruction level`);
    expect(result(bare.lines, 'stepi').ok).toBe(true);
  }, 240_000);
});

describe('ELF symbols without debug info in expressions, as gdb (integration)', () => {
  it('prints text and data symbols, their addresses and casts to function pointer types as gdb does', async () => {
    const exprs = [
      'p &ukarch_ctx_switch',
      'p ukarch_ctx_switch',
      'p (void (*)(void))ukarch_ctx_switch',
      'p ukarch_ctx_switch + 1',
      'whatis ukarch_ctx_switch',
      'whatis &ukarch_ctx_switch',
      'whatis _edata',
      'p &_ctx_x86_clearregs',
      'x/2i ukarch_ctx_switch',
      'p (int (*)[2])&workers',
    ];
    const apps = unikraftApps;
    const { lines } = await duster(
      ['run', unikraftImage('threads-O0')],
      ['break main', 'continue', ...exprs, 'p _edata', 'frame', `set substitute-path /usr/src/unikraft-fixtures/apps ${apps}`, 'frame'],
    );
    const ours = exprs.map((c) =>
      result(lines, c)
        .text!.trim()
        .replace(/^\$\d+ = /, ''),
    );
    // gdb on the symbol file alone (no target: the code it disassembles is the file's).
    const gdb = await gdbBatch({ elf: `${unikraftImage('threads-O0')}.dbg`, commands: exprs.flatMap((c) => ['echo @@\\n', c]) });
    const theirs = gdb
      .split('@@\n')
      .slice(1)
      .map((t) => t.trim().replace(/^\$\d+ = /, ''));
    expect(ours).toEqual(theirs);
    expect(ours[0]).toBe('(<text variable, no debug info> *) 0x12d07a <ukarch_ctx_switch>');
    // A data symbol has no type to print it with: gdb's error, in one line.
    expect(result(lines, 'p _edata')).toMatchObject({ ok: false });
    expect(JSON.stringify(result(lines, 'p _edata'))).toContain("'_edata' has unknown type; cast it to its declared type");
    // The DWARF names /usr/src/unikraft-fixtures/apps/threads/threads.c, built elsewhere: no source
    // line until substitute-path says where the app's sources are here.
    const source = readFileSync(path.join(apps, 'threads/threads.c'), 'utf8').split('\n');
    const line = (result(lines, 'frame', 1).data as { line: number }).line;
    expect(result(lines, 'frame', 0).text).not.toContain(source[line - 1]!);
    expect(result(lines, 'frame', 1).text).toContain(`${line}\t${source[line - 1]}`);
  }, 240_000);
});
