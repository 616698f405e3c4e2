// Breakpoint placement, types and scopes against gdb 13 on the reference kernel.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ptype, SymbolFile, typeName } from '../../symbols/index.js';
import { vmlinux } from '../support/vmlinux.js';
import { build, buildFixtures, gdbEach, root } from './oracle.js';

beforeAll(buildFixtures);

async function gdbBreaks(elf: string, specs: string[]): Promise<string[]> {
  const outs = await gdbEach(elf, [...specs.map((s) => `break ${s}`), 'info breakpoints']);
  const info = outs[specs.length]!;
  return specs.map((_, i) => {
    const n = /Breakpoint (\d+) at/.exec(outs[i]!)?.[1];
    const addrs = [...info.matchAll(new RegExp(`^${n}(?:\\.\\d+)?\\s+(?:breakpoint\\s+keep\\s+)?y\\s+(0x[0-9a-f]+)`, 'gm'))].map((m) =>
      BigInt(m[1]!),
    );
    return addrs
      .sort((a, b) => (a < b ? -1 : 1))
      .map((a) => a.toString(16))
      .join(',');
  });
}

const hex = (xs: bigint[]) =>
  [...xs]
    .sort((a, b) => (a < b ? -1 : 1))
    .map((a) => a.toString(16))
    .join(',');

describe('breakpoint placement vs gdb', () => {
  const lines = [
    'app_demo.c:158',
    'app_demo.c:100',
    'app_demo.c:105',
    'sched.c:50',
    'sched.c:120',
    'kernel.h:120',
    'console.c:58',
    'app_demo.c:1',
    'app_demo.c:135',
  ];
  for (const variant of ['gcc-O0', 'gcc-O2', 'clang-O2']) {
    it(`${variant}: FILE:LINE (inlined copies, lines without code)`, async () => {
      const elf = build(variant);
      const sf = await SymbolFile.open(elf);
      const mine = lines.map((l) => {
        const [f, n] = l.split(':');
        return hex(sf.lineToAddresses(f!, Number(n)).map((m) => m.address));
      });
      expect(mine).toEqual(await gdbBreaks(elf, lines));
    });
  }

  it('every line of every source file, in all three builds (gdb files rows by source file: a file switch at an address deletes the rows there)', async () => {
    const src = path.join(root, 'fixtures/unikernel/src');
    const specs = readdirSync(src)
      .filter((f) => /\.[ch]$/.test(f))
      .flatMap((f) =>
        readFileSync(path.join(src, f), 'utf8')
          .split('\n')
          .map((_, i) => `${f}:${i + 1}`),
      );
    for (const variant of ['gcc-O0', 'gcc-O2', 'clang-O2']) {
      const elf = build(variant);
      const sf = await SymbolFile.open(elf);
      const mine = specs.map((l) => {
        const [f, n] = l.split(':');
        return hex(sf.lineToAddresses(f!, Number(n)).map((m) => m.address));
      });
      const theirs = await gdbBreaks(elf, specs);
      const differ = specs.flatMap((spec, i) => (mine[i] === theirs[i] ? [] : [`${spec}: ${mine[i]} vs gdb ${theirs[i]}`]));
      expect(differ, variant).toEqual([]);
      sf.close();
    }
  });

  it('every function (concrete copies after their prologue, inlined copies, assembly by symbol), in all three builds', async () => {
    for (const variant of ['gcc-O0', 'gcc-O2', 'clang-O2']) {
      const elf = build(variant);
      const sf = await SymbolFile.open(elf);
      const symbols = sf.elf.symbols.sorted.filter((s) => s.type === 2).map((s) => s.name);
      const names = [...new Set([...sf.names.functionNames(), ...symbols])].sort();
      expect(names.length, variant).toBeGreaterThan(80);
      const mine = names.map((n) => hex(sf.functionEntries(n)));
      const theirs = await gdbBreaks(elf, names);
      const differ = names.flatMap((name, i) => (mine[i] === theirs[i] ? [] : [`${name}: ${mine[i]} vs gdb ${theirs[i]}`]));
      expect(differ, variant).toEqual([]);
      sf.close();
    }
  });

  // Names whose string offset is also other values' bytes in many units (start_kernel: 56 units
  // hold them, 2 name it), static inline functions with thousands of inlined copies.
  // __schedule and do_one_initcall set up a frame (push %rbp) that gdb does not skip: their units
  // have location lists, so gdb trusts their locations from the entry on.
  it("Debian's vmlinux: functions and inline functions by name", async () => {
    const elf = vmlinux();
    const names = [
      'start_kernel',
      'schedule',
      '__schedule',
      'do_one_initcall',
      'copy_process',
      'list_add',
      'kmalloc',
      'get_current',
      'native_save_fl',
      'memblock_add',
      'arch_local_irq_save',
      'cpumask_weight',
      'refcount_inc',
    ];
    const sf = await SymbolFile.open(elf);
    const mine = names.map((n) => hex(sf.functionEntries(n)));
    expect(mine.map((m) => m.split(',').length)).toEqual(expect.arrayContaining([1, 572]));
    expect(mine).toEqual(await gdbBreaks(elf, names));
    sf.close();
  }, 300_000);
});

describe('types vs gdb ptype/whatis', () => {
  it('gcc-O0 and clang-O2: structs, unions, enums, bitfields, arrays, function pointers', async () => {
    for (const variant of ['gcc-O0', 'clang-O2']) {
      const elf = build(variant);
      const sf = await SymbolFile.open(elf);
      const names = [
        'struct config',
        'union value',
        'enum color',
        'struct flags',
        'struct thread',
        'struct worker_state',
        'binary_op',
        'spinlock_t',
        'struct percpu',
        'struct ring',
      ];
      const gdb = (
        await gdbEach(
          elf,
          names.map((n) => `ptype ${n}`),
        )
      ).map((s) => s.replace(/^type = /, '').trimEnd());
      expect(
        names.map((n) => ptype(sf.findType(n)!)),
        variant,
      ).toEqual(gdb);
    }
  });

  it('names of globals as whatis prints them', async () => {
    const elf = build('gcc-O0');
    const sf = await SymbolFile.open(elf);
    const globals = ['demo_config', 'origin', 'thread_list', 'percpu', 'demo_counter', 'ncpus'];
    const gdb = (
      await gdbEach(
        elf,
        globals.map((g) => `whatis ${g}`),
      )
    ).map((s) => s.replace(/^type = /, '').trim());
    expect(globals.map((g) => typeName(sf.findGlobal(g)!.type))).toEqual(gdb);
  });
});

describe('scopes vs gdb info scope', () => {
  it('variables visible at the start of functions (gcc-O0 and gcc-O2)', async () => {
    for (const variant of ['gcc-O0', 'gcc-O2']) {
      const elf = build(variant);
      const sf = await SymbolFile.open(elf);
      const fns = ['worker_step', 'tree_sum', 'kvsnprintf', 'thread_create', 'compute_checksum'].filter(
        (f) => sf.functionEntries(f).length > 0,
      );
      const gdb = await gdbEach(
        elf,
        fns.map((f) => `info scope ${f}`),
      );
      fns.forEach((f, i) => {
        const theirs = [...gdb[i]!.matchAll(/^Symbol (\w+) is/gm)].map((m) => m[1]).sort();
        const pc = sf.functionEntries(f)[0]!;
        const mine = (sf.scopesAt(pc)[0]?.variables ?? []).map((v) => v.name).sort();
        expect(mine, `${variant} ${f}`).toEqual(theirs);
      });
    }
  });
});
