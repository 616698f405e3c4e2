// Integration: unwind a real stopped guest (gcc -O0, gcc -O2, clang -O2 builds) with our CFI and
// compare with gdb's `bt` of the very same stop (QEMU dumps the stopped guest to an ELF core,
// which gdb opens with the kernel ELF).
// Two stops: a breakpoint in fib (plain calls up to thread_trampoline's DW_CFA_undefined rip) and
// one in trap_handler (through trap_common's signal frame into the interrupted code).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GdbClient, type StopEvent, type ThreadId } from '../../gdbstub/index.js';
import { type QemuInstance } from '../../src/qemu/index.js';
import { bootGuest } from '../support/guest.js';
import { CfiTable, unwindStack } from '../../symbols/cfi/index.js';
import { x86_64RegisterName } from '../../symbols/expr/index.js';
import { gdbBatch } from '../support/gdb.js';

const root = path.resolve(import.meta.dirname, '../../fixtures/unikernel');
// Built before the suites are collected: each reads its image's .eh_frame up front.
execFileSync('make', ['-s', '-C', root]);

function ehFrame(file: string) {
  const out = execFileSync('readelf', ['-S', '-W', file], { encoding: 'utf8' });
  const m = /\]\s+\.eh_frame\s+\S+\s+([0-9a-f]+) ([0-9a-f]+) ([0-9a-f]+)/.exec(out)!;
  const off = parseInt(m[2]!, 16);
  return { bytes: new Uint8Array(readFileSync(file).subarray(off, off + parseInt(m[3]!, 16))), address: BigInt(`0x${m[1]}`) };
}

const symbol = (elf: string, name: string) =>
  BigInt(`0x${execFileSync('nm', [elf], { encoding: 'utf8' }).match(new RegExp(`^([0-9a-f]+) T ${name}$`, 'm'))![1]}`);

/** Function name of each pc, as addr2line puts it. */
function functionsOf(elf: string, pcs: bigint[]): string[] {
  const out = execFileSync('addr2line', ['-f', '-e', elf, ...pcs.map((p) => `0x${p.toString(16)}`)], { encoding: 'utf8' });
  return out
    .trim()
    .split('\n')
    .filter((_, i) => i % 2 === 0);
}

/**
 * gdb's `bt` for the vCPU `cpu` of a QEMU core: function names ("<signal handler called>" for a
 * signal frame) and the pc where gdb prints one (frames not at the start of a line).
 */
async function gdbBacktrace(elf: string, core: string, cpu: number): Promise<Array<{ name: string; pc?: bigint }>> {
  const out = await gdbBatch({ elf, commands: [`core-file ${core}`, 'thread apply all bt'] });
  const section = out.split(/^Thread \d+ /m).find((s) => new RegExp(`^\\(LWP ${cpu + 1}\\)`).test(s));
  expect(section, out).toBeDefined();
  const frames: Array<{ name: string; pc?: bigint }> = [];
  for (const line of section!.split('\n')) {
    const m = /^#\d+\s+(?:(0x[0-9a-f]+) in )?(\S+) \(|^#\d+\s+(?:(0x[0-9a-f]+) in )?(<signal handler called>)/.exec(line);
    if (m) frames.push({ name: m[2] ?? m[4]!, pc: (m[1] ?? m[3]) ? BigInt(m[1] ?? m[3]!) : undefined });
  }
  return frames;
}

describe.each(['gcc-O0', 'gcc-O2', 'clang-O2'])('CFI unwinding of a live %s guest matches gdb', (build) => {
  const elf = path.join(root, 'build', build, 'kernel.elf');
  const table = new CfiTable({ ehFrame: ehFrame(elf) });
  let q: QemuInstance;
  let client: GdbClient;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'duster-unwind-'));
    q = await bootGuest({ image: elf, smp: 2, memory: '64M', append: 'app=demo', gdb: 'unix', paused: false });
    await q.waitForSerial(/worker-\d step/, 20_000);
    // QEMU stops the guest when a debugger connects.
    client = await GdbClient.connect(q.gdbAddress!);
  }, 30_000);

  afterAll(async () => {
    client?.close();
    await q?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  async function stopAt(address: bigint): Promise<ThreadId> {
    await client.insertBreakpoint('hw', address, 1);
    await client.cont();
    const ev: StopEvent = await client.waitForStop(10_000);
    await client.removeBreakpoint('hw', address, 1);
    if (ev.kind !== 'signal' || !ev.thread) throw new Error(`unexpected stop ${JSON.stringify(ev)}`);
    return ev.thread;
  }

  async function compareWithGdb(thread: ThreadId, name: string) {
    const regs = await client.readRegisters(thread);
    const walk = await unwindStack(
      table,
      regs.get('rip')!,
      async (reg) => regs.get(x86_64RegisterName(reg)),
      (address, size) => client.readMemory(address, size).catch(() => new Uint8Array()),
      { framePointerFallback: false },
    );
    const core = path.join(dir, `${name}.core`);
    await q.qmp.execute('dump-guest-memory', { paging: false, protocol: `file:${core}` });
    const gdbFrames = await gdbBacktrace(elf, core, thread.tid - 1);
    rmSync(core, { force: true });
    walk.frames.forEach((f, i) => {
      if (gdbFrames[i]?.pc !== undefined) expect(f.pc, `frame ${i}`).toBe(gdbFrames[i]!.pc);
    });
    // A return address belongs to the call's function: name pc-1 for caller frames, as gdb does.
    const names = functionsOf(
      elf,
      walk.frames.map((f) => (f.pcIsReturnAddress ? f.pc - 1n : f.pc)),
    );
    // gdb names a frame whose CIE has the 'S' augmentation "<signal handler called>".
    const ours = names.map((n, i) => (walk.frames[i + 1]?.pcIsReturnAddress === false ? '<signal handler called>' : n));
    return { walk, names, ours, gdbNames: gdbFrames.map((f) => f.name) };
  }

  it('from a breakpoint in fib to the thread entry', async () => {
    const thread = await stopAt(symbol(elf, 'fib'));
    const { walk, ours, gdbNames } = await compareWithGdb(thread, 'fib');
    expect(walk.end).toBe('outermost');
    expect(ours[0]).toBe('fib');
    expect(ours.at(-1)).toBe('thread_trampoline');
    expect(ours).toEqual(gdbNames);
  }, 20_000);

  it('from trap_handler through the interrupt frame into the interrupted code', async () => {
    const thread = await stopAt(symbol(elf, 'trap_handler'));
    const { walk, names, ours, gdbNames } = await compareWithGdb(thread, 'trap');
    expect(names.slice(0, 2)).toEqual(['trap_handler', 'trap_common']);
    // The interrupted frame's pc is exact (trap_common is a signal frame), not a return address.
    expect(walk.frames[2]!.pcIsReturnAddress).toBe(false);
    expect(walk.end).toBe('outermost');
    expect(ours).toEqual(gdbNames);
  }, 20_000);
});
