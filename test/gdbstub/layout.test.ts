import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gdbsxLayout, layoutFromTargetXml, parseXml, RspMalformedError } from '../../gdbstub/index.js';

const fixtures = path.join(import.meta.dirname, 'fixtures');
const fetchFixture = async (annex: string) => readFileSync(path.join(fixtures, annex), 'utf8');

describe('target.xml', () => {
  it('follows xi:include and lays out QEMU x86_64: 66 registers, 608 bytes of g', async () => {
    const layout = await layoutFromTargetXml(fetchFixture);
    expect(layout.registers).toHaveLength(66);
    expect(layout.gSize).toBe(608);
    expect(layout.registers.slice(0, 17).map((r) => r.name)).toEqual([
      'rax',
      'rbx',
      'rcx',
      'rdx',
      'rsi',
      'rdi',
      'rbp',
      'rsp',
      'r8',
      'r9',
      'r10',
      'r11',
      'r12',
      'r13',
      'r14',
      'r15',
      'rip',
    ]);
    expect(layout.get('rip')).toMatchObject({ regnum: 16, offset: 128, bitsize: 64, type: 'code_ptr' });
    expect(layout.get('eflags')).toMatchObject({ regnum: 17, offset: 136, bitsize: 32 });
    expect(layout.get('fs_base')).toMatchObject({ offset: 164, bitsize: 64 });
    expect(layout.get('st0')).toMatchObject({ bitsize: 80 });
    expect(layout.get('xmm0')).toMatchObject({ bitsize: 128, type: 'vec128' });
    expect(layout.get('fctrl').group).toBe('float');
    // Without a group attribute, gdb's rule by type: x87 floats, vectors (and unions of them), else general.
    expect(['rax', 'eflags', 'fs_base', 'cr0', 'efer', 'st0', 'xmm15', 'mxcsr'].map((n) => layout.get(n).group)).toEqual([
      'general',
      'general',
      'general',
      'general',
      'general',
      'float',
      'vector',
      'vector',
    ]);
    expect(layout.get('mxcsr')).toMatchObject({ regnum: 65, offset: 604, bitsize: 32 });
  });

  it('strips comments, honours regnum and reports bad input', async () => {
    const xml = `<?xml version="1.0"?><!-- <reg name="ghost" bitsize="8"/> --><target><feature name="x"><reg name="a" bitsize="32"/><reg name="b" bitsize="16" regnum="7" group="g&amp;h"/><reg name="c" bitsize="8"/></feature></target>`;
    const layout = await layoutFromTargetXml(async () => xml);
    expect(layout.registers.map((r) => [r.name, r.regnum, r.offset])).toEqual([
      ['a', 0, 0],
      ['b', 7, 4],
      ['c', 8, 6],
    ]);
    expect(layout.get('b').group).toBe('g&h');
    expect(layout.get('a').group).toBe('general');
    expect(() => layout.get('nope')).toThrow(/no register named 'nope'/);
    await expect(layoutFromTargetXml(async () => '<target><reg name="x" bitsize="7"/></target>')).rejects.toThrow(RspMalformedError);
    expect(() => parseXml('<a><b></a>')).toThrow(/unexpected <\/a>/);
    expect(() => parseXml('<a>')).toThrow(/not closed/);
  });

  it('decodes and encodes g data little-endian', async () => {
    const layout = gdbsxLayout();
    expect(layout.registers).toHaveLength(24);
    expect(layout.gSize).toBe(17 * 8 + 7 * 4);
    const g = Buffer.alloc(layout.gSize);
    const g2 = layout.encodeInto(g, 'rip', 0x1122334455667788n);
    expect(g2.subarray(128, 136).toString('hex')).toBe('8877665544332211');
    const values = layout.decode(layout.encodeInto(g2, 'gs', 0x18n));
    expect(values.get('rip')).toBe(0x1122334455667788n);
    expect(values.get('gs')).toBe(0x18n);
    expect(layout.decode(g.subarray(0, 16)).size).toBe(2);
  });
});
