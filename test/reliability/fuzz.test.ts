// Fuzzing, the bounded slice that runs in `npm test` (`npm run fuzz` runs every fuzz suite longer:
// FUZZ_RUNS, FUZZ_SECONDS; see test/support/fuzz.ts). Properties of the RSP codec; random streams
// into the packet decoder; random text into the C expression parser; byte-mutated and truncated
// copies of the reference unikernel's ELF into the symbol reader and CFI. Every input ends within a
// time bound with a result or a typed error; of the mutated images at least 90% still give every
// answer a stop asks for (damage is skipped and named, not fatal), and the count is printed.
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
import { Budget, fuzzInput, rng, Tally } from '../support/fuzz.js';

const codec = new Budget(300, 1, 5);
const expressions = new Budget(900, 3, 5);
const files = new Budget(30, 0.1, 200);

describe('RSP codec properties', () => {
  it(
    'decodes what it encodes, whatever the payload and however the stream is split',
    () => {
      const tally = new Tally('RSP codec round trip');
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
          tally.passed();
        }),
        codec.fastCheck,
      );
      tally.report();
    },
    codec.timeout,
  );

  it(
    'expands `X*N` run lengths to N-29 more copies of X',
    () => {
      fc.assert(
        fc.property(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 32, max: 126 }), (x, n) => {
          fc.pre(x !== 0x7d && x !== 0x2a);
          expect([...decodeBody(Buffer.from([x, 0x2a, n]))]).toEqual(new Array(n - 29 + 1).fill(x));
        }),
        codec.fastCheck,
      );
    },
    codec.timeout,
  );

  it(
    'expands run-length encoding boundedly and never mis-frames random garbage',
    async () => {
      const tally = new Tally('RSP decoder on random streams');
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 2000 }), async (junk) => {
          const d = new PacketDecoder(4096);
          await fuzzInput(
            tally,
            `stream ${Buffer.from(junk).toString('hex')}`,
            { typed: [RspProtocolError], ms: 200, peakBytes: 16 << 20 },
            () => {
              for (const item of d.feed(junk))
                if (item.kind === 'packet') expect(item.payload.length).toBeLessThanOrEqual(item.raw.length * 227);
            },
          );
        }),
        codec.fastCheck,
      );
      tally.report();
    },
    codec.timeout,
  );
});

describe('C expression parser on random input', () => {
  const alphabet = fc.constantFrom(
    ...'abcxyz_019 ()[]{}*&-+!~<>=|^%/?:.,@$\'"\\'.split(''),
    '->',
    'sizeof',
    'struct ',
    'int',
    '0x1f',
    '(char *)',
  );
  it(
    'returns a tree or an ExprSyntaxError, quickly',
    async () => {
      const tally = new Tally('C expression parser');
      await fc.assert(
        fc.asyncProperty(fc.array(alphabet, { maxLength: 80 }), async (parts) => {
          const text = parts.join('');
          await fuzzInput(tally, JSON.stringify(text), { typed: [ExprSyntaxError], ms: 100, peakBytes: 16 << 20 }, () =>
            parseExpression(text),
          );
        }),
        expressions.fastCheck,
      );
      tally.report();
    },
    expressions.timeout,
  );

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
    sections = sf.elf.sections
      .filter((s) => /^\.(debug_(info|abbrev|line|loclists|rnglists|str|line_str|aranges)|eh_frame)$/.test(s.name))
      .map((s) => ({ name: s.name, offset: s.offset, size: s.size }));
    addresses = sf.elf.symbols
      .find('worker_step')
      .concat(sf.elf.symbols.find('compute_checksum'), sf.elf.symbols.find('trap_handler'))
      .map((s) => s.address + 4n);
    sf.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Everything the debugger asks of an image at a stop, as the lines of a small report. */
  async function exercise(file: string): Promise<string[]> {
    const p = await Program.load(file);
    try {
      const report: string[] = [];
      for (const a of addresses) {
        report.push(
          p.symbols
            .symbolize(a, { gdb: true })
            .map((f) => `${f.function ?? '??'} ${f.file ?? '?'}:${f.line}`)
            .join(' <- '),
        );
        report.push(
          `${p.symbols.scopesAt(a).length} scopes, line ${p.symbols.stepLineAt(a)?.line ?? '?'}, FDE ${p.cfi.findFde(a) ? 'yes' : 'no'}`,
        );
      }
      report.push(
        `${p.symbols.lineToAddresses('app_demo.c', 158).length} ${p.symbols.functionEntries('worker_step').length} ${p.symbols.findType('struct thread') ? 1 : 0} ${p.symbols.findGlobal('demo_config') ? 1 : 0}`,
      );
      return report;
    } finally {
      p.close();
    }
  }

  it(
    `survives ${files.count} byte-mutated copies and truncations, at least 90% of them with every answer`,
    async () => {
      const random = rng(0xd05e);
      const tally = new Tally('ELF/DWARF/CFI of whole images');
      for (let i = 0; files.more(i); i++) {
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
        await fuzzInput(tally, `mutant ${i} (${label})`, { typed: [FormatError, CfiError], ms: 5000, peakBytes: 128 << 20 }, () =>
          exercise(path.join(dir, 'm.elf')),
        );
      }
      tally.report();
      console.info(`fuzz: whole-image mutants answering: ${tally.ok}/${tally.inputs} (${((100 * tally.ok) / tally.inputs).toFixed(1)}%)`);
      expect(tally.ok / tally.inputs).toBeGreaterThanOrEqual(0.9);
    },
    files.timeout,
  );
});
