// Truncated and garbled input ends in a typed error (FormatError) or in answers from the rest of
// the file with the damage named, quickly, never a TypeError or a hang.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FormatError, SymbolFile } from '../../symbols/index.js';
import { build, buildFixtures } from './oracle.js';

let dir: string;
let elf: Buffer;
/** File offsets of the DWARF sections, from readelf (not from the reader under test). */
let offsets: Record<'.debug_info' | '.debug_abbrev' | '.debug_line', number>;
beforeAll(() => {
  buildFixtures();
  dir = mkdtempSync(path.join(tmpdir(), 'duster-corrupt-'));
  elf = readFileSync(build('gcc-O2'));
  const table = execFileSync('readelf', ['-SW', build('gcc-O2')], { encoding: 'utf8' });
  const at = (name: string) => parseInt(new RegExp(`\\${name}\\s+\\S+\\s+[0-9a-f]+\\s+([0-9a-f]+)`).exec(table)![1]!, 16);
  offsets = { '.debug_info': at('.debug_info'), '.debug_abbrev': at('.debug_abbrev'), '.debug_line': at('.debug_line') };
});

let damage: string[] = [];

/** Runs every query over a file; returns the error, if any (and leaves the damage it skipped in `damage`). */
async function exercise(file: string): Promise<unknown> {
  damage = [];
  try {
    const sf = await SymbolFile.open(file);
    sf.damage.onDamage((d) => damage.push(`${d.section} at 0x${d.offset.toString(16)}: ${d.message}`));
    for (let a = 0x100000n; a < 0x103000n; a += 0x40n) sf.symbolize(a);
    sf.lineToAddresses('app_demo.c', 158);
    sf.functionEntries('worker_step');
    sf.scopesAt(0x100600n);
    sf.findType('struct thread');
    sf.close();
    return undefined;
  } catch (e) {
    return e;
  }
}

describe('corrupt input', () => {
  it('a truncated ELF fails with a FormatError inside its ELF and program headers, and past them opens without sections, saying so', async () => {
    for (const cut of [0, 10, 63, 100]) {
      writeFileSync(path.join(dir, `cut-${cut}`), elf.subarray(0, cut));
      expect(await exercise(path.join(dir, `cut-${cut}`)), `cut at ${cut}`).toBeInstanceOf(FormatError);
    }
    // The section headers are at the end of the file (readelf: "Start of section headers"), so
    // every later cut loses them: the segments remain, the symbols and debug info do not.
    const shoff = Number(
      /Start of section headers:\s+(\d+)/.exec(execFileSync('readelf', ['-h', build('gcc-O2')], { encoding: 'utf8' }))![1],
    );
    for (const cut of [
      0x1000,
      offsets['.debug_info'] + 0x54,
      offsets['.debug_abbrev'] + 0x3e,
      offsets['.debug_line'] + 0x16,
      elf.length - 10,
    ]) {
      expect(cut).toBeLessThan(elf.length);
      const f = path.join(dir, `cut-${cut}`);
      writeFileSync(f, elf.subarray(0, cut));
      expect(await exercise(f), `cut at ${cut}`).toBeUndefined();
      expect(damage, `cut at ${cut}`).toEqual([
        expect.stringMatching(
          new RegExp(
            `^section header table at 0x${shoff.toString(16)}: sections skipped: .*(lie outside the file|runs past the end of the file)`,
          ),
        ),
      ]);
    }
  });

  it('damaged location lists cost their variables a location, each list named once; the frame keeps its variables', async () => {
    const good = await SymbolFile.open(build('gcc-O2'));
    const lists = good.elf.section('.debug_loclists')!;
    const pc = good.functionEntries('worker_step')[0]! + 4n;
    const names = good.scopesAt(pc).map((f) => f.variables.map((v) => v.name));
    good.close();
    const bytes = Buffer.from(elf);
    // Every entry after the section's 12-byte header becomes kind 0x7f, which DWARF 5 does not define.
    bytes.fill(0x7f, lists.offset + 12, lists.offset + lists.size);
    const f = path.join(dir, 'bad-loclists');
    writeFileSync(f, bytes);
    const sf = await SymbolFile.open(f);
    try {
      const scopes = sf.scopesAt(pc);
      expect(scopes.map((x) => x.variables.map((v) => v.name))).toEqual(names);
      expect(sf.damage.found.length).toBeGreaterThan(0);
      for (const d of sf.damage.found) {
        expect(d.section).toBe('.debug_loclists');
        expect(d.message).toMatch(
          /^location list skipped: \.debug_loclists: unknown location list entry kind 127 \(at offset 0x[0-9a-f]+\)$/,
        );
      }
      expect(new Set(sf.damage.found.map((d) => d.offset)).size).toBe(sf.damage.found.length);
    } finally {
      sf.close();
    }
  });

  it('a damaged unit header is skipped with one warning naming .debug_info and its offset; the other units still answer', async () => {
    const bytes = Buffer.from(elf);
    // The first unit's version (after its 4-byte length) becomes 0xffff.
    bytes.writeUInt16LE(0xffff, offsets['.debug_info'] + 4);
    const f = path.join(dir, 'bad-first-unit');
    writeFileSync(f, bytes);
    const sf = await SymbolFile.open(f);
    try {
      const seen: string[] = [];
      sf.damage.onDamage((d) => seen.push(`${d.section} at 0x${d.offset.toString(16)}: ${d.message}`));
      // worker_step is in app_demo.c, not the first unit (boot.S): found as before.
      expect(sf.functionEntries('worker_step').length).toBeGreaterThan(0);
      expect(seen).toEqual(['.debug_info at 0x0: unit skipped: .debug_info: unsupported DWARF version 65535 (at offset 0x0)']);
    } finally {
      sf.close();
    }
  });

  it('garbage in .debug_info, .debug_abbrev, .debug_line gives a FormatError or a clean answer, fast', async () => {
    let seed = 1;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (const [name, off] of Object.entries(offsets)) {
      for (let round = 0; round < 6; round++) {
        const bytes = Buffer.from(elf);
        for (let i = 0; i < 64; i++) bytes[off + Math.floor(rand() * 2048)] = Math.floor(rand() * 256);
        const f = path.join(dir, `garbled${name}-${round}`);
        writeFileSync(f, bytes);
        const t0 = performance.now();
        const e = await exercise(f);
        if (e !== undefined) expect(e, `${name} round ${round}: ${String(e)}`).toBeInstanceOf(FormatError);
        expect(performance.now() - t0).toBeLessThan(2000);
      }
    }
  });
});
