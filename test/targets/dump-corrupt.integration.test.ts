// Integration: damaged dumps made from a real one (truncated at several offsets, garbage notes,
// page tables pointing outside the dump, bad Xen headers) fail fast with one-line typed errors, or,
// cut short after their headers and notes, open with what is left and say how much is missing.
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ElfFile, PT } from '../../symbols/elf/index.js';
import { DumpFormatError, DumpMemoryError, openDump } from '../../src/targets/dump/index.js';
import { TargetError } from '../../src/targets/index.js';
import { dumpGuest, fixtures, kernel, kernelSymbols } from '../support/dump-guest.js';
import { qemuCoreToXen } from '../support/dump-xen.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'duster-corrupt-'));
let good: string;
let size: number;
let notes: { name: string; offset: number }[];
let noteSegment: number;
let ram: { offset: number };
let n = 0;

/** A copy of the good dump (its first `length` bytes), patched by `edit`. */
function variant(length: number, edit?: (fd: number) => void): string {
  const file = path.join(dir, `v${n++}.core`);
  if (length === size) copyFileSync(good, file);
  else writeFileSync(file, readFileSync(good).subarray(0, length));
  if (edit) {
    const fd = openSync(file, 'r+');
    edit(fd);
    closeSync(fd);
  }
  return file;
}

const put = (fd: number, at: number, bytes: number[] | Buffer) => writeSync(fd, Buffer.from(bytes), 0, bytes.length, at);
const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
};
const u64 = (v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b;
};

async function openError(file: string): Promise<Error> {
  const t = performance.now();
  const e = await openDump(file).then(
    (d) => (d.close(), new Error('opened')),
    (err: Error) => err,
  );
  expect(performance.now() - t).toBeLessThan(200);
  return e;
}

beforeAll(async () => {
  execFileSync('make', ['-s', '-C', fixtures]);
  good = (await dumpGuest({ app: 'crash', smp: 2, memory: '64M', file: path.join(dir, 'good.core') })).path;
  size = statSync(good).size;
  const elf = await ElfFile.open(good);
  notes = [...elf.notes()].map((x) => ({ name: x.name, offset: x.offset }));
  noteSegment = elf.programHeaders.findIndex((p) => p.type === PT.NOTE);
  ram = elf.programHeaders.find((p) => p.type === PT.LOAD && p.paddr === 0n)!;
  elf.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('damaged QEMU dumps (integration)', () => {
  it('says what a file is when it is not a dump', async () => {
    const text = path.join(dir, 'notes.txt');
    writeFileSync(text, 'hello\n');
    expect((await openError(text)).message).toBe(`${text}: not a crash dump (not an ELF file)`);
    expect((await openError(kernel)).message).toBe(`${kernel}: an ELF file but not a core dump (e_type 2)`);
    await expect(openDump(path.join(dir, 'missing.core'))).rejects.toThrow(/^cannot open .*missing\.core: ENOENT/);
  });

  it.each([0, 3, 40, 200, 0x300])('rejects a dump truncated at %i, in its headers or notes', async (at) => {
    const e = await openError(variant(at));
    expect(e).toBeInstanceOf(DumpFormatError);
    expect(e.message).not.toMatch(/\n/);
    expect(e.message).toMatch(/truncated|not an ELF file|runs past the end|outside the file/);
  });

  it.each([0x10000, 0x20_0000])('opens a dump truncated at %i after its notes: memory up to the cut, the rest unavailable', async (at) => {
    const d = await openDump(variant(at));
    try {
      expect(d.truncation).toEqual({ size: at, expected: expect.any(Number) });
      expect(d.truncation!.expected).toBeGreaterThanOrEqual(size - 0x1000);
      expect((await d.threads()).length).toBe(2);
      // RAM starts at physical 0 in the file at ram.offset: the byte before the cut reads, the one after does not.
      const last = BigInt(at - 1 - ram.offset);
      expect(Buffer.from(await d.readPhysical(last, 1))).toEqual(readFileSync(good).subarray(at - 1, at));
      await expect(d.readPhysical(last + 1n, 1)).rejects.toThrow(/not in the dump \(the dump is truncated\)/);
    } finally {
      await d.close();
    }
  });

  it('opens a dump missing only its last byte (the section name table, after all memory) as whole', async () => {
    const d = await openDump(variant(size - 1));
    expect(d.truncation).toBeUndefined();
    await d.close();
  });

  it('reads a PT_LOAD that runs past the end of the file as memory the dump lacks', async () => {
    const ramPhdr = 192 + (noteSegment + 1) * 56;
    const d = await openDump(variant(size, (fd) => [32, 40].forEach((field) => put(fd, ramPhdr + field, u64(BigInt(size))))));
    expect(d.truncation).toEqual({ size, expected: ram.offset + size });
    await d.close();
  });

  it('rejects garbage notes', async () => {
    const [pr0, pr1, q0, q1] = notes.map((x) => x.offset);
    // A note whose size runs past its segment.
    let e = await openError(variant(size, (fd) => put(fd, pr1! + 4, u32(0x7fff_0000))));
    expect(e).toBeInstanceOf(DumpFormatError);
    expect(e.message).toMatch(/notes at file offset .*truncated/);
    // A PT_NOTE that runs past the file.
    e = await openError(variant(size, (fd) => put(fd, 192 + noteSegment * 56 + 32, u64(BigInt(size) * 2n))));
    expect(e.message).toMatch(/PT_NOTE.*outside the file/);
    // Notes that are not QEMU's.
    e = await openError(variant(size, (fd) => [q0!, q1!].forEach((at) => put(fd, at + 12, Buffer.from('QEMX')))));
    expect(e.message).toMatch(/2 NT_PRSTATUS notes but 0 QEMU CPU-state notes/);
    e = await openError(variant(size, (fd) => [pr0!, pr1!, q0!, q1!].forEach((at) => put(fd, at + 12, Buffer.from('JUNK')))));
    expect(e.message).toMatch(/without NT_PRSTATUS notes: it records no vCPUs$/);
    // Two vCPUs claiming the same number.
    e = await openError(variant(size, (fd) => put(fd, pr1! + 20 + 32, u32(1))));
    expect(e.message).toMatch(/vCPU number 1 is repeated/);
  });

  it('reports page tables that point outside the dump when reading', async () => {
    const cr3At = (q: number) => q + 20 + 392 + 24;
    const [, , q0, q1] = notes.map((x) => x.offset);
    let d = await openDump(variant(size, (fd) => [q0!, q1!].forEach((q) => put(fd, cr3At(q), u64(0x7000_0000n)))));
    await expect(d.readMemory(0x10_0000n, 8)).rejects.toThrow(
      /^cannot read 0x100000: its PML4 table at physical 0x70000000 is not in the dump$/,
    );
    await d.close();
    const good0 = await openDump(good);
    const cr3 = (await good0.readRegisters(1)).get('cr3')!;
    await good0.close();
    d = await openDump(variant(size, (fd) => put(fd, ram.offset + Number(cr3), u64(0x5000_0000n | 3n))));
    const klog = kernelSymbols().get('klog_buf')!.address;
    const e = await d.readMemory(klog, 16).catch((x: Error) => x);
    expect(e).toBeInstanceOf(DumpMemoryError);
    expect(e).toBeInstanceOf(TargetError);
    expect((e as Error).message).toBe(`cannot read 0x${klog.toString(16)}: its PDPT table at physical 0x50000000 is not in the dump`);
    await d.close();
  });
});

describe('damaged Xen dumps (integration)', () => {
  let xen: string;
  let xenSize: number;
  beforeAll(async () => {
    xen = path.join(dir, 'xen.core');
    await qemuCoreToXen(good, xen, 'hvm');
    xenSize = statSync(xen).size;
  });

  const xenVariant = (edit: (fd: number, elf: { notesAt: number }) => void, length = xenSize) => {
    const file = path.join(dir, `x${n++}.core`);
    copyFileSync(xen, file);
    if (length < xenSize) truncateSync(file, length);
    const fd = openSync(file, 'r+');
    edit(fd, { notesAt: 64 + 6 * 64 });
    closeSync(fd);
    return file;
  };

  it('rejects truncated pages, unknown magic and an unsupported format version', async () => {
    // The section name table is the last thing in the file: the ELF reader notices first.
    let e = await openError(xenVariant(() => undefined, 0x10_0000));
    expect(e).toBeInstanceOf(DumpFormatError);
    expect(e.message).toMatch(
      /: damaged or truncated ELF file \(sections skipped: section 1: bytes \[0x[0-9a-f]+, \+0x37\) lie outside the file \(size 0x100000\)\)$/,
    );
    e = await openError(xenVariant((fd) => put(fd, 64 + 4 * 64 + 32, u64(0x1000n))));
    expect(e.message).toMatch(/\.xen_pages holds 0x1000 bytes, the header needs 0x[0-9a-f]+$/);
    // Notes: none (16 bytes), header (16 + 32), version (16 + 1280), format (16 + 8).
    e = await openError(xenVariant((fd, { notesAt }) => put(fd, notesAt + 16 + 16, u64(0xdeadbeefn))));
    expect(e.message).toMatch(/unknown dump-core magic 0xdeadbeef/);
    e = await openError(xenVariant((fd, { notesAt }) => put(fd, notesAt + 16 + 48 + 1296 + 16, u64(1n << 32n))));
    expect(e.message).toMatch(/dump-core format 1\.0 is not supported/);
    e = await openError(xenVariant((fd, { notesAt }) => put(fd, notesAt + 16 + 16 + 8, u64(1000n))));
    expect(e.message).toMatch(/\.xen_prstatus holds 0x[0-9a-f]+ bytes, the header needs 0x[0-9a-f]+/);
  });
});
