// Real location expressions of the reference unikernel: every one in .debug_loclists and every
// exprloc attribute in .debug_info, disassembled exactly as readelf prints them and evaluated
// with fake target state.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ByteReader } from '../../symbols/reader.js';
import { DW_ATE, disassembleExpression, evaluateLocation, type ExpressionContext, type Location } from '../../symbols/expr/index.js';

const root = path.resolve(import.meta.dirname, '../../fixtures/unikernel');
const elf = (build: string) => path.join(root, 'build', build, 'kernel.elf');

beforeAll(() => {
  execFileSync('make', ['-s', '-C', root]);
});

function sectionBytes(file: string, name: string): Uint8Array {
  const out = execFileSync('readelf', ['-S', '-W', file], { encoding: 'utf8' });
  const m = new RegExp(`\\]\\s+${name.replace('.', '\\.')}\\s+\\S+\\s+[0-9a-f]+ ([0-9a-f]+) ([0-9a-f]+)`).exec(out)!;
  const off = parseInt(m[1]!, 16);
  return new Uint8Array(readFileSync(file).subarray(off, off + parseInt(m[2]!, 16)));
}

/** The expression of the DWARF 5 location list entry at `offset` (test-only decoder). */
function entryExpression(bytes: Uint8Array, offset: number): Uint8Array {
  const r = new ByteReader(bytes, '.debug_loclists', offset);
  switch (r.u8()) {
    case 2:
    case 3:
    case 4:
      r.uleb128();
      r.uleb128();
      break; // startx_endx, startx_length, offset_pair
    case 5:
      break; // default_location
    case 7:
      r.skip(16);
      break; // start_end
    case 8:
      r.skip(8);
      r.uleb128();
      break; // start_length
    default:
      throw new Error(`no expression in the entry at 0x${offset.toString(16)}`);
  }
  return r.bytesN(r.uleb128());
}

/**
 * Each entry readelf -wo prints with an expression: its offset and the text. gcc's entries with
 * location views put the offset on a "views at" line before the addresses.
 */
function readelfLoclists(file: string): Array<{ offset: number; text: string }> {
  const out = execFileSync('readelf', ['-wo', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const entries: Array<{ offset: number; text: string }> = [];
  let viewed: number | undefined;
  for (const line of out.split('\n')) {
    const v = /^\s+([0-9a-f]{8}) v[0-9a-f]+ v[0-9a-f]+ views at /.exec(line);
    if (v) viewed = parseInt(v[1]!, 16);
    const m = /^\s+(?:([0-9a-f]{8}) )?[0-9a-f]{16} [0-9a-f]{16} (.*)$/.exec(line);
    if (!m) continue;
    const raw = m[2]!.replace(/ \(start [>=]+ end\)$/, ''); // readelf's note on an empty or inverted range
    const text = raw.startsWith('(') && raw.endsWith(')') ? raw.slice(1, -1) : raw;
    entries.push({ offset: m[1] ? parseInt(m[1], 16) : viewed!, text });
    viewed = undefined;
  }
  return entries;
}

/**
 * readelf shows a typed op's base type DIE by its .debug_info offset, the expression only by its
 * offset in the unit: app_fp.c's unit, the one whose code uses SSE, is where the typed ops are.
 */
function typedOpsUnitOffset(file: string): bigint {
  const out = execFileSync('readelf', ['-wi', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  let unit = 0n;
  for (const line of out.split('\n')) {
    const u = /Compilation Unit @ offset (0x[0-9a-f]+):/.exec(line);
    if (u) unit = BigInt(u[1]!);
    if (/DW_AT_name\s+:.*app_fp\.c$/.test(line)) return unit;
  }
  throw new Error('no unit for app_fp.c');
}

const disassembleAsReadelf = (e: { bytes: Uint8Array; text: string }, unitOffset: bigint) =>
  disassembleExpression(e.bytes, /_type: /.test(e.text) ? { unitOffset } : {});

function loclistExpressions(file: string): Array<{ bytes: Uint8Array; text: string }> {
  const section = sectionBytes(file, '.debug_loclists');
  return readelfLoclists(file).map(({ offset, text }) => ({ bytes: entryExpression(section, offset), text }));
}

/** Exprloc attributes readelf -wi prints with their bytes: "N byte block: 91 6c \t(DW_OP_fbreg: -20)". */
function readelfExprlocs(file: string): Array<{ bytes: Uint8Array; text: string }> {
  const out = execFileSync('readelf', ['-wi', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const found: Array<{ bytes: Uint8Array; text: string }> = [];
  for (const m of out.matchAll(
    /DW_AT_(?:location|frame_base|call_value|call_target|data_member_location)\s*: \d+ byte block: ([0-9a-f ]+?)\s*\t\((.*)\)$/gm,
  )) {
    found.push({ bytes: Uint8Array.from(m[1]!.split(' '), (h) => parseInt(h, 16)), text: m[2]! });
  }
  return found;
}

const fakeTarget: ExpressionContext = {
  readRegister: async (reg) => 0x10000n * BigInt(reg + 1),
  readMemory: async (address, size) => Uint8Array.from({ length: size }, (_, i) => Number((address + BigInt(i)) & 0xffn)),
  frameBase: async () => 0x7000n,
  cfa: async () => 0x7010n,
  resolveAddrIndex: (i) => 0x100000n + i * 8n,
  entryValue: async () => 5n,
  // clang's DW_OP_convert in these units narrows through unsigned 64 (<0x2b>) to unsigned 32 (<0x2f>).
  // gcc's typed ops in app_fp.c's unit read xmm registers as double (<0x2e>) and float (<0x35>),
  // and memory as long double (<0x3c>).
  baseType: (die) =>
    ({
      0x2b: { size: 8, encoding: DW_ATE.unsigned },
      0x2f: { size: 4, encoding: DW_ATE.unsigned },
      0x2e: { size: 8, encoding: DW_ATE.float },
      0x35: { size: 4, encoding: DW_ATE.float },
      0x3c: { size: 16, encoding: DW_ATE.float },
    })[Number(die)],
};

describe.each(['gcc-O2', 'clang-O2'])('the %s location lists', (build) => {
  it('disassemble exactly as readelf -wo prints them', () => {
    const exprs = loclistExpressions(elf(build));
    expect(exprs.length).toBeGreaterThan(300);
    const unitOffset = typedOpsUnitOffset(elf(build));
    expect(exprs.map((e) => disassembleAsReadelf(e, unitOffset))).toEqual(exprs.map((e) => e.text));
  });

  it('all evaluate with target state', async () => {
    const kinds = new Map<string, number>();
    for (const e of loclistExpressions(elf(build))) {
      const loc: Location = await evaluateLocation(e.bytes, fakeTarget).catch((err) => {
        throw new Error(`${e.text}: ${err.message}`);
      });
      kinds.set(loc.kind, (kinds.get(loc.kind) ?? 0) + 1);
    }
    expect(kinds.get('unavailable') ?? 0).toBe(0);
    expect(kinds.get('register')).toBeGreaterThan(50);
    expect(kinds.get('value')).toBeGreaterThan(50);
    if (build === 'clang-O2') expect(kinds.get('pieces')).toBeGreaterThan(10);
  });
});

describe.each(['gcc-O0', 'gcc-O2', 'clang-O2'])('the %s exprloc attributes', (build) => {
  it('disassemble exactly as readelf -wi prints them and evaluate', async () => {
    const all = readelfExprlocs(elf(build));
    expect(all.length).toBeGreaterThan(30);
    const unitOffset = typedOpsUnitOffset(elf(build));
    for (const { bytes, text } of all) {
      expect(disassembleAsReadelf({ bytes, text }, unitOffset)).toBe(text);
      expect((await evaluateLocation(bytes, fakeTarget)).kind).not.toBe('unavailable');
    }
  });
});

describe('real expressions, evaluated', () => {
  it('gives the values the ops mean', async () => {
    const hex = (s: string) => Uint8Array.from(s.split(' '), (h) => parseInt(h, 16));
    // DW_OP_fbreg: -20 with DW_AT_frame_base = DW_OP_call_frame_cfa
    expect(await evaluateLocation(hex('91 6c'), fakeTarget)).toEqual({ kind: 'memory', address: 0x7000n - 20n });
    // DW_OP_entry_value: (DW_OP_reg5 (rdi)); DW_OP_stack_value
    expect(await evaluateLocation(hex('a3 1 55 9f'), fakeTarget)).toEqual({ kind: 'value', value: 5n });
    expect(await evaluateLocation(hex('a3 1 55 9f'), { ...fakeTarget, entryValue: undefined })).toEqual({
      kind: 'unavailable',
      reason: '<entry value unavailable>',
    });
    // DW_OP_breg12 (r12): -1; DW_OP_stack_value
    expect(await evaluateLocation(hex('7c 7f 9f'), fakeTarget)).toEqual({ kind: 'value', value: 0xd0000n - 1n });
    // DW_OP_implicit_value 8 byte block
    expect(await evaluateLocation(hex('9e 8 25 23 22 84 e4 9c f2 cb'), fakeTarget)).toEqual({
      kind: 'implicit',
      bytes: hex('25 23 22 84 e4 9c f2 cb'),
    });
  });
});
