// Stardust's thread model from its description alone: a freestanding program with Stardust's
// structures and context switch (fixtures/stardust.c) runs its threads until they are switched
// out, then hands over its .bss and registers, which this test lays into a QEMU-format core beside
// the program's own segments. duster must list the threads the program printed, with their states,
// recover a sleeping thread's registers as its saved sp/ip say, and unwind it exactly as gdb does
// once given those registers by hand; a wild pointer and a cycle in the list are reported.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ElfFile, PT } from '../../symbols/elf/index.js';
import { gdbBatch } from '../support/gdb.js';
import { withVcpuRegisters, writeQemuCore } from '../support/qemu-core.js';

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../..');
let dir: string;
let elf: string;
let image: Array<{ address: bigint; bytes: Uint8Array }>;
let vcpu: Map<string, bigint>;
let reported: Array<{ tid: number; name: string; state: string }>;

async function duster(core: string, commands: string[]): Promise<string> {
  const args = [path.join(repo, 'bin/duster.js'), 'core', core, '--symbols', elf, '--batch', ...commands.flatMap((c) => ['-ex', c])];
  const { stdout } = await run('node', args, { timeout: 60_000 }).catch((e: { stdout: string }) => e);
  return stdout;
}

/** The value gdb prints for an expression over the program's memory, as a bigint. */
async function gdbValue(core: string, expr: string): Promise<bigint> {
  const out = await gdbBatch({ elf, commands: [`core-file ${core}`, `p/x ${expr}`] });
  return BigInt(/\$1 = (0x[0-9a-f]+)/.exec(out)![1]!);
}

/** A core of the image with 8 bytes at `address` replaced. */
function coreWith(name: string, patches: Array<[bigint, bigint]> = []): string {
  const loads = image.map((l) => ({ address: l.address, bytes: Uint8Array.from(l.bytes) }));
  for (const [address, value] of patches) {
    const l = loads.find((x) => address >= x.address && address + 8n <= x.address + BigInt(x.bytes.length))!;
    Buffer.from(l.bytes.buffer).writeBigUInt64LE(value, Number(address - l.address));
  }
  const file = path.join(dir, name);
  writeQemuCore(file, loads, [vcpu]);
  return file;
}

/** The i-th thread on the list, as gdb reads it (container_of by DESIGN.md's offset 120). */
function threadExpr(i: number): string {
  return `((struct thread *)((char *)thread_list.next${'->next'.repeat(i)} - 120))`;
}

/** The frames of the last backtrace printed (loading a core and `thread` print a #0 line too). */
function lastBacktrace(out: string): string[] {
  const lines = out.split('\n').filter((l) => l.startsWith('#'));
  return lines.slice(lines.findLastIndex((l) => l.startsWith('#0 '))).map((l) => l.replace(/\s+/g, ' '));
}

function guestRows(out: string): Map<number, { name: string; state: string; where: string }> {
  return new Map(
    [...out.matchAll(/^[* ] 2\.(\d+) +(\S+) +(THREAD_\w+) +(.*)$/gm)].map((m) => [
      Number(m[1]),
      { name: m[2]!, state: m[3]!, where: m[4]! },
    ]),
  );
}

describe('Stardust thread model on a memory image', () => {
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'duster-stardust-'));
    elf = path.join(dir, 'stardust');
    // Compiled from its own folder, as the reference unikernel is: file names stay relative.
    execFileSync(
      'gcc',
      [
        '-g',
        '-O0',
        '-ffreestanding',
        '-nostdlib',
        '-static',
        '-no-pie',
        '-fno-pic',
        '-fno-stack-protector',
        '-mgeneral-regs-only',
        '-o',
        elf,
        'stardust.c',
      ],
      {
        cwd: path.join(import.meta.dirname, 'fixtures'),
      },
    );
    const stdout = execFileSync(elf);
    const split = stdout.indexOf('image\n');
    reported = stdout
      .subarray(0, split)
      .toString()
      .trim()
      .split('\n')
      .map((l) => l.split(' '))
      .map(([, tid, name, state]) => ({ tid: Number(tid), name: name!, state: state! }));
    const regs = stdout.subarray(split + 6, split + 6 + 32);
    const bss = stdout.subarray(split + 6 + 32);
    const [rip, rsp, rbp, gsBase] = [0, 8, 16, 24].map((o) => regs.readBigUInt64LE(o));
    vcpu = new Map([
      ['rip', rip!],
      ['rsp', rsp!],
      ['rbp', rbp!],
      ['gs_base', gsBase!],
      ['cs', 0x33n],
      ['ss', 0x2bn],
    ]);
    const file = await ElfFile.open(elf);
    const bssStart = file.section('.bss')!.addr;
    image = file.programHeaders
      .filter((p) => p.type === PT.LOAD)
      .map((p) => {
        const bytes = new Uint8Array(Number(p.memsz));
        bytes.set(readFileSync(elf).subarray(p.offset, p.offset + p.filesz));
        if (bssStart >= p.vaddr && bssStart < p.vaddr + p.memsz) bytes.set(bss, Number(bssStart - p.vaddr));
        return { address: p.vaddr, bytes };
      });
    file.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists every thread the program reported, with its state, the running one on its vCPU', async () => {
    const core = coreWith('stardust.core');
    expect(reported.map((t) => t.state)).toEqual(
      expect.arrayContaining(['THREAD_RUNNING', 'THREAD_SLEEPING', 'THREAD_BLOCKED', 'THREAD_RUNNABLE']),
    );
    const out = await duster(core, ['info threads']);
    expect(out).toContain('Unikernel threads (Stardust):');
    const rows = guestRows(out);
    expect([...rows.keys()]).toEqual(reported.map((t) => t.tid));
    for (const t of reported) expect(rows.get(t.tid)).toMatchObject({ name: t.name, state: t.state });
    const running = reported.find((t) => t.state === 'THREAD_RUNNING')!;
    expect(rows.get(running.tid)!.where).toMatch(/^CPU 0: .*snapshot \(\)/);
    // A switched-out thread is shown where it waits, outside the scheduler.
    for (const t of reported.filter((x) => x.state === 'THREAD_SLEEPING')) expect(rows.get(t.tid)!.where).toMatch(/ in worker_main \(arg=/);
  });

  it('recovers a sleeping thread registers from its saved sp and ip, and unwinds it as gdb does', async () => {
    const core = coreWith('stardust.core');
    const sleeper = reported.find((t) => t.state === 'THREAD_SLEEPING')!;
    const self = threadExpr(reported.indexOf(sleeper));
    const sp = await gdbValue(core, `${self}->ctx.sp`);
    const want = new Map([
      ['rip', await gdbValue(core, `${self}->ctx.ip`)],
      ['rbp', await gdbValue(core, `*(unsigned long *)${sp}`)],
      ['eflags', await gdbValue(core, `*(unsigned long *)${sp + 8n}`)],
      ['rsp', sp + 16n],
    ]);
    const out = await duster(core, [`thread 2.${sleeper.tid}`, 'info registers rip rsp rbp eflags', 'bt']);
    for (const [name, value] of want) expect(out).toMatch(new RegExp(`^${name} +0x${value.toString(16)}\\b`, 'm'));
    expect(await gdbValue(core, `&schedule`)).toBeLessThan(want.get('rip')!);

    const patched = path.join(dir, 'sleeper.core');
    await withVcpuRegisters(core, patched, 1, new Map([...want, ['cs', 0x33n], ['ss', 0x2bn]]));
    const gdb = lastBacktrace(await gdbBatch({ elf, commands: [`core-file ${patched}`, 'bt'] }));
    const ours = lastBacktrace(out);
    expect(ours).toEqual(gdb);
    expect(gdb.map((l) => /^#\d+ +(?:0x\w+ in )?(\w+)/.exec(l)![1])).toEqual([
      'schedule',
      'thread_sleep',
      'worker_main',
      'thread_main',
      'thread_start',
    ]);
  });

  it('reports a wild pointer and a cycle in the list, keeping the threads read before them', async () => {
    const link = (i: number) => gdbValue(coreWith('plain.core'), `&${threadExpr(i)}->thread_link.next`);
    const wild = await duster(coreWith('wild.core', [[await link(2), 0xdead0000n]]), ['info threads']);
    expect(wild).toMatch(/thread list incomplete: thread at 0xdead0000 \(struct list_head \*\) is unreadable/);
    expect([...guestRows(wild).keys()]).toEqual(reported.slice(0, 3).map((t) => t.tid));
    const first = await gdbValue(coreWith('plain.core'), 'thread_list.next');
    const cycle = await duster(coreWith('cycle.core', [[await link(3), first]]), ['info threads']);
    expect(cycle).toMatch(new RegExp(`thread list incomplete: thread list loops back to 0x${first.toString(16)}`));
    expect([...guestRows(cycle).keys()]).toEqual(reported.slice(0, 4).map((t) => t.tid));
  });
});
