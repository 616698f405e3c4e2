// Fuzzing, the bounded slice that runs in `npm test` (`npm run fuzz` runs it longer via
// FUZZ_RUNS). Properties of the RSP codec; random streams into the packet decoder; random text
// into the C expression parser; byte-mutated and truncated copies of the reference unikernel's ELF
// into the symbol reader and CFI. Every input ends within a time bound with a result or a typed
// error.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeBody, encodePacket, PacketDecoder, RspProtocolError } from '../../gdbstub/index.js';
import { CfiError } from '../../symbols/cfi/index.js';
import { FormatError, SymbolFile } from '../../symbols/index.js';
import { ExprSyntaxError, parseExpression } from '../../src/engine/expr/index.js';
import { Program } from '../../src/engine/program.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const FILE_MUTANTS = Math.max(12, Math.floor(RUNS / 10));

/** Deterministic PRNG so a failure names a seed that reproduces it. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

describe('RSP codec properties', () => {
  it('decodes what it encodes, whatever the payload and however the stream is split', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 20 }), (payload, cuts) => {
        const wire = encodePacket(payload);
        const d = new PacketDecoder();
        const items = [];
        let at = 0;
        for (const c of [...cuts, wire.length]) {
          items.push(...d.feed(wire.subarray(at, Math.min(wire.length, at + c))));
          at = Math.min(wire.length, at + c);
          if (at >= wire.length) break;
        }
        if (at < wire.length) items.push(...d.feed(wire.subarray(at)));
        const packets = items.filter((i) => i.kind === 'packet');
        expect(packets).toHaveLength(1);
        // The decoder hands out payloads with escapes and run lengths already undone.
        expect(Buffer.from(packets[0]!.payload)).toEqual(Buffer.from(payload));
      }),
      { numRuns: RUNS },
    );
  });

  it('expands `X*N` run lengths to N-29 more copies of X', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 32, max: 126 }), (x, n) => {
        fc.pre(x !== 0x7d && x !== 0x2a);
        expect([...decodeBody(Buffer.from([x, 0x2a, n]))]).toEqual(new Array(n - 29 + 1).fill(x));
      }),
      { numRuns: RUNS },
    );
  });

  it('expands run-length encoding boundedly and never mis-frames random garbage', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (junk) => {
        const d = new PacketDecoder(4096);
        const t = performance.now();
        try {
          for (const item of d.feed(junk)) if (item.kind === 'packet') expect(item.payload.length).toBeLessThanOrEqual(item.raw.length * 227);
        } catch (e) {
          expect(e).toBeInstanceOf(RspProtocolError);
        }
        expect(performance.now() - t).toBeLessThan(200);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('C expression parser on random input', () => {
  const alphabet = fc.constantFrom(...'abcxyz_019 ()[]{}*&-+!~<>=|^%/?:.,@$\'"\\'.split(''), '->', 'sizeof', 'struct ', 'int', '0x1f', '(char *)');
  it('returns a tree or an ExprSyntaxError, quickly', () => {
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 80 }), (parts) => {
        const text = parts.join('');
        const t = performance.now();
        try {
          parseExpression(text);
        } catch (e) {
          expect(e).toBeInstanceOf(ExprSyntaxError);
        }
        expect(performance.now() - t).toBeLessThan(100);
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it('refuses pathological nesting instead of overflowing the stack', () => {
    expect(() => parseExpression('('.repeat(100_000) + '1' + ')'.repeat(100_000))).toThrow(ExprSyntaxError);
    expect(() => parseExpression('-'.repeat(100_000) + '1')).toThrow(ExprSyntaxError);
  });
});

describe('symbols on mutated images', () => {
  const root = path.resolve(import.meta.dirname, '../../fixtures/unikernel');
  let dir: string;
  let original: Buffer;
  let sections: Array<{ name: string; offset: number; size: number }>;
  let addresses: bigint[];

  beforeAll(async () => {
    execFileSync('make', ['-s', '-C', root]);
    const elf = path.join(root, 'build/gcc-O2/kernel.elf');
    original = readFileSync(elf);
    dir = mkdtempSync(path.join(os.tmpdir(), 'duster-fuzz-'));
    const sf = await SymbolFile.open(elf);
    sections = sf.elf.sections.filter((s) => /^\.(debug_(info|abbrev|line|loclists|rnglists|str|line_str|aranges)|eh_frame)$/.test(s.name)).map((s) => ({ name: s.name, offset: s.offset, size: s.size }));
    addresses = sf.elf.symbols.find('worker_step').concat(sf.elf.symbols.find('compute_checksum'), sf.elf.symbols.find('trap_handler')).map((s) => s.address + 4n);
    sf.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Everything the debugger asks of an image at a stop. */
  async function exercise(file: string): Promise<void> {
    const p = await Program.load(file);
    try {
      for (const a of addresses) {
        p.symbols.symbolize(a, { gdb: true });
        p.symbols.scopesAt(a);
        p.symbols.lineRangeAt(a);
        p.cfi.findFde(a);
      }
      p.symbols.lineToAddresses('app_demo.c', 158);
      p.symbols.functionEntries('worker_step');
      p.symbols.findType('struct thread');
      p.symbols.findGlobal('demo_config');
    } finally {
      p.close();
    }
  }

  it(`survives ${FILE_MUTANTS} byte-mutated copies and truncations with results or typed errors`, async () => {
    const random = rng(0xd05e);
    let typed = 0;
    for (let i = 0; i < FILE_MUTANTS; i++) {
      const copy = Buffer.from(original);
      let label: string;
      if (i % 4 === 3) {
        const cut = Math.floor(random() * copy.length);
        label = `truncated at ${cut}`;
        writeFileSync(path.join(dir, 'm.elf'), copy.subarray(0, cut));
      } else {
        const s = sections[Math.floor(random() * sections.length)]!;
        const flips = 1 + Math.floor(random() * 16);
        for (let k = 0; k < flips; k++) copy[s.offset + Math.floor(random() * s.size)] = Math.floor(random() * 256);
        label = `${flips} bytes of ${s.name}`;
        writeFileSync(path.join(dir, 'm.elf'), copy);
      }
      const t = performance.now();
      try {
        await exercise(path.join(dir, 'm.elf'));
      } catch (e) {
        if (!(e instanceof FormatError || e instanceof CfiError)) throw new Error(`mutant ${i} (${label}) threw ${(e as Error).name}: ${(e as Error).message}`);
        typed++;
      }
      expect(performance.now() - t, `mutant ${i} (${label})`).toBeLessThan(5000);
    }
    expect(typed).toBeGreaterThan(0);
  }, 120_000);
});
