// Integration: QEMU dump-guest-memory files against the live gdbstub of the same stopped guest:
// every vCPU's registers and stack, klog_buf and kernel text must come out of the dump as the stub
// reported them; also the >65535-program-header and 5-level/1 GiB-page shapes, and the open cost.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDump, QemuCoreTarget, type DumpTarget } from '../../src/targets/dump/index.js';
import { ReadOnlyTargetError, type Target } from '../../src/targets/index.js';
import { differencesFromLive, dumpGuest, fixtures, type GuestDump } from '../support/dump-guest.js';
import { withLa57GigaPages, withManyLoads } from '../support/dump-variants.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'duster-dump-'));
let crash: GuestDump;
const open: DumpTarget[] = [];
const openTracked = async (file: string) => {
  const t = await openDump(file);
  open.push(t);
  return t;
};

beforeAll(async () => {
  execFileSync('make', ['-s', '-C', fixtures]);
  crash = await dumpGuest({ app: 'crash', smp: 2, file: path.join(dir, 'crash.core') });
});
afterAll(async () => {
  await Promise.all(open.map((t) => t.close()));
  rmSync(dir, { recursive: true, force: true });
});

describe('QEMU ELF core (integration)', () => {
  it('holds the registers and memory the gdbstub reported for the panicked guest', async () => {
    const d = await openTracked(crash.path);
    expect(d).toBeInstanceOf(QemuCoreTarget);
    expect(d.kind).toBe('dump');
    expect(d.running).toBe(false);
    expect(await d.threads()).toEqual([
      { id: 1, cpu: 0, description: 'CPU 0' },
      { id: 2, cpu: 1, description: 'CPU 1' },
    ]);
    expect(d.paging).toMatchObject({ kind: 'long', levels: 4 });
    expect(await differencesFromLive(d, crash)).toEqual([]);
    expect([...(await d.readRegisters(1)).keys()]).toEqual(d.registers.map((r) => r.name));
  });

  it('refuses to run or write, and names unmapped addresses', async () => {
    const d: Target = await openTracked(crash.path);
    await expect(d.resume({ kind: 'continue' })).rejects.toThrow(new ReadOnlyTargetError('continue'));
    await expect(d.resume({ kind: 'step', thread: 1 })).rejects.toThrow('step: a crash dump is read-only');
    await expect(d.interrupt()).rejects.toBeInstanceOf(ReadOnlyTargetError);
    await expect(d.writeMemory(0x100000n, new Uint8Array(1))).rejects.toBeInstanceOf(ReadOnlyTargetError);
    await expect(d.writeRegister(1, 'rax', 0n)).rejects.toThrow('write register rax: a crash dump is read-only');
    await expect(d.insertBreakpoint('sw', 0x100000n, 1)).rejects.toBeInstanceOf(ReadOnlyTargetError);
    // The reference kernel leaves page 0 unmapped so NULL faults.
    await expect(d.readMemory(0x10n, 8)).rejects.toThrow(/^cannot read 0x10: not mapped \(PT entry 0 /);
    await expect(d.readMemory(0x9000_0000n, 8)).rejects.toThrow(
      /^cannot read 0x90000000: it maps to physical address 0x90000000, which is not in the dump$/,
    );
    await expect(d.readRegisters(9)).rejects.toThrow(/no vCPU with thread id 9/);
  });

  it('reads a core with more than 65535 program headers (count in section 0)', async () => {
    const file = path.join(dir, 'many.core');
    const count = await withManyLoads(crash.path, file);
    expect(count).toBeGreaterThan(0xffff);
    const d = await openTracked(file);
    expect(await differencesFromLive(d, crash)).toEqual([]);
    // A read spanning many 2 KiB PT_LOADs equals the same read from the original layout.
    const orig = await openTracked(crash.path);
    expect(Buffer.from(await d.readPhysical(0x10_0000n, 0x2_0000)).equals(Buffer.from(await orig.readPhysical(0x10_0000n, 0x2_0000)))).toBe(
      true,
    );
  });

  it('walks 5-level paging with 1 GiB pages', async () => {
    const file = path.join(dir, 'la57.core');
    await withLa57GigaPages(crash.path, file);
    const d = await openTracked(file);
    expect(d.paging).toEqual({ kind: 'long', levels: 5, root: 0x1_0000_0000n });
    expect(await differencesFromLive(d, crash, ['cr3', 'cr4'])).toEqual([]);
    expect((await d.readRegisters(1)).get('cr4')! & (1n << 12n)).toBe(1n << 12n);
  });
});

describe('QEMU ELF core of a running 4-vCPU guest (integration)', () => {
  it('matches the gdbstub and opens a 512 MiB dump in well under 100 ms', async () => {
    const demo = await dumpGuest({ app: 'demo', smp: 4, memory: '512M', file: path.join(dir, 'demo.core') });
    const rss = process.memoryUsage().rss;
    const t = performance.now();
    const d = await openTracked(demo.path);
    for (const th of await d.threads()) await d.readRegisters(th.id);
    const rsp = (await d.readRegisters(1)).get('rsp')!;
    await d.readMemory(rsp - 0x8000n, 0x1_0000);
    const ms = performance.now() - t;
    const grewMb = (process.memoryUsage().rss - rss) / 2 ** 20;
    console.log(
      `512 MiB dump (QEMU wrote it in ${demo.dumpMs.toFixed(0)} ms): open + 4 vCPUs' registers + 64 KiB stack ${ms.toFixed(1)} ms, RSS +${grewMb.toFixed(1)} MiB`,
    );
    expect(ms).toBeLessThan(100);
    expect(grewMb).toBeLessThan(50);
    expect((await d.threads()).length).toBe(4);
    expect(await differencesFromLive(d, demo)).toEqual([]);
  });
});
