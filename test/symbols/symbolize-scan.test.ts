// The symbolizer's raw DIE scan against addr2line on programs built for the cases it handles
// apart: GNU C nested functions (found when the enclosing function's body is scanned), C++
// methods inside classes and namespaces (scanned into, unlike C structs), clang's DIEs without
// DW_AT_sibling (bodies read during the unit scan), and an image linked at a kernel's
// 0xffffffff81000000 with garbage-collected functions left at address 0 (address keys), in
// DWARF 4 (.debug_ranges) and 5 (.debug_rnglists).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SymbolFile } from '../../symbols/index.js';
import { againstAddr2line } from './oracle.js';

const NESTED = `
static inline int sq(int x) { return x * x; }
int __attribute__((noinline)) outer(int n) {
  int acc = 0;
  int __attribute__((noinline)) inner(int k) { return sq(k) + acc + n; }
  for (int i = 0; i < n; i++) acc += inner(i);
  return acc;
}
int main(int argc, char **argv) { (void)argv; return outer(argc); }
`;

const METHODS = `
namespace ns {
struct Counter {
  int n = 0;
  __attribute__((noinline)) int bump(int k) { n += k; return n; }
  static inline int twice(int x) { return 2 * x; }
};
__attribute__((noinline)) int run(int k) { Counter c; for (int i = 0; i < k; i++) c.bump(Counter::twice(i)); return c.n; }
}
int main(int argc, char **) { return ns::run(argc); }
`;

const HIGH = `
static inline __attribute__((always_inline)) int twice(int x) { return 2 * x; }
static inline int add3(int a, int b, int c) { return twice(a) + b + c; }
int unused_function(int x) { return x * 7 + 1; }
volatile int sink;
int __attribute__((noinline)) compute(int n) { int t = 0; for (int i = 0; i < n; i++) t += add3(i, n, t); return t; }
void __attribute__((noinline)) start(void) { sink = compute(sink); for (;;) ; }
`;

const KERNEL_LINK = [
  '-mcmodel=kernel',
  '-fno-pic',
  '-no-pie',
  '-nostdlib',
  '-static',
  '-ffunction-sections',
  '-Wl,--gc-sections',
  '-Wl,-e,start',
  '-Wl,-Ttext=0xffffffff81000000',
];

const builds: [string, string, string, string[]][] = [
  ['nested-O0', 'gcc', 'nested.c', ['-g', '-O0']],
  ['nested-O2', 'gcc', 'nested.c', ['-g', '-O2']],
  ['methods-gcc', 'g++', 'methods.cc', ['-g', '-O2']],
  ['methods-clang', 'clang++', 'methods.cc', ['-g', '-O2']],
  ['high-dwarf4', 'gcc', 'high.c', ['-gdwarf-4', '-O2', ...KERNEL_LINK]],
  ['high-dwarf5', 'gcc', 'high.c', ['-gdwarf-5', '-O2', ...KERNEL_LINK]],
];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'duster-scan-'));
  writeFileSync(path.join(dir, 'nested.c'), NESTED);
  writeFileSync(path.join(dir, 'methods.cc'), METHODS);
  writeFileSync(path.join(dir, 'high.c'), HIGH);
  for (const [name, cc, src, flags] of builds) execFileSync(cc, [...flags, '-o', path.join(dir, name), path.join(dir, src)]);
});

describe('symbolize from the raw DIE scan vs addr2line', () => {
  for (const [name] of builds) {
    it(`${name}: every other .text byte with a function, inline chains included`, async () => {
      const elf = path.join(dir, name);
      const sf = await SymbolFile.open(elf);
      const { count, mine, theirs } = againstAddr2line(sf, elf, 2n);
      sf.close();
      expect(count).toBeGreaterThan(10);
      expect(mine).toBe(theirs);
    });
  }

  it('nested-O2: the nested function is found, inside the enclosing one', async () => {
    const sf = await SymbolFile.open(path.join(dir, 'nested-O2'));
    const inner = sf.findSymbol('inner.0')[0] ?? sf.elf.symbols.sorted.find((s) => s.name.startsWith('inner'))!;
    expect(sf.functionAt(inner.address)?.name).toBe('inner');
    sf.close();
  });
});
