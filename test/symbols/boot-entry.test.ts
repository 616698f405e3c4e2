// Where QEMU's -kernel enters an ELF image: the PVH note of the reference kernel (readelf and nm
// as the oracles), the ELF entry when there is no note, and multiboot images built here with
// binutils, with and without load addresses in their header.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootEntry, ElfFile } from '../../symbols/elf/index.js';
import { build, buildFixtures, run } from './oracle.js';

let dir: string;
beforeAll(() => {
  buildFixtures();
  dir = mkdtempSync(path.join(os.tmpdir(), 'duster-boot-entry-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function entryOf(file: string) {
  const elf = await ElfFile.open(file);
  try {
    return bootEntry(elf);
  } finally {
    elf.close();
  }
}

/** A copy of `file` with bytes replaced at `offset`. */
function patched(file: string, name: string, offset: number, bytes: Buffer): string {
  const data = readFileSync(file);
  bytes.copy(data, offset);
  const out = path.join(dir, name);
  writeFileSync(out, data);
  return out;
}

/** A 32-bit multiboot kernel: `flags` in its header, entry_addr 0x200040 when they ask for addresses. */
function multiboot(name: string, flags: number): string {
  const src = path.join(dir, `${name}.S`);
  writeFileSync(
    src,
    `.section .multiboot, "a"
.long 0x1badb002, ${flags}, -(0x1badb002 + ${flags})
.long 0x200000, 0x200000, 0, 0, 0x200040
.text
.globl _start
_start: hlt
`,
  );
  const obj = path.join(dir, `${name}.o`);
  const elf = path.join(dir, `${name}.elf`);
  execFileSync('as', ['--32', '-o', obj, src]);
  execFileSync('ld', ['-m', 'elf_i386', '-Ttext=0x201000', '--section-start=.multiboot=0x200000', '-e', '_start', '-o', elf, obj]);
  return elf;
}

describe('bootEntry', () => {
  it('reads the PVH entry note of the reference kernel', async () => {
    const kernel = build('gcc-O0');
    const note = /Xen\s+0x00000008\s+Unknown note type: \(0x00000012\)\s+description data: ((?:[0-9a-f]{2} ){8})/.exec(
      run('readelf', ['-n', kernel]),
    )!;
    const start32 = BigInt(`0x${/^([0-9a-f]+) T _start32$/m.exec(run('nm', [kernel]))![1]}`);
    expect(Buffer.from(note[1]!.replace(/ /g, ''), 'hex').readBigUInt64LE(0)).toBe(start32);
    expect(await entryOf(kernel)).toEqual({ address: start32, protocol: 'pvh' });
  });

  it('takes the PVH note over the ELF entry, and the ELF entry without a note', async () => {
    const kernel = build('gcc-O0');
    const pvh = (await entryOf(kernel)).address;
    const moved = Buffer.alloc(8);
    moved.writeBigUInt64LE(0x123456n);
    // e_entry sits at offset 24 of an ELF64 header.
    const other = patched(kernel, 'other-entry.elf', 24, moved);
    expect(run('readelf', ['-h', other])).toMatch(/Entry point address:\s+0x123456/);
    expect(await entryOf(other)).toEqual({ address: pvh, protocol: 'pvh' });
    // The note's type (18, XEN_ELFNOTE_PHYS32_ENTRY) changed to 19: no PVH entry any more.
    const noteOffset = Number(/^\s+NOTE\s+(0x[0-9a-f]+)/m.exec(run('readelf', ['-lW', other]))![1]);
    const noNote = patched(other, 'no-note.elf', noteOffset + 8, Buffer.from([19, 0, 0, 0]));
    expect(run('readelf', ['-n', noNote])).toMatch(/Unknown note type: \(0x00000013\)/);
    expect(await entryOf(noNote)).toEqual({ address: 0x123456n, protocol: 'elf' });
  });

  it('enters a multiboot kernel at its header entry_addr, or at the ELF entry when the header has no addresses', async () => {
    const withAddresses = multiboot('mb-addresses', 0x10003);
    expect(run('readelf', ['-h', withAddresses])).toMatch(/Entry point address:\s+0x201000/);
    expect(await entryOf(withAddresses)).toEqual({ address: 0x200040n, protocol: 'multiboot' });
    expect(await entryOf(multiboot('mb-elf', 0x3))).toEqual({ address: 0x201000n, protocol: 'multiboot' });
  });
});
