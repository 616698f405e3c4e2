// Integration: damaged input degrades instead of failing. A crash dump of the reference unikernel
// (gcc-O0, 2 vCPUs) is opened by `duster core --report` with an ELF whose first unit header is
// broken (the rest of the report as before, one warning naming .debug_info and the offset), cut
// to half its size (the panicking vCPU's backtrace survives, the report says how much is missing,
// memory past the end reads as unavailable), and as a Xen dump-core cut short (refused in one line:
// its page index comes after the pages, so nothing can be mapped).
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, copyFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSession } from '../../src/open/index.js';
import { DumpMemoryError } from '../../src/targets/dump/errors.js';
import { ElfFile } from '../../symbols/index.js';
import { dumpGuest, kernel, kernelSymbols } from '../support/dump-guest.js';
import { qemuCoreToXen } from '../support/dump-xen.js';

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../..');

async function duster(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    return { code: 0, ...(await run('node', [path.join(repo, 'bin/duster.js'), ...args], { timeout: 120_000, maxBuffer: 16 << 20 })) };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** The frames of the panicking vCPU's backtrace in a text report (the CPU the panic line names), function names only. */
function panicFunctions(report: string): string[] {
  const cpu = /^Guest panicked on CPU (\d+)/m.exec(report)?.[1];
  const frames = new RegExp(`^CPU ${cpu} \\(thread 1\\.\\d+\\).*\\n.*\\n((?: {2}#.*\\n)+)`, 'm').exec(report)?.[1] ?? '';
  return [...frames.matchAll(/(?:in |#\d+\s+)(\w+) \(/g)].map((m) => m[1]!);
}

describe('damaged input degrades (integration)', () => {
  let dir: string;
  let dump: string;
  let good: { stdout: string };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'duster-damaged-'));
    dump = (await dumpGuest({ app: 'crash', smp: 2, memory: '32M', file: path.join(dir, 'crash.core') })).path;
    good = await duster(['core', dump, '--symbols', kernel, '--report']);
    expect(panicFunctions(good.stdout)).toContain('crash_write');
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('an ELF with a broken unit header: the same backtraces, one warning naming .debug_info and the offset (also in --json)', async () => {
    const elf = await ElfFile.open(kernel);
    const info = elf.section('.debug_info')!;
    elf.close();
    const bytes = readFileSync(kernel);
    // The first unit (boot.S's, which no backtrace of this crash goes through) gets DWARF version 0xffff.
    bytes.writeUInt16LE(0xffff, info.offset + 4);
    const damaged = path.join(dir, 'damaged.elf');
    writeFileSync(damaged, bytes);
    const text = await duster(['core', dump, '--symbols', damaged, '--report']);
    expect(text.code).toBe(0);
    expect(text.stderr).toBe(
      'warning: damaged.elf: .debug_info at offset 0x0: unit skipped: .debug_info: unsupported DWARF version 65535 (at offset 0x0)\n',
    );
    expect(panicFunctions(text.stdout)).toEqual(panicFunctions(good.stdout));
    const json = await duster(['core', dump, '--symbols', damaged, '--report', '--json']);
    const data = JSON.parse(json.stdout) as { warnings: Array<Record<string, unknown>>; vcpus: unknown[] };
    expect(data.warnings).toEqual([
      { kind: 'damaged-symbols', symbols: damaged, section: '.debug_info', offset: 0, message: expect.stringContaining('unit skipped') },
    ]);
    expect(data.vcpus).toHaveLength(2);
  }, 60_000);

  it('an ELF whose FDE for crash_write is damaged: the backtrace goes on by frame pointer, one warning names .eh_frame and the FDE', async () => {
    const elf = await ElfFile.open(kernel);
    const ehFrame = elf.section('.eh_frame')!;
    elf.close();
    // readelf (the oracle) says where the FDE covering crash_write starts in .eh_frame.
    const at = kernelSymbols().get('crash_write')!.address.toString(16).padStart(16, '0');
    const fde = new RegExp(`^([0-9a-f]{8}) [0-9a-f]+ [0-9a-f]+ FDE cie=[0-9a-f]+ pc=${at}\\.\\.`, 'm').exec(
      execFileSync('readelf', ['--debug-dump=frames', kernel], { encoding: 'utf8' }),
    );
    expect(fde).not.toBeNull();
    const offset = parseInt(fde![1]!, 16);
    const bytes = readFileSync(kernel);
    // Its CIE pointer (after the 4-byte length) now points before the section.
    bytes.writeUInt32LE(0xffff_fff0, ehFrame.offset + offset + 4);
    const damaged = path.join(dir, 'damaged-cfi.elf');
    writeFileSync(damaged, bytes);
    const r = await duster(['core', dump, '--symbols', damaged, '--report']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      `warning: damaged-cfi.elf: .eh_frame at offset 0x${offset.toString(16)}: call frame entry skipped: .eh_frame: CIE pointer 0x${(offset + 4 - 0xffff_fff0).toString(16)} outside the section (entry at offset 0x${offset.toString(16)})\n`,
    );
    expect(panicFunctions(r.stdout)).toEqual(panicFunctions(good.stdout));
  }, 60_000);

  it('a QEMU dump cut to half its size: the panicking vCPU backtrace survives, the report says how much is missing', async () => {
    const half = path.join(dir, 'half.core');
    copyFileSync(dump, half);
    const full = statSync(dump).size;
    truncateSync(half, Math.floor(full / 2));
    const text = await duster(['core', half, '--symbols', kernel, '--report']);
    expect(text.code).toBe(0);
    expect(text.stderr).toMatch(
      /^warning: half\.core is truncated: \d+ of \d+ bytes \(1[56]\.\d MiB, 50% missing\); memory past its end reads as unavailable\n$/,
    );
    expect(panicFunctions(text.stdout)).toEqual(panicFunctions(good.stdout));
    expect(text.stdout).toMatch(/^Guest panicked on CPU \d/);
    const json = JSON.parse((await duster(['core', half, '--symbols', kernel, '--report', '--json'])).stdout) as {
      warnings: Array<{ kind: string; size: number; expected: number }>;
    };
    expect(json.warnings).toEqual([expect.objectContaining({ kind: 'truncated-dump', size: Math.floor(full / 2) })]);
    expect(json.warnings[0]!.expected).toBeGreaterThan(full / 2);

    // The guest has 32 MiB identity mapped: an address in the lost upper half reads as unavailable,
    // one in the kept lower half reads as in the whole dump.
    const opened = await openSession({ kind: 'dump', file: half, symbols: kernel });
    const whole = await openSession({ kind: 'dump', file: dump, symbols: kernel });
    try {
      await expect(opened.session.target.readMemory(0x1f0_0000n, 16)).rejects.toThrow(DumpMemoryError);
      await expect(opened.session.target.readMemory(0x1f0_0000n, 16)).rejects.toThrow(/the dump is truncated/);
      const klog = kernelSymbols().get('klog_buf')!;
      expect(await opened.session.target.readMemory(klog.address, 64)).toEqual(await whole.session.target.readMemory(klog.address, 64));
    } finally {
      await opened.close();
      await whole.close();
    }
  }, 60_000);

  it('a Xen dump-core cut short is refused in one line naming the file', async () => {
    const xen = path.join(dir, 'crash.xen');
    await qemuCoreToXen(dump, xen, 'hvm');
    truncateSync(xen, Math.floor(statSync(xen).size / 2));
    const r = await duster(['core', xen, '--symbols', kernel, '--report']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^duster core: .*crash\.xen: (damaged or )?truncated[^\n]*\n$/);
  }, 60_000);
});
