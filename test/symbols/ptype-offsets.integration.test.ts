// `ptype /o` against gdb 13: offsets, sizes, holes, padding and expanded members, on the
// reference unikernel's types and on a layout file made to have every case (bit holes, unnamed
// bitfields, anonymous and const members, typedef'd ones gdb does not expand, arrays of structs),
// built by gcc with DWARF 4 and 5 (their bitfield numberings differ) and by clang.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ptypeOffsets, SymbolFile } from '../../symbols/index.js';
import { build, buildFixtures, gdbEach } from './oracle.js';

const SRC = `
typedef struct { int a; char b; } pair_t;
struct inner { char c; long l; };
struct bits { unsigned a : 3; unsigned : 5; unsigned b : 2; char x; unsigned c : 20; long tail; };
struct outer {
  char first;
  struct inner in;
  pair_t pr;
  const struct inner cin;
  union { int i; char ch[6]; } anon_u;
  struct { short s; } anon_s;
  union { long whole; struct { int lo, hi; }; };
  struct inner arr[2];
  struct bits bf;
  void (*fn)(int);
  char last;
};
union mixed { struct bits b; struct inner in; char raw[3]; };
struct outer o;
union mixed m;
struct inner *ip;
int main(void) { return 0; }
`;

let dir: string;
beforeAll(() => {
  buildFixtures();
  dir = mkdtempSync(path.join(tmpdir(), 'duster-ptype-o-'));
  writeFileSync(path.join(dir, 'layout.c'), SRC);
  for (const [name, cc, flags] of [
    ['gcc4', 'gcc', ['-gdwarf-4']],
    ['gcc5', 'gcc', ['-gdwarf-5']],
    ['clang', 'clang', ['-gdwarf-5']],
  ] as const) {
    execFileSync(cc, [...flags, '-O0', '-o', path.join(dir, name), path.join(dir, 'layout.c')]);
  }
});

async function compare(elf: string, names: string[]): Promise<void> {
  const sf = await SymbolFile.open(elf);
  try {
    const gdb = (
      await gdbEach(
        elf,
        names.map((n) => `ptype /o ${n}`),
      )
    ).map((s) => s.trimEnd());
    const mine = names.map((n) => ptypeOffsets(sf.findType(n) ?? sf.findGlobal(n)!.type));
    expect(names.map((n, i) => `${n}\n${mine[i]}`)).toEqual(names.map((n, i) => `${n}\n${gdb[i]}`));
  } finally {
    sf.close();
  }
}

describe('ptype /o vs gdb', () => {
  for (const name of ['gcc4', 'gcc5', 'clang']) {
    it(`every layout case (${name})`, async () => {
      await compare(path.join(dir, name), ['struct outer', 'struct bits', 'struct inner', 'union mixed', 'pair_t', 'o', 'm', 'ip']);
    });
  }

  it('the reference unikernel types (gcc-O0, clang-O2)', async () => {
    const names = [
      'struct config',
      'union value',
      'struct flags',
      'struct thread',
      'struct worker_state',
      'struct percpu',
      'struct ring',
      'struct rect',
      'spinlock_t',
      'int',
    ];
    for (const variant of ['gcc-O0', 'clang-O2']) await compare(build(variant), names);
  });
});
