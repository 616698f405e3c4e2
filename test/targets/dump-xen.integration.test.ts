// Integration: Xen `xl dump-core` files, HVM and PV, built from a real QEMU dump of the panicked
// reference kernel (test/support/dump-xen.ts), against the live gdbstub of that same guest, and
// their backtraces against gdb's on the QEMU dump they were made from.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Program } from '../../src/engine/program.js';
import { Session } from '../../src/engine/session.js';
import { reportData } from '../../src/commands/report.js';
import { crashReport } from '../../src/engine/crash-report.js';
import { detectGuestOs } from '../../src/os/index.js';
import { openDump, XenCoreTarget, type DumpTarget } from '../../src/targets/dump/index.js';
import { differencesFromLive, dumpGuest, fixtures, kernel, type GuestDump } from '../support/dump-guest.js';
import { pvMfn, qemuCoreToXen } from '../support/dump-xen.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'duster-xen-'));
let guest: GuestDump;
let qemu: DumpTarget;
const open: DumpTarget[] = [];

async function xen(flavour: 'hvm' | 'pv'): Promise<XenCoreTarget> {
  const file = path.join(dir, `${flavour}.core`);
  await qemuCoreToXen(guest.path, file, flavour);
  const t = await openDump(file);
  open.push(t);
  expect(t).toBeInstanceOf(XenCoreTarget);
  return t as XenCoreTarget;
}

beforeAll(async () => {
  execFileSync('make', ['-s', '-C', fixtures]);
  guest = await dumpGuest({ app: 'crash', smp: 2, memory: '64M', file: path.join(dir, 'qemu.core') });
  qemu = await openDump(guest.path);
  open.push(qemu);
});
afterAll(async () => {
  await Promise.all(open.map((t) => t.close()));
  rmSync(dir, { recursive: true, force: true });
});

describe('Xen dump-core (integration)', () => {
  it('HVM: .xen_pfn pages with padding give the live registers and memory', async () => {
    const d = await xen('hvm');
    expect(d.pv).toBe(false);
    expect(d.xenVersion).toBe('4.17');
    expect(await d.threads()).toEqual([
      { id: 1, cpu: 0, description: 'CPU 0' },
      { id: 2, cpu: 1, description: 'CPU 1' },
    ]);
    expect(await differencesFromLive(d, guest)).toEqual([]);
    expect(d.translate(0x10_0000n)).toBe(0x10_0000n);
  });

  it('PV: page tables and CR3 in machine frames, translated through the p2m', async () => {
    const d = await xen('pv');
    expect(d.pv).toBe(true);
    expect(await differencesFromLive(d, guest, ['cr3'])).toEqual([]);
    const cr3 = guest.registers.get(1)!.get('cr3')!;
    expect((await d.readRegisters(1)).get('cr3')).toBe(BigInt(pvMfn(Number(cr3 >> 12n))) << 12n);
    // Virtual -> machine address, while readPhysical still takes pseudo-physical addresses.
    const va = 0x10_1234n;
    expect(d.translate(va)).toBe((BigInt(pvMfn(Number(va >> 12n))) << 12n) | 0x234n);
    const [a, b] = await Promise.all([d.readPhysical(0x10_0000n, 0x3000), qemu.readPhysical(0x10_0000n, 0x3000)]);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });

  it('HVM and PV: every vCPU backtrace is the one gdb shows for the QEMU dump they were made from', async () => {
    const { stdout } = await promisify(execFile)('gdb', [
      '-nx',
      '-batch',
      '-ex',
      'set width 0',
      '-ex',
      'thread apply all bt',
      kernel,
      guest.path,
    ]);
    const gdb = new Map<number, string[]>();
    let current: number | undefined;
    for (const line of stdout.split('\n')) {
      const t = /^Thread (\d+) /.exec(line);
      if (t) gdb.set((current = Number(t[1])), []);
      else if (current !== undefined && line.startsWith('#')) gdb.get(current)!.push(line.replace(/\s+/g, ' '));
    }
    expect(gdb.size).toBe(2);
    const program = await Program.load(kernel);
    try {
      for (const flavour of ['hvm', 'pv'] as const) {
        const session = new Session(await xen(flavour), { detectOs: detectGuestOs });
        await session.loadProgram(program);
        await session.start('dump');
        const report = await crashReport(session);
        expect(report.panic?.location).toMatch(/^crash_write at /);
        const { vcpus } = (await reportData(session, report)) as { vcpus: Array<{ id: number; backtrace: string[] }> };
        expect(new Map(vcpus.map((v) => [v.id, v.backtrace.map((l) => l.replace(/\s+/g, ' '))]))).toEqual(gdb);
      }
    } finally {
      program.close();
    }
  });
});
