// Our CFI rows against readelf --debug-dump=frames-interp, for every FDE of the reference
// unikernel builds (.eh_frame) and of small programs built with .debug_frame in several DWARF
// flavours (CIE versions 1/3/4, 64-bit DWARF).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CfiTable,
  fdeRows,
  parseFrameSection,
  rowAt,
  type Fde,
  type FrameSectionInput,
  type RegisterRule,
  type UnwindRow,
} from '../../symbols/cfi/index.js';
import { x86_64RegisterName } from '../../symbols/expr/index.js';

const root = path.resolve(import.meta.dirname, '../../fixtures/unikernel');
const elf = (build: string) => path.join(root, 'build', build, 'kernel.elf');

/** A section's bytes and address, located with readelf (test-only: the ELF reader lives elsewhere). */
function section(file: string, name: string): FrameSectionInput | undefined {
  const out = execFileSync('readelf', ['-S', '-W', file], { encoding: 'utf8' });
  const m = new RegExp(`\\]\\s+${name.replace('.', '\\.')}\\s+\\S+\\s+([0-9a-f]+) ([0-9a-f]+) ([0-9a-f]+)`).exec(out);
  if (!m) return undefined;
  const off = parseInt(m[2]!, 16);
  return { bytes: new Uint8Array(readFileSync(file).subarray(off, off + parseInt(m[3]!, 16))), address: BigInt(`0x${m[1]}`) };
}

interface ReadelfFde {
  offset: number;
  start: bigint;
  end: bigint;
  columns: string[];
  rows: Array<{ loc: bigint; cells: string[] }>;
}

function readelfFrames(file: string, sectionName: string): ReadelfFde[] {
  const out = execFileSync('readelf', ['--debug-dump=frames-interp', file], { encoding: 'utf8' });
  const part = out.split(/^Contents of the /m).find((p) => p.startsWith(`${sectionName} section`)) ?? '';
  const fdes: ReadelfFde[] = [];
  let cur: ReadelfFde | undefined;
  for (const line of part.split('\n')) {
    const f = /^([0-9a-f]+) [0-9a-f]+ [0-9a-f]+ FDE cie=[0-9a-f]+ pc=([0-9a-f]+)\.\.([0-9a-f]+)/.exec(line);
    if (f) {
      cur = { offset: parseInt(f[1]!, 16), start: BigInt(`0x${f[2]}`), end: BigInt(`0x${f[3]}`), columns: [], rows: [] };
      fdes.push(cur);
    } else if (/^[0-9a-f]+ [0-9a-f]+ [0-9a-f]+ CIE/.test(line)) {
      cur = undefined;
    } else if (cur && /^\s+LOC\s+CFA/.test(line)) {
      cur.columns = line.trim().split(/\s+/).slice(2);
    } else if (cur && /^[0-9a-f]{8,} /.test(line)) {
      const [loc, ...cells] = line.trim().split(/\s+/);
      cur.rows.push({ loc: BigInt(`0x${loc}`), cells });
    }
  }
  return fdes;
}

const registerNumber = new Map(Array.from({ length: 67 }, (_, i) => [x86_64RegisterName(i), i]));

function formatRule(rule: RegisterRule | undefined): string {
  switch (rule?.kind) {
    case undefined:
    case 'undefined':
      return 'u';
    case 'same-value':
      return 's';
    case 'offset':
      return `c${rule.offset >= 0 ? '+' : ''}${rule.offset}`;
    case 'val-offset':
      return `v${rule.offset >= 0 ? '+' : ''}${rule.offset}`;
    case 'register':
      return x86_64RegisterName(rule.reg);
    case 'expression':
      return 'exp';
    case 'val-expression':
      return 'vexp';
  }
}

/** Our row in readelf's cells: the CFA, then each column readelf shows. */
function cells(row: UnwindRow, columns: string[], fde: Fde): string[] {
  const cfa =
    row.cfa?.kind === 'register'
      ? `${x86_64RegisterName(row.cfa.reg)}${row.cfa.offset >= 0 ? '+' : ''}${row.cfa.offset}`
      : row.cfa
        ? 'exp'
        : 'undefined';
  return [cfa, ...columns.map((c) => formatRule(row.registers.get(c === 'ra' ? fde.cie.returnAddressRegister : registerNumber.get(c)!)))];
}

function compareWithReadelf(file: string, kind: 'eh_frame' | 'debug_frame'): { fdes: number; rows: number } {
  const input = section(file, `.${kind}`)!;
  const ours = parseFrameSection({ ...input, kind, addressSize: 8 }).fdes;
  const theirs = readelfFrames(file, `.${kind}`);
  expect(ours.map((f) => [f.offset, f.start, f.end])).toEqual(theirs.map((f) => [f.offset, f.start, f.end]));
  let rows = 0;
  ours.forEach((fde, i) => {
    const ref = theirs[i]!;
    if (ref.rows.length === 0) return; // readelf prints no table for an FDE without instructions
    // Every register we have a rule for is a column readelf shows.
    for (const row of fdeRows(fde)) {
      for (const reg of row.registers.keys()) {
        expect(ref.columns.map((c) => (c === 'ra' ? fde.cie.returnAddressRegister : registerNumber.get(c)))).toContain(reg);
      }
    }
    expect(fdeRows(fde).map((r) => r.start)).toEqual(ref.rows.map((r) => r.loc));
    for (const { loc, cells: want } of ref.rows) {
      expect({ loc, cells: cells(rowAt(fde, loc), ref.columns, fde) }).toEqual({ loc, cells: want });
      rows++;
    }
  });
  return { fdes: ours.length, rows };
}

beforeAll(() => {
  execFileSync('make', ['-s', '-C', root]);
});

describe.each(['gcc-O0', 'gcc-O2', 'clang-O2'])('.eh_frame of the %s unikernel', (build) => {
  it('has every FDE readelf lists, with the same rows', () => {
    const { fdes, rows } = compareWithReadelf(elf(build), 'eh_frame');
    expect(fdes).toBeGreaterThan(100);
    expect(rows).toBeGreaterThan(100);
  });

  it('finds the FDE of every function symbol by address', () => {
    const input = section(elf(build), '.eh_frame')!;
    const table = new CfiTable({ ehFrame: input });
    const syms = execFileSync('nm', ['--defined-only', elf(build)], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.split(' '))
      .filter((p) => p[1] === 'T' || p[1] === 't');
    let found = 0;
    for (const [addr, , name] of syms) {
      const fde = table.findFde(BigInt(`0x${addr}`));
      if (fde) {
        expect(fde.start <= BigInt(`0x${addr}`)).toBe(true);
        found++;
      } else {
        // Only the 32-bit boot code and the real-mode AP trampoline have no CFI.
        expect(name).toMatch(/^(_start|pvh_|ap_|enable_long_mode|gdt|boot|start32|ap_tramp)/);
      }
    }
    expect(found).toBeGreaterThan(80);
  });
});

describe('.debug_frame', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'duster-cfi-'));
    writeFileSync(
      path.join(dir, 'f.c'),
      [
        'long g(long);',
        'long f(long a, long b) { long x[8]; for (int i = 0; i < 8; i++) x[i] = g(a + i); return x[b & 7] + g(b); }',
        'long h(long *p) { return p[0] + g(p[1]) + g(p[2]); }',
        'void _start(void) { for (;;) f(1, 2); }',
        'long g(long v) { return v * 3; }',
      ].join('\n'),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const gcc = ['gcc', '-nostdlib', '-static', '-fno-pie', '-no-pie'];
  const clang = ['clang', '--target=x86_64-unknown-none-elf', '-nostdlib', '-static', '-fno-pie', '-fuse-ld=lld'];
  it.each([
    ['gcc, CIE version 1', [...gcc, '-gdwarf-4'], 1],
    ['gcc -O2, CIE version 1', [...gcc, '-O2', '-gdwarf-5'], 1],
    ['clang, CIE version 3', [...clang, '-gdwarf-3'], 3],
    ['clang, CIE version 4', [...clang, '-gdwarf-4'], 4],
    ['clang, CIE version 4, 64-bit DWARF', [...clang, '-gdwarf-5', '-gdwarf64'], 4],
  ])('matches readelf for %s', (_label, [cc, ...flags], version) => {
    const out = path.join(dir, `f${flags.join('')}.elf`);
    execFileSync(cc!, [
      ...flags,
      '-fno-asynchronous-unwind-tables',
      '-fno-unwind-tables',
      '-fno-omit-frame-pointer',
      '-o',
      out,
      path.join(dir, 'f.c'),
    ]);
    expect(section(out, '.eh_frame')).toBeUndefined();
    const { fdes, rows } = compareWithReadelf(out, 'debug_frame');
    expect(fdes).toBe(4);
    expect(rows).toBeGreaterThan(0);
    const debugFrame = section(out, '.debug_frame')!;
    expect(parseFrameSection({ ...debugFrame, kind: 'debug_frame', addressSize: 8 }).cies.map((c) => c.version)).toEqual([version]);
    const table = new CfiTable({ debugFrame });
    const fStart = BigInt(`0x${execFileSync('nm', [out], { encoding: 'utf8' }).match(/^([0-9a-f]+) T f$/m)![1]}`);
    expect(table.findFde(fStart)?.start).toBe(fStart);
  });
});
