// duster's symbolizer against addr2line (gcc builds) and llvm-symbolizer (all builds) on the
// reference kernel: every 4th address of .text, inline chains included.
import { beforeAll, describe, expect, it } from 'vitest';
import { symbolizeCommand } from '../../src/cli/commands/symbolize.js';
import { SymbolFile } from '../../symbols/index.js';
import { build, buildFixtures, run } from './oracle.js';

beforeAll(buildFixtures);

async function textAddresses(elf: string, step: number): Promise<string[]> {
  const sf = await SymbolFile.open(elf);
  const text = sf.elf.section('.text')!;
  sf.close();
  const out: string[] = [];
  for (let a = text.addr; a < text.addr + BigInt(text.size); a += BigInt(step)) out.push('0x' + a.toString(16));
  return out;
}

async function ours(elf: string, addrs: string[]): Promise<string[]> {
  const chunks: string[] = [];
  await symbolizeCommand(['-e', elf, '-a', '-f', '-i', ...addrs], { stdout: (s) => chunks.push(s), stderr: (s) => chunks.push(s) });
  return splitRecords(chunks.join(''));
}

function splitRecords(text: string): string[] {
  return text
    .split(/^0x[0-9a-f]+\n/m)
    .slice(1)
    .map((s) => s.trimEnd());
}

/** llvm-symbolizer's records in addr2line's layout (no columns, discriminators dropped on both sides). */
function llvm(elf: string, addrs: string[]): string[] {
  const text = run('llvm-symbolizer', ['--obj=' + elf, '--inlining', ...addrs]);
  return text
    .trimEnd()
    .split('\n\n')
    .map((rec) =>
      rec
        .split('\n')
        .map((l, i) => (i % 2 === 1 ? l.replace(/:(\d+):\d+$/, ':$1').replace(/:0$/, ':?') : l))
        .join('\n'),
    );
}

function agreement(
  a: string[],
  b: string[],
  same2: (x: string, y: string) => boolean = (x, y) => x === y,
): { rate: number; first?: string } {
  let same = 0;
  let first: string | undefined;
  a.forEach((x, i) => {
    if (same2(x, b[i]!)) same++;
    else first ??= `ours:\n${x}\noracle:\n${b[i]}`;
  });
  return { rate: same / a.length, first };
}

/**
 * Same frames, discriminators aside; where llvm-symbolizer has no function (padding between
 * functions) we name the preceding ELF symbol as addr2line does, so "??" matches any name there.
 */
function llvmSame(ours: string, theirs: string): boolean {
  const a = ours.replace(/ \(discriminator \d+\)/g, '').split('\n');
  const b = theirs.split('\n');
  return a.length === b.length && a.every((l, i) => l === b[i] || (i % 2 === 0 && b[i] === '??'));
}

describe('symbolize vs oracles', () => {
  for (const variant of ['gcc-O0', 'gcc-O2', 'clang-O2']) {
    it(`${variant}: agrees with llvm-symbolizer on every 4th .text address`, async () => {
      const elf = build(variant);
      const addrs = await textAddresses(elf, 4);
      const mine = await ours(elf, addrs);
      const r = agreement(mine, llvm(elf, addrs), llvmSame);
      expect(r.rate, r.first).toBeGreaterThanOrEqual(0.99);
    });
  }

  it('gcc-O2: agrees with addr2line -f -i byte for byte (discriminators included)', async () => {
    const elf = build('gcc-O2');
    const addrs = await textAddresses(elf, 4);
    const mine = await ours(elf, addrs);
    const a2l = splitRecords(run('addr2line', ['-f', '-i', '-a', '-e', elf, ...addrs]));
    const r = agreement(mine, a2l);
    expect(r.rate, r.first).toBeGreaterThanOrEqual(0.98);
  });

  it('every function entry of the -O2 build symbolizes exactly as addr2line does', async () => {
    const elf = build('gcc-O2');
    const sf = await SymbolFile.open(elf);
    const addrs = sf.elf.symbols.sorted.filter((s) => s.type === 2).map((s) => '0x' + s.address.toString(16));
    sf.close();
    const mine = await ours(elf, addrs);
    const a2l = splitRecords(run('addr2line', ['-f', '-i', '-a', '-e', elf, ...addrs]));
    const r = agreement(mine, a2l);
    expect(r.rate, r.first).toBe(1);
  });

  it('reads addresses from stdin when none are given', async () => {
    const out: string[] = [];
    async function* input() {
      yield ['0x100000', 'zzz'];
    }
    const code = await symbolizeCommand(['-e', build('gcc-O0'), '-f'], {
      stdout: (s) => out.push(s),
      stderr: (s) => out.push(s),
      stdin: input(),
    });
    expect(code).toBe(0);
    expect(out.join('')).toBe('??\n??:0\n??\n??:0\n');
  });
});
