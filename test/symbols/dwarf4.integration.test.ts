// A small C file compiled with -gdwarf-4 and -gdwarf-5 (and compressed debug sections): lines,
// types with DWARF 4 DW_AT_bit_offset bitfields, .debug_ranges/.debug_loc, against gdb and addr2line.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ptype, SymbolFile } from '../../symbols/index.js';
import { againstAddr2line, gdbEach } from './oracle.js';

const SRC = `
struct bits { unsigned a : 3; unsigned b : 5; int c : 7; unsigned long d; };
typedef void (*cb_t)(int);
struct bits g_bits = { 1, 2, 3, 4 };
int matrix[2][3];
cb_t g_cb;
static int helper(int x) { int y = x * 3; return y + g_bits.a; }
int __attribute__((noinline)) work(int n) {
  int total = 0;
  for (int i = 0; i < n; i++) { int sq = i * i; total += helper(sq); }
  return total;
}
int main(int argc, char **argv) { (void)argv; return work(argc); }
`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'duster-dwarf4-'));
  writeFileSync(path.join(dir, 't.c'), SRC);
  for (const [name, flags] of [
    ['d4', ['-gdwarf-4', '-O2']],
    ['d5', ['-gdwarf-5', '-O2']],
    ['d4z', ['-gdwarf-4', '-O0', '-gz=zlib']],
  ] as const) {
    execFileSync('gcc', [...flags, '-o', path.join(dir, name), path.join(dir, 't.c')]);
  }
});

describe('DWARF 4 and 5 from a small program', () => {
  for (const name of ['d4', 'd5', 'd4z']) {
    it(`${name}: types match gdb ptype, symbolization matches addr2line`, async () => {
      const elf = path.join(dir, name);
      const sf = await SymbolFile.open(elf);
      const types = ['struct bits', 'cb_t'];
      const gdb = (
        await gdbEach(
          elf,
          types.map((t) => `ptype ${t}`),
        )
      ).map((s) => s.replace(/^type = /, '').trimEnd());
      expect(types.map((t) => ptype(sf.findType(t)!))).toEqual(gdb);
      const bits = sf.findType('struct bits')!;
      expect(bits.kind === 'struct' && bits.members.map((m) => [m.name, m.bitOffset, m.bitSize])).toEqual([
        ['a', 0, 3],
        ['b', 3, 5],
        ['c', 8, 7],
        ['d', undefined, undefined],
      ]);

      const { count, mine, theirs } = againstAddr2line(sf, elf, 3n);
      expect(count).toBeGreaterThan(5);
      expect(mine).toBe(theirs);

      const work = sf.functionEntries('work');
      const scopes = sf.scopesAt(work[0]!);
      expect(scopes[0]!.variables.map((v) => `${v.kind} ${v.name}`)).toEqual(expect.arrayContaining(['arg n', 'local total']));
      expect(sf.findGlobal('matrix')!.type).toMatchObject({ kind: 'array', dims: [2, 3] });
      sf.close();
    });
  }
});
