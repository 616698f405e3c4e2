// .debug_names of the clang build made with -gpubnames (one index per unit, concatenated by ld),
// against llvm-dwarfdump's reading of the same section, and against the DIEs the entries name.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DebugNames, namesHash } from '../../symbols/dwarf/debug-names.js';
import { sizeOf, SymbolFile } from '../../symbols/index.js';
import { FormatError } from '../../symbols/reader.js';

const elf = path.resolve(import.meta.dirname, '../../fixtures/unikernel/build/clang-O2-names/kernel.elf');

/** `name tag die` for every entry llvm-dwarfdump prints, DIE offsets made absolute. */
function llvmEntries(): string[] {
  const out: string[] = [];
  const text = execFileSync('llvm-dwarfdump', ['--debug-names', elf], { encoding: 'utf8', maxBuffer: 1 << 26 });
  for (const index of text.split(/^ *Name Index @/m).slice(1)) {
    const units = [...index.matchAll(/^ +CU\[\d+\]: (0x[0-9a-f]+)$/gm)].map((m) => Number(m[1]));
    for (const name of index.split(/^ +Name \d+ \{$/m).slice(1)) {
      const str = /String: 0x[0-9a-f]+ "(.*)"$/m.exec(name)![1]!;
      for (const entry of name.split(/^ +Entry @/m).slice(1)) {
        const tag = /Tag: (DW_TAG_\w+)/.exec(entry)![1]!;
        const cu = Number(/DW_IDX_compile_unit: (0x[0-9a-f]+)/.exec(entry)?.[1] ?? 0);
        const die = Number(/DW_IDX_die_offset: (0x[0-9a-f]+)/.exec(entry)![1]);
        out.push(`${str} ${tag} 0x${(units[cu]! + die).toString(16)}`);
      }
    }
  }
  return out.sort();
}

const TAGS: Record<number, string> = {
  0x2e: 'DW_TAG_subprogram',
  0x1d: 'DW_TAG_inlined_subroutine',
  0x34: 'DW_TAG_variable',
  0x16: 'DW_TAG_typedef',
  0x24: 'DW_TAG_base_type',
  0x13: 'DW_TAG_structure_type',
  0x04: 'DW_TAG_enumeration_type',
  0x17: 'DW_TAG_union_type',
};

describe('.debug_names (clang -gpubnames, indexes concatenated by ld)', () => {
  let sf: SymbolFile;
  let names: DebugNames;
  let section: Uint8Array;
  const str = (off: number) => sf.dwarf.string('.debug_str', off);
  beforeAll(async () => {
    sf = await SymbolFile.open(elf);
    section = sf.dwarf.section('.debug_names');
    names = new DebugNames(section, str);
  });
  afterAll(() => sf.close());

  it('reads every entry llvm-dwarfdump reads', () => {
    const mine = [...names.all()].flatMap(([n, es]) => es.map((e) => `${n} ${TAGS[e.tag] ?? e.tag} 0x${e.dieOffset.toString(16)}`)).sort();
    const theirs = llvmEntries();
    expect(theirs.length).toBeGreaterThan(300);
    expect(mine).toEqual(theirs);
  });

  it('finds each name through the hash tables, with entries naming DIEs of that name in the units listed', () => {
    const byName = new Map<string, string[]>();
    for (const [n, es] of names.all()) byName.set(n, [...(byName.get(n) ?? []), ...es.map((e) => `${e.tag}@${e.dieOffset}`)]);
    const units = names.units;
    expect(units.size).toBeGreaterThan(5);
    for (const [n, expected] of byName) {
      const found = names.lookup(n);
      expect([n, found.map((e) => `${e.tag}@${e.dieOffset}`).sort()]).toEqual([n, expected.sort()]);
      for (const e of found) {
        expect(units.has(e.unitOffset)).toBe(true);
        const die = sf.dwarf.dieAt(e.dieOffset)!;
        expect([n, die.tag, die.resolvedName]).toEqual([n, e.tag, n]);
      }
    }
    expect(names.lookup('worker_step').map((e) => e.tag)).toContain(0x2e);
    expect(names.lookup('no_such_name_here')).toEqual([]);
  });

  it('hashes as the section does (case-folded DJB)', () => {
    expect(namesHash('ap_online')).toBe(0x0ddd357a);
    expect(namesHash('AP_ONLINE')).toBe(namesHash('ap_online'));
  });

  it('rejects truncated and inconsistent sections with a FormatError naming .debug_names', () => {
    for (const cut of [3, 20, 40, 100, section.length - 1]) {
      expect(() => {
        const n = new DebugNames(section.subarray(0, cut), str);
        for (const _ of n.all());
      }).toThrow(FormatError);
    }
    const huge = Uint8Array.from(section);
    new DataView(huge.buffer).setUint32(24, 0x7fffffff, true); // name count of the first index
    expect(() => new DebugNames(huge, str)).toThrow(/\.debug_names: name index tables .* do not fit/);
  });
});

describe('lookups by name through .debug_names', () => {
  it('find what the same build without the index finds, searching only the units the index does not cover', async () => {
    const plainElf = path.resolve(import.meta.dirname, '../../fixtures/unikernel/build/clang-O2/kernel.elf');
    const withIndex = await SymbolFile.open(elf);
    const plain = await SymbolFile.open(plainElf);
    try {
      const covered = withIndex.dwarf.nameIndex!.units;
      const searched: Array<[number, number]> = [];
      const find = withIndex.dwarf.findBytes.bind(withIndex.dwarf);
      withIndex.dwarf.findBytes = (name, needles, from = 0, to = Infinity) => {
        if (name === '.debug_info') searched.push([from, to]);
        return find(name, needles, from, to);
      };
      const symbols = execFileSync('readelf', ['-sW', elf], { encoding: 'utf8' });
      const named = (type: string) => [
        ...new Set(
          [...symbols.matchAll(new RegExp(`^\\s*\\d+: [0-9a-f]+\\s+\\d+ ${type}\\s+\\w+\\s+\\w+\\s+\\d+ (\\w+)$`, 'gm'))].map((m) => m[1]!),
        ),
      ];
      const functions = named('FUNC');
      const objects = named('OBJECT');
      expect(functions.length).toBeGreaterThan(50);
      for (const n of functions) expect([n, withIndex.functionEntries(n)]).toEqual([n, plain.functionEntries(n)]);
      for (const n of objects) expect([n, withIndex.findGlobal(n)?.type.kind]).toEqual([n, plain.findGlobal(n)?.type.kind]);
      for (const t of ['struct thread', 'struct worker_state', 'binary_op', 'enum color', 'unsigned long', 'spinlock_t'])
        expect([t, sizeOf(withIndex.findType(t)!)]).toEqual([t, sizeOf(plain.findType(t)!)]);
      expect(sizeOf(withIndex.findType('struct thread')!)).toBeGreaterThan(0);
      // Only units without an index of their own (the assembly files') were searched.
      expect(searched.length).toBeGreaterThan(0);
      for (const [from, to] of searched)
        for (const u of withIndex.dwarf.compileUnits) if (u.offset >= from && u.offset < to) expect(covered.has(u.offset)).toBe(false);
    } finally {
      withIndex.close();
      plain.close();
    }
  });
});
