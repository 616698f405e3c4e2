import { describe, expect, it } from 'vitest';
import { bitnessFromCpuState, disassemble } from '../../src/engine/disasm.js';

describe('disassemble', () => {
  const code = new Uint8Array([0x55, 0x48, 0x89, 0xe5, 0xe8, 0x10, 0x00, 0x00, 0x00, 0x74, 0xfe, 0xc3, 0x48]);
  const base = 0xffffffff81000000n;

  it('decodes AT&T text, lengths, flow and direct targets at 64-bit kernel addresses', async () => {
    const insns = await disassemble(code, base, 64, { symbolize: (a) => (a === base + 0x19n ? 'helper' : undefined) });
    expect(insns.map((i) => [i.address - base, i.length, i.text, i.flow])).toEqual([
      [0n, 1, 'push %rbp', 'next'],
      [1n, 3, 'mov %rsp,%rbp', 'next'],
      [4n, 5, 'call 0xffffffff81000019 <helper>', 'call'],
      [9n, 2, 'je 0xffffffff81000009', 'conditionalBranch'],
      [11n, 1, 'ret', 'return'],
    ]);
    expect(insns[2]!.target).toBe(base + 0x19n);
    expect([...insns[1]!.bytes]).toEqual([0x48, 0x89, 0xe5]);
  });

  it('decodes the same bytes differently in 32-bit mode (0x48 is dec %eax there)', async () => {
    const insns = await disassemble(new Uint8Array([0x48, 0x89, 0xe5]), 0x100000n, 32);
    expect(insns.map((i) => i.text)).toEqual(['dec %eax', 'mov %esp,%ebp']);
  });

  it('honours maxCount', async () => {
    expect(await disassemble(code, base, 64, { maxCount: 2 })).toHaveLength(2);
  });
});

describe('bitnessFromCpuState', () => {
  it('follows CR0.PE and EFER.LMA', async () => {
    expect(bitnessFromCpuState({ cr0: 0x10n, efer: 0n })).toBe(16);
    expect(bitnessFromCpuState({ cr0: 0x11n, efer: 0n })).toBe(32);
    expect(bitnessFromCpuState({ cr0: 0x80000011n, efer: 0x500n })).toBe(64);
    expect(bitnessFromCpuState({ cr0: 0x80000011n, efer: 0x500n, csLong: false })).toBe(32);
  });
});
