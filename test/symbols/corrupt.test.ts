// Truncated and garbled input ends in a typed error (FormatError), quickly, never a TypeError or a hang.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FormatError, SymbolFile } from '../../symbols/index.js';
import { build, buildFixtures } from './oracle.js';

let dir: string;
let elf: Buffer;
beforeAll(() => {
  buildFixtures();
  dir = mkdtempSync(path.join(tmpdir(), 'duster-corrupt-'));
  elf = readFileSync(build('gcc-O2'));
});

/** Runs every query over a file; returns the error, if any. */
async function exercise(file: string): Promise<unknown> {
  try {
    const sf = await SymbolFile.open(file);
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
  it('a truncated ELF fails with a FormatError at every cut', async () => {
    for (const cut of [0, 10, 63, 100, 0x1000, 0x6100, 0xbd00, 0xfb00, elf.length - 10]) {
      const f = path.join(dir, `cut-${cut}`);
      writeFileSync(f, elf.subarray(0, cut));
      const e = await exercise(f);
      expect(e, `cut at ${cut}`).toBeInstanceOf(FormatError);
    }
  });

  it('garbage in .debug_info, .debug_abbrev, .debug_line gives a FormatError or a clean answer, fast', async () => {
    const sections = { '.debug_info': 0x60ac, '.debug_abbrev': 0xbcc2, '.debug_line': 0xfaea };
    let seed = 1;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (const [name, off] of Object.entries(sections)) {
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

  it('the section offsets used above are where this build puts them', async () => {
    const f = path.join(dir, 'copy');
    copyFileSync(build('gcc-O2'), f);
    const sf = await SymbolFile.open(f);
    expect(sf.elf.section('.debug_info')!.offset).toBe(0x60ac);
    expect(sf.elf.section('.debug_abbrev')!.offset).toBe(0xbcc2);
    expect(sf.elf.section('.debug_line')!.offset).toBe(0xfaea);
    sf.close();
  });
});
