// Memory bounded by the input: a length or count field that claims gigabytes must be refused before
// anything that size is allocated, and a stub that never stops sending must not make duster grow
// or loop forever. Each case checks the error is typed and one line, and that the process's peak
// virtual memory (VmPeak: any large allocation raises it, touched or not) grows by less than 64 MiB.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checksum, GdbClient, PacketDecoder, RspProtocolError } from '../../gdbstub/index.js';
import { Program } from '../../src/engine/program.js';
import { ElfFile, FormatError } from '../../symbols/index.js';
import { FakeStub } from '../gdbstub/fake-stub.js';
import { vmPeak } from '../support/fuzz.js';

const root = path.resolve(import.meta.dirname, '../../fixtures/unikernel');
const LIMIT = 64 << 20;

/** Runs `fn`, expecting a typed one-line error within `ms`, and VmPeak to grow by less than LIMIT. */
async function refused(fn: () => unknown, typed: abstract new (...a: never[]) => Error, pattern: RegExp, ms = 2000): Promise<void> {
  const peak = vmPeak();
  const t = performance.now();
  const e = await Promise.resolve()
    .then(fn)
    .then(
      () => undefined,
      (x: unknown) => x,
    );
  expect(e, 'refused').toBeInstanceOf(typed);
  expect((e as Error).message).toMatch(pattern);
  expect((e as Error).message).not.toContain('\n');
  expect(performance.now() - t).toBeLessThan(ms);
  expect(vmPeak() - peak, 'VmPeak growth').toBeLessThan(LIMIT);
}

/**
 * Runs `fn`, which reads damaged input and returns what it recorded as skipped: the damage is named
 * (one line matching `pattern`) instead of failing the whole read, within `ms` and the same memory bound.
 */
async function skipped(fn: () => Promise<string[]>, pattern: RegExp, ms = 2000): Promise<void> {
  const peak = vmPeak();
  const t = performance.now();
  const damage = await fn();
  expect(
    damage.some((d) => pattern.test(d)),
    `damage recorded: ${damage.join(' | ')}`,
  ).toBe(true);
  for (const d of damage) expect(d).not.toContain('\n');
  expect(performance.now() - t).toBeLessThan(ms);
  expect(vmPeak() - peak, 'VmPeak growth').toBeLessThan(LIMIT);
}

describe('RSP: streams and stubs that claim or send too much', () => {
  let stub: FakeStub | undefined;
  afterEach(async () => {
    await stub?.stop();
    stub = undefined;
  });

  it('refuses a packet that never ends', async () => {
    const d = new PacketDecoder();
    const mib = Buffer.alloc(1 << 20, 0x41);
    await refused(
      () => {
        d.feed(Buffer.from('$'));
        for (let i = 0; i < 20; i++) d.feed(mib);
      },
      RspProtocolError,
      /packet larger than \d+ bytes refused/,
    );
  });

  it('refuses a run-length bomb instead of expanding it', async () => {
    // 3 bytes per 97 copies: a 15 MiB packet would expand to ~500 MiB.
    const body = Buffer.alloc(1 + 2 * 5_000_000, '*~');
    body[0] = 0x30;
    const packet = Buffer.concat([Buffer.from('$'), body, Buffer.from(`#${checksum(body).toString(16).padStart(2, '0')}`)]);
    await refused(() => new PacketDecoder().feed(packet), RspProtocolError, /run-length encoding expands past \d+ bytes/);
  });

  const supported = (p: string) => (p.startsWith('qSupported') ? 'PacketSize=1000;qXfer:features:read+' : p === 'qC' ? 'QC1' : undefined);

  it('gives up on a qXfer object that never ends', async () => {
    stub = await FakeStub.start((p) => supported(p) ?? (p.startsWith('qXfer') ? `m${'<'.repeat(0xffa)}` : ''));
    await refused(
      () => GdbClient.connect(stub!.address, { timeoutMs: 500 }),
      RspProtocolError,
      /qXfer:features:read:target\.xml: more than \d+ bytes/,
      10_000,
    );
  });

  it('gives up on a qXfer stub that answers without data', async () => {
    stub = await FakeStub.start((p) => supported(p) ?? (p.startsWith('qXfer') ? 'm' : ''));
    await refused(
      () => GdbClient.connect(stub!.address, { timeoutMs: 500 }),
      RspProtocolError,
      /qXfer:features:read:target\.xml: an empty 'm' reply/,
    );
  });

  it('gives up on a thread list that never ends', async () => {
    let n = 0;
    stub = await FakeStub.start((p) =>
      p === 'qfThreadInfo' || p === 'qsThreadInfo'
        ? `m${(++n).toString(16)}`
        : p.startsWith('qSupported')
          ? 'PacketSize=1000'
          : p === 'qC'
            ? 'QC1'
            : p === 'g'
              ? '00'.repeat(17 * 8 + 7 * 4)
              : '',
    );
    const client = await GdbClient.connect(stub.address, { timeoutMs: 500 });
    try {
      await refused(() => client.threads(), RspProtocolError, /thread list: more than \d+ threads/, 20_000);
    } finally {
      client.close();
    }
  });

  it('refuses a memory reply longer than asked', async () => {
    stub = await FakeStub.start((p) =>
      p.startsWith('m') ? 'ab'.repeat(4096) : p.startsWith('qSupported') ? 'PacketSize=1000' : p === 'qC' ? 'QC1' : '',
    );
    const client = await GdbClient.connect(stub.address, { timeoutMs: 500 });
    try {
      await refused(() => client.readMemory(0x1000n, 16), RspProtocolError, /'m' returned 4096 bytes, asked for 16/);
    } finally {
      client.close();
    }
  });
});

describe('ELF and DWARF: size fields that claim gigabytes', () => {
  let dir: string;
  let original: Buffer;
  let sections: Map<string, { offset: number; size: number; header: number }>;
  const FOUR_GIB = 0x1_0000_0000n;

  beforeAll(async () => {
    execFileSync('make', ['-s', '-C', root]);
    dir = mkdtempSync(path.join(os.tmpdir(), 'duster-bounds-'));
    const file = path.join(root, 'build/gcc-O2/kernel.elf');
    original = readFileSync(file);
    const elf = await ElfFile.open(file);
    const shoff = Number(original.readBigUInt64LE(40));
    sections = new Map(elf.sections.map((s) => [s.name, { offset: s.offset, size: s.size, header: shoff + s.index * 64 }]));
    elf.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A copy of the image with `edit` applied, loaded and asked what a stop asks; returns the damage it skipped. */
  const patched = (edit: (b: Buffer) => void) => {
    const b = Buffer.from(original);
    edit(b);
    const f = path.join(dir, `p${Math.random().toString(36).slice(2)}.elf`);
    writeFileSync(f, b);
    return async () => {
      const p = await Program.load(f);
      try {
        p.symbols.symbolize(0x100100n);
        p.symbols.symbolAt(0x100100n);
        p.symbols.scopesAt(0x100100n);
        p.symbols.lineToAddresses('app_demo.c', 158);
        p.cfi.findFde(0x100100n);
        [...p.symbols.elf.notes()];
        return p.symbols.damage.found.map((d) => `${d.section} at 0x${d.offset.toString(16)}: ${d.message}`);
      } finally {
        p.close();
      }
    };
  };
  const at = (name: string) => sections.get(name)!;

  it('a section that claims 4 GiB', async () => {
    // The debug info is skipped, named; the ELF symbol table still answers. A symbol table that
    // cannot be read fails the lookups that need it.
    await skipped(
      patched((b) => b.writeBigUInt64LE(FOUR_GIB, at('.debug_info').header + 32)),
      /lie outside the file/,
    );
    await refused(
      patched((b) => b.writeBigUInt64LE(FOUR_GIB, at('.symtab').header + 32)),
      FormatError,
      /lie outside the file/,
    );
  });

  it('a compressed section that claims to inflate to 4 GiB', async () => {
    const z = path.join(dir, 'z.elf');
    execFileSync('objcopy', ['--compress-debug-sections=zlib', path.join(root, 'build/gcc-O2/kernel.elf'), z]);
    const elf = await ElfFile.open(z);
    const info = elf.section('.debug_info')!;
    elf.close();
    const b = readFileSync(z);
    b.writeBigUInt64LE(FOUR_GIB, info.offset + 8); // Elf64_Chdr.ch_size
    writeFileSync(z, b);
    await skipped(async () => {
      const p = await Program.load(z);
      p.symbols.symbolize(0x100100n);
      return p.symbols.damage.found.map((d) => d.message);
    }, /implausible uncompressed size 0x100000000/);
  });

  it('a unit and a line program whose 64-bit length claims 1 TiB', async () => {
    const huge = (o: number) => (b: Buffer) => {
      b.writeUInt32LE(0xffffffff, o);
      b.writeBigUInt64LE(1n << 40n, o + 4);
    };
    await skipped(patched(huge(at('.debug_info').offset)), /unit length 0x10000000000 runs past the end/);
    await skipped(patched(huge(at('.debug_line').offset)), /line table length 0x10000000000 runs past the end/);
  });

  it('a line table that claims 2^35 file names', async () => {
    const files = parseInt(
      /The File Name Table \(offset 0x([0-9a-f]+)/.exec(
        execFileSync('readelf', ['--debug-dump=rawline', path.join(root, 'build/gcc-O2/kernel.elf')], { encoding: 'utf8' }),
      )![1]!,
      16,
    );
    // readelf gives where the entries start; the one-byte count before them becomes a 6-byte ULEB of 2^35.
    await skipped(
      patched((b) => Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]).copy(b, at('.debug_line').offset + files - 1)),
      /entry count 34359738368 exceeds the header/,
    );
  });

  it('a note whose name claims 4 GiB', async () => {
    await refused(
      patched((b) => b.writeUInt32LE(0xffffffff, at('.note.Xen').offset)),
      FormatError,
      /truncated: need 4294967295 bytes/,
    );
  });
});
