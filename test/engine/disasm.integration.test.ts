import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { accessedMemory, bitnessFromCpuState, disassemble, registersWritten } from '../../src/engine/disasm.js';
import { SymbolFile } from '../../symbols/index.js';

describe('disassemble', () => {
  const code = new Uint8Array([0x55, 0x48, 0x89, 0xe5, 0xe8, 0x10, 0x00, 0x00, 0x00, 0x74, 0xfe, 0xc3, 0x48]);
  const base = 0xffffffff81000000n;

  it('decodes AT&T text, lengths, flow and direct targets at 64-bit kernel addresses', async () => {
    const insns = await disassemble(code, base, 64, { symbolize: (a) => (a === base + 0x19n ? 'helper' : undefined) });
    expect(insns.map((i) => [i.address - base, i.length, i.text, i.flow])).toEqual([
      [0n, 1, 'push   %rbp', 'next'],
      [1n, 3, 'mov    %rsp,%rbp', 'next'],
      [4n, 5, 'call   0xffffffff81000019 <helper>', 'call'],
      [9n, 2, 'je     0xffffffff81000009', 'conditionalBranch'],
      [11n, 1, 'ret', 'return'],
    ]);
    expect(insns[2]!.target).toBe(base + 0x19n);
    expect([...insns[1]!.bytes]).toEqual([0x48, 0x89, 0xe5]);
  });

  it('decodes the same bytes differently in 32-bit mode (0x48 is dec %eax there)', async () => {
    const insns = await disassemble(new Uint8Array([0x48, 0x89, 0xe5]), 0x100000n, 32);
    expect(insns.map((i) => i.text)).toEqual(['dec    %eax', 'mov    %esp,%ebp']);
  });

  it('honours maxCount', async () => {
    expect(await disassemble(code, base, 64, { maxCount: 2 })).toHaveLength(2);
  });

  it('names the registers code writes: destinations, implicit ones, and what a call may clobber', async () => {
    const written = async (...bytes: number[]) => [...(await registersWritten(new Uint8Array(bytes), base, 64))].sort();
    expect(await written(0x48, 0x89, 0xf8)).toEqual(['rax']); // mov %rdi,%rax
    expect(await written(0x48, 0x39, 0xfe, 0x85, 0xc0)).toEqual([]); // cmp %rdi,%rsi; test %eax,%eax
    expect(await written(0x87, 0x02)).toEqual(['rax']); // xchg %eax,(%rdx)
    expect(await written(0x41, 0x58)).toEqual(['r8', 'rsp']); // pop %r8
    expect(await written(0x0f, 0xa2)).toEqual(['rax', 'rbx', 'rcx', 'rdx']); // cpuid
    expect(await written(0x40, 0x88, 0xc7)).toEqual(['rdi']); // mov %al,%dil: part of rdi is rdi
    expect(await written(0xe8, 0, 0, 0, 0)).toEqual(['r10', 'r11', 'r8', 'r9', 'rax', 'rcx', 'rdi', 'rdx', 'rsi', 'rsp']); // call
  });
});

describe.each(['gcc-O0', 'gcc-O2', 'clang-O2'])('disassembly of the reference unikernel (%s) as gdb prints it', (build) => {
  it('every instruction of C functions and boot assembly, text and branch symbols', async () => {
    const elf = path.resolve(import.meta.dirname, '../../fixtures/unikernel/build', build, 'kernel.elf');
    const sf = await SymbolFile.open(elf);
    try {
      const names = [
        'worker_step',
        'compute_checksum',
        'kprintf',
        'kvsnprintf',
        'fib',
        'schedule_locked',
        'switch_to',
        'trap_common',
        'lapic_init',
        'ring_put',
      ];
      const gdb = execFileSync('gdb', ['-nx', '-batch', ...names.flatMap((n) => ['-ex', `disassemble ${n}`]), elf], { encoding: 'utf8' });
      const theirs = [...gdb.matchAll(/^ {3}(0x[0-9a-f]+) <\+\d+>:\t(.*)$/gm)].map(
        (m) => `${BigInt(m[1]!).toString(16)} ${m[2]!.trimEnd()}`,
      );
      const mine: string[] = [];
      for (const n of names) {
        const sym = sf.findSymbol(n).find((x) => x.size > 0n)!;
        const bytes = sf.codeAt(sym.address, Number(sym.size))!;
        const at = (a: bigint) => {
          const hit = sf.symbolAt(a);
          return hit && (hit.offset ? `${hit.symbol.name}+${hit.offset}` : hit.symbol.name);
        };
        for (const i of await disassemble(bytes, sym.address, 64, { symbolize: at })) mine.push(`${i.address.toString(16)} ${i.text}`);
      }
      expect(theirs.length).toBeGreaterThan(300);
      expect(mine).toEqual(theirs);
    } finally {
      sf.close();
    }
  });
});

// boot.S's .code32 part: what runs before long mode, decoded (by duster and objdump) as 32-bit code.
const CODE32 = new Set(['_start32', 'enable_long_mode', 'ap_start32']);

describe.each(['gcc-O0', 'gcc-O2', 'clang-O2'])('all of .text of the reference unikernel (%s) as objdump prints it', (build) => {
  it('each instruction from each symbol on, without the symbol annotations', async () => {
    const elf = path.resolve(import.meta.dirname, '../../fixtures/unikernel/build', build, 'kernel.elf');
    // objdump writes branch targets without 0x (gdb with); annotations and comments differ by tool.
    const plain = (t: string) =>
      t
        .replace(/ *<[^>]*>$/, '')
        .replace(/ +#.*$/, '')
        .trimEnd();
    const objdump = (...mode: string[]) =>
      execFileSync('objdump', ['-d', '--no-show-raw-insn', ...mode, '-j', '.text', elf], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const listing = (od: string) =>
      new Map([...od.matchAll(/^ +([0-9a-f]+):\t(.*)$/gm)].map((m) => [m[1]!, plain(m[2]!).replace(/^(\S+ +)([0-9a-f]+)$/, '$10x$2')]));
    const od64 = objdump();
    const theirs = { 64: listing(od64), 32: listing(objdump('-m', 'i386')) };
    const blocks = [...od64.matchAll(/^([0-9a-f]+) <([^>]*)>:$/gm)].map(
      (m) => ({ start: BigInt(`0x${m[1]}`), bitness: CODE32.has(m[2]!) ? 32 : 64 }) as const,
    );
    const sf = await SymbolFile.open(elf);
    try {
      const text = sf.elf.sections.find((s) => s.name === '.text')!;
      const end = text.addr + BigInt(text.size);
      expect(blocks.filter((b) => b.bitness === 32)).toHaveLength(CODE32.size);
      const wrong: string[] = [];
      const missed: string[] = [];
      let count = 0;
      for (const [b, { start, bitness }] of blocks.entries()) {
        const stop = blocks[b + 1]?.start ?? end;
        const mine = await disassemble(sf.codeAt(start, Number(stop - start))!, start, bitness);
        const decoded = new Set(mine.map((i) => i.address.toString(16)));
        for (const i of mine) {
          const at = i.address.toString(16);
          if (theirs[bitness].get(at) !== plain(i.text)) wrong.push(`${at}: ${plain(i.text)} / ${theirs[bitness].get(at)}`);
        }
        for (const at of theirs[bitness].keys())
          if (BigInt(`0x${at}`) >= start && BigInt(`0x${at}`) < stop && !decoded.has(at)) missed.push(at);
        count += mine.length;
      }
      expect(count).toBeGreaterThan(2000);
      expect(wrong).toEqual([]);
      expect(missed).toEqual([]);
    } finally {
      sf.close();
    }
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

describe('accessedMemory', () => {
  const regs = new Map<string, bigint>([
    ['rax', 0x5000n],
    ['rbp', 0x2000n],
    ['rbx', 0x10n],
    ['rsp', 0x3000n],
    ['fs_base', 0x7000n],
  ]);
  const at = 0x1000n;
  const access = (hex: string) => accessedMemory(Buffer.from(hex, 'hex'), at, 64, regs);

  it('works out what a load or store touched from the registers after it ran', async () => {
    expect(await access('488b4508')).toEqual([{ address: 0x2008n, size: 8 }]); // mov 0x8(%rbp),%rax
    expect(await access('890498')).toEqual([{ address: 0x5040n, size: 4 }]); // mov %eax,(%rax,%rbx,4)
    expect(await access('8b0510000000')).toEqual([{ address: 0x1016n, size: 4 }]); // mov 0x10(%rip),%eax
    expect(await access('648b042510000000')).toEqual([{ address: 0x7010n, size: 4 }]); // mov %fs:0x10,%eax
    expect(await access('488d4508')).toEqual([]); // lea 0x8(%rbp),%rax: no access
    // Stack instructions: around the stack pointer they left.
    const stack = [{ address: 0x3000n - 64n, size: 128 }];
    expect(await access('50')).toEqual(stack); // push %rax
    expect(await access('c3')).toEqual(stack); // ret
    expect(await access('e800000000')).toEqual(stack); // call
    expect(await access('ff14c5' + '00100000')).toEqual([{ address: 0x1000n + 0x5000n * 8n, size: 8 }, ...stack]); // call *0x1000(,%rax,8)
  });

  it('cannot tell when the instruction changed a register its address is made of', async () => {
    expect(await access('488b00')).toBe('unknown'); // mov (%rax),%rax
    expect(await access('a4')).toBe('unknown'); // movsb
    expect(await accessedMemory(Buffer.from('8b03', 'hex'), at, 64, new Map())).toBe('unknown'); // rbx not known
  });
});
