// Which ELF symbol names an address, against gdb 13 (`print (void *) A` and `info symbol A`): only
// a symbol of the section holding the address, never an absolute one, an unsized one only in code.
// Addresses around every section's bounds and many symbols' (absolute ones included), and outside
// every section; on the three reference builds and on Debian's vmlinux (fetched by the test setup).
import { beforeAll, describe, expect, it } from 'vitest';
import { SHF, SHN } from '../../symbols/elf/index.js';
import { SymbolFile } from '../../symbols/index.js';
import { vmlinux } from '../support/vmlinux.js';
import { build, buildFixtures, gdbEach } from './oracle.js';

beforeAll(buildFixtures);

/** Addresses where the rules differ: section and symbol bounds, absolute symbols, gaps. */
function probes(sf: SymbolFile, symbolStep: number): bigint[] {
  const out = new Set<bigint>([0n, 0x1000n, 0x3143480n]);
  for (const s of sf.elf.sections) {
    if ((s.flags & SHF.ALLOC) === 0n) continue;
    const end = s.addr + BigInt(s.size);
    for (const a of [s.addr, s.addr + 1n, end - 1n, end, end + 0x10n]) out.add(a);
  }
  const table = sf.elf.symbols.sorted;
  const absolute = new Set(table.filter((s) => s.shndx === SHN.ABS));
  table.forEach((s, i) => {
    if (i % symbolStep !== 0 && !absolute.has(s)) return;
    for (const a of [s.address, s.address + 3n, s.address + s.size, s.address + s.size + 8n]) out.add(a);
  });
  return [...out].filter((a) => a >= 0n && a < 1n << 64n).sort((a, b) => (a < b ? -1 : 1));
}

/**
 * gdb shows an ELF symbol's name decoded ("foo.isra.0" as "foo.isra", "a__b" as "a.b", "f.cold" as
 * "f[cold]"), and names code by its DWARF function where one holds it (a cold part as f+offset):
 * names are compared up to such a suffix, and code in such symbols by `info symbol` alone.
 */
const plain = (name: string) => name.split(/\.|__|\[/)[0];

async function compare(elf: string, sf: SymbolFile, addrs: bigint[]): Promise<void> {
  const hex = (a: bigint) => `0x${a.toString(16)}`;
  const outs = await gdbEach(
    elf,
    addrs.flatMap((a) => [`print (void *) ${hex(a)}`, `info symbol ${hex(a)}`]),
  );
  const mine: string[] = [];
  const theirs: string[] = [];
  addrs.forEach((a, i) => {
    const named = sf.addressSymbol(a);
    const min = sf.minimalSymbolAt(a);
    const decorated = min !== undefined && plain(min.symbol.name) !== min.symbol.name && (min.section.flags & SHF.EXECINSTR) !== 0n;
    const print = (name: string | undefined, offset: string | undefined) =>
      decorated ? '' : `print${name ? ` <${plain(name)}${offset ? `+${offset}` : ''}>` : ''}; `;
    const info = (name: string | undefined, rest = '') => `info symbol ${name ? `${plain(name)}${rest}` : 'none'}`;
    mine.push(
      `${hex(a)}: ${print(named?.symbol.name, named?.offset ? String(named.offset) : undefined)}${info(min?.symbol.name, `${min?.offset ? ` + ${min.offset}` : ''} in section ${min?.section.name}`)}`,
    );
    const suffix = / <([^>+]*)(?:\+(\d+))?>\n?$/.exec(outs[2 * i]!);
    // gdb names every section that holds the address; the first is the one it reads from.
    const sym = /^(\S+)( \+ \d+)?( in section \S+)$/m.exec(outs[2 * i + 1]!);
    theirs.push(`${hex(a)}: ${print(suffix?.[1], suffix?.[2])}${info(sym?.[1], `${sym?.[2] ?? ''}${sym?.[3]}`)}`);
  });
  expect(mine).toEqual(theirs);
}

describe('the symbol an address is named by, vs gdb', () => {
  for (const variant of ['gcc-O0', 'gcc-O2', 'clang-O2']) {
    it(variant, async () => {
      const elf = build(variant);
      const sf = await SymbolFile.open(elf);
      await compare(elf, sf, probes(sf, 1));
      sf.close();
    });
  }

  it("Debian's vmlinux (absolute symbols such as phys_startup_64, per-CPU data at 0)", async () => {
    const elf = vmlinux();
    const sf = await SymbolFile.open(elf);
    const addrs = probes(sf, 997);
    expect(addrs.length).toBeGreaterThan(500);
    await compare(elf, sf, addrs);
    sf.close();
  }, 120_000);
});
