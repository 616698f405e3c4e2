// CFI instructions, unwind steps and the frame-pointer fallback on hand-built .eh_frame and
// .debug_frame sections with fake registers and memory; malformed sections fail with CfiError.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CfiError,
  CfiTable,
  parseFrameSection,
  rowAt,
  unwindFramePointer,
  unwindStack,
  unwindStep,
  X86_64,
  type FrameSectionInput,
  type MemoryReader,
  type RegisterReader,
} from '../../symbols/cfi/index.js';

const SECTION = 0x200000n;

const u32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
const u64 = (n: bigint) => Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));

interface FdeSpec {
  start: number;
  size: number;
  instructions: number[];
  signal?: boolean;
}

/** An .eh_frame like gcc's: CIE "zR" (or "zRS"), pcrel|sdata4 FDE addresses, CFA rsp+8, ra at cfa-8. */
function ehFrame(fdes: FdeSpec[]): FrameSectionInput {
  const bytes: number[] = [];
  const cieAt = new Map<boolean, number>();
  const entry = (body: number[]) => {
    while ((body.length + 4) % 8) body.push(0); // DW_CFA_nop padding
    bytes.push(...u32(body.length), ...body);
  };
  for (const signal of [false, true]) {
    cieAt.set(signal, bytes.length);
    const aug = signal ? [0x7a, 0x52, 0x53, 0] : [0x7a, 0x52, 0];
    entry([...u32(0), 1, ...aug, 1, 0x78, 16, 1, 0x1b, 0x0c, 7, 8, 0x90, 1]);
  }
  for (const f of fdes) {
    const pos = bytes.length + 4;
    const pcField = SECTION + BigInt(pos + 4);
    entry([
      ...u32(pos - cieAt.get(!!f.signal)!),
      ...u32(Number(BigInt.asUintN(32, BigInt(f.start) - pcField))),
      ...u32(f.size),
      0,
      ...f.instructions,
    ]);
  }
  bytes.push(0, 0, 0, 0);
  return { bytes: Uint8Array.from(bytes), address: SECTION };
}

/** A .debug_frame (CIE version 1, 32-bit) with absolute FDE addresses. */
function debugFrame(fdes: FdeSpec[]): FrameSectionInput {
  const bytes: number[] = [];
  const entry = (body: number[]) => bytes.push(...u32(body.length), ...body);
  entry([...u32(0xffffffff), 1, 0, 1, 0x78, 16, 0x0c, 7, 8, 0x90, 1]);
  for (const f of fdes) entry([...u32(0), ...u64(BigInt(f.start)), ...u64(BigInt(f.size)), ...f.instructions]);
  return { bytes: Uint8Array.from(bytes), address: 0n };
}

/** Fake target: registers by DWARF number, 8-byte little-endian words of memory. */
function target(regs: Record<number, bigint>, words: Record<string, bigint>): { regs: RegisterReader; mem: MemoryReader; reads: bigint[] } {
  const reads: bigint[] = [];
  return {
    reads,
    regs: async (r) => regs[r],
    mem: async (address, size) => {
      reads.push(address);
      const out = new Uint8Array(size);
      for (let i = 0; i < size; i++) {
        const word = words[String((address + BigInt(i)) & ~7n)];
        if (word === undefined) return out.subarray(0, i);
        out[i] = Number((word >> (8n * ((address + BigInt(i)) & 7n))) & 0xffn);
      }
      return out;
    },
  };
}

// push %rbp; mov %rsp,%rbp; ... : CFA rsp+16 after 1 byte, rbp saved at cfa-16, CFA = rbp+16 after 4.
const pushRbp = [0x41, 0x0e, 16, 0x86, 2, 0x43, 0x0d, 6];

describe('unwindStep', () => {
  it('recovers the caller of a frame-pointer function from its CFI', async () => {
    const table = new CfiTable({ ehFrame: ehFrame([{ start: 0x1000, size: 0x40, instructions: pushRbp }]) });
    const rbp = 0x7f00n;
    const t = target(
      { [X86_64.rip]: 0x1010n, [X86_64.rsp]: 0x7ee0n, [X86_64.rbp]: rbp, [X86_64.rbx]: 0x33n, [X86_64.rax]: 0x11n },
      {
        [rbp.toString()]: 0x7f80n, // saved rbp at cfa-16
        [(rbp + 8n).toString()]: 0x2222n, // return address at cfa-8
      },
    );
    const r = (await unwindStep(table, 0x1010n, t.regs, t.mem))!;
    expect(r.cfa).toBe(rbp + 16n);
    expect(r.registers.get(X86_64.rsp)).toBe(rbp + 16n);
    expect(r.registers.get(X86_64.rip)).toBe(0x2222n);
    expect(r.registers.get(X86_64.rbp)).toBe(0x7f80n);
    expect(r.registers.get(X86_64.rbx)).toBe(0x33n); // callee-saved, not mentioned: same value
    expect(r.registers.has(X86_64.rax)).toBe(false); // caller-saved: lost across the call
    expect(r).toMatchObject({ returnAddressUndefined: false, isSignalFrame: false });
  });

  it('looks a return address up as pc-1 (a call can be the last instruction of a function)', async () => {
    const table = new CfiTable({
      ehFrame: ehFrame([
        { start: 0x1000, size: 0x10, instructions: [0x41, 0x0e, 16] },
        { start: 0x1010, size: 0x10, instructions: [] },
      ]),
    });
    const t = target({ [X86_64.rsp]: 0x8000n }, { '32776': 0x4444n, '32768': 0x5555n });
    expect((await unwindStep(table, 0x1010n, t.regs, t.mem, { pcIsReturnAddress: true }))!.cfa).toBe(0x8010n);
    expect((await unwindStep(table, 0x1010n, t.regs, t.mem))!.cfa).toBe(0x8008n);
    expect(await unwindStep(table, 0x2000n, t.regs, t.mem)).toBeNull();
  });

  it('ends the stack at DW_CFA_undefined rip', async () => {
    const table = new CfiTable({ ehFrame: ehFrame([{ start: 0x1000, size: 0x10, instructions: [0x07, 16] }]) });
    const t = target({ [X86_64.rsp]: 0x8000n }, {});
    const r = (await unwindStep(table, 0x1004n, t.regs, t.mem))!;
    expect(r.returnAddressUndefined).toBe(true);
    expect(r.registers.has(X86_64.rip)).toBe(false);
    expect(t.reads).toEqual([]);
  });

  it('unwinds an interrupt (signal) frame: hardware frame rules, every other register kept', async () => {
    // .cfi_def_cfa %rsp, 40; .cfi_offset %rip, -40; .cfi_offset %rsp, -16, as the unikernel's stubs.
    const table = new CfiTable({
      ehFrame: ehFrame([{ start: 0x1000, size: 0x10, signal: true, instructions: [0x0e, 40, 0x90, 5, 0x87, 2] }]),
    });
    const sp = 0x9000n;
    const t = target(
      { [X86_64.rsp]: sp, [X86_64.rax]: 0xaan, [X86_64.r11]: 0xbbn },
      {
        [sp.toString()]: 0x5678n, // interrupted rip
        [(sp + 24n).toString()]: 0xa000n, // interrupted rsp
      },
    );
    const r = (await unwindStep(table, 0x1000n, t.regs, t.mem))!;
    expect(r.isSignalFrame).toBe(true);
    expect(r.registers.get(X86_64.rip)).toBe(0x5678n);
    expect(r.registers.get(X86_64.rsp)).toBe(0xa000n);
    expect(r.registers.get(X86_64.rax)).toBe(0xaan);
    expect(r.registers.get(X86_64.r11)).toBe(0xbbn);
  });

  it('applies register, val_offset, expression and val_expression rules and a CFA expression', async () => {
    const instructions = [
      0x09,
      3,
      12, // rbx in r12
      0x14,
      13,
      2, // r13 = cfa-16 (val_offset, factored)
      0x10,
      14,
      3,
      0x13,
      0x70,
      0x10, // r14 at [rax+16] (expression: drop the pushed CFA, breg0 16)
      0x16,
      15,
      3,
      0x13,
      0x71,
      0x05, // r15 = rdx+5 (val_expression)
      0x0f,
      3,
      0x77,
      0x20,
      0x06, // CFA = [rsp+32]
    ];
    const table = new CfiTable({ ehFrame: ehFrame([{ start: 0x1000, size: 0x10, instructions }]) });
    const t = target(
      { [X86_64.rsp]: 0x8000n, [X86_64.r12]: 0x1212n, [X86_64.rax]: 0x6000n, [X86_64.rdx]: 0x100n },
      {
        '32800': 0x9000n, // [rsp+32] = CFA
        '24592': 0xe14n, // [rax+16]
        [(0x9000n - 8n).toString()]: 0x3333n, // return address at cfa-8
      },
    );
    const r = (await unwindStep(table, 0x1000n, t.regs, t.mem))!;
    expect(r.cfa).toBe(0x9000n);
    expect(r.registers.get(X86_64.rbx)).toBe(0x1212n);
    expect(r.registers.get(X86_64.r13)).toBe(0x9000n - 16n);
    expect(r.registers.get(X86_64.r14)).toBe(0xe14n);
    expect(r.registers.get(X86_64.r15)).toBe(0x105n);
    expect(r.registers.get(X86_64.rip)).toBe(0x3333n);
  });
});

describe('CFA programs', () => {
  const fde = (instructions: number[]) =>
    parseFrameSection({ ...ehFrame([{ start: 0x1000, size: 0x100, instructions }]), kind: 'eh_frame', addressSize: 8 }).fdes[0]!;

  it('remembers and restores state (CFA included), restores CIE rules, and records args size', () => {
    const f = fde([
      0x41,
      0x0e,
      16,
      0x86,
      2, // 0x1001: cfa rsp+16, rbp c-16
      0x0a, // remember
      0x41,
      0x0e,
      32,
      0x83,
      3,
      0x2e,
      8, // 0x1002: cfa rsp+32, rbx c-24, args size 8
      0x90,
      5, // rip c-40 (overrides the CIE's c-8)
      0x41,
      0x0b, // 0x1003: restore_state
      0x41,
      0xd0, // 0x1004: restore rip (back to the CIE's c-8)
      0x2f,
      6,
      3, // GNU_negative_offset_extended rbp: c+24
      0x11,
      3,
      0x7e, // offset_extended_sf rbx: -2 * -8 = c+16
    ]);
    expect(rowAt(f, 0x1002n)).toMatchObject({ cfa: { kind: 'register', reg: 7, offset: 32 }, argsSize: 8 });
    expect(rowAt(f, 0x1002n).registers.get(16)).toEqual({ kind: 'offset', offset: -40 });
    const restored = rowAt(f, 0x1003n);
    expect(restored.cfa).toEqual({ kind: 'register', reg: 7, offset: 16 });
    expect(restored.registers.has(3)).toBe(false);
    expect(restored.registers.get(16)).toEqual({ kind: 'offset', offset: -8 });
    expect(rowAt(f, 0x1004n).registers.get(16)).toEqual({ kind: 'offset', offset: -8 });
    expect(rowAt(f, 0x1004n).registers.get(6)).toEqual({ kind: 'offset', offset: 24 });
    expect(rowAt(f, 0x1004n).registers.get(3)).toEqual({ kind: 'offset', offset: 16 });
  });

  it('rejects malformed programs with CfiError', () => {
    expect(() => rowAt(fde([0x0b]), 0x1000n)).toThrow(/restore_state without a remembered state/);
    expect(() => rowAt(fde([0x3f]), 0x1000n)).toThrow(CfiError);
    expect(() => rowAt(fde([0x0c, 0x87, 0x87, 0x87, 0x87, 0x87, 0x87]), 0x1000n)).toThrow(/truncated/); // ULEB runs off the end
    expect(() => rowAt(fde(Array(65).fill(0x0a)), 0x1000n)).toThrow(/nested deeper/);
  });
});

describe('CfiTable', () => {
  it('prefers .debug_frame over .eh_frame for the same function, as gdb does', () => {
    const table = new CfiTable({
      ehFrame: ehFrame([
        { start: 0x1000, size: 0x10, instructions: [] },
        { start: 0x2000, size: 0x10, instructions: [] },
      ]),
      debugFrame: debugFrame([
        { start: 0x1000, size: 0x10, instructions: [] },
        { start: 0x0, size: 0x1800, instructions: [] },
      ]),
    });
    expect(table.findFde(0x1008n)?.cie.section.kind).toBe('debug_frame');
    expect(table.findFde(0x2008n)?.cie.section.kind).toBe('eh_frame');
    // An FDE at address 0 overlapping real code is a --gc-sections leftover.
    expect(table.findFde(0x10n)).toBeUndefined();
    expect(table.fdes).toHaveLength(2);
  });
});

describe('malformed sections', () => {
  const real = (() => {
    const file = path.resolve(import.meta.dirname, '../../fixtures/unikernel/build/gcc-O2/kernel.elf');
    execFileSync('make', ['-s', '-C', path.dirname(path.dirname(path.dirname(file)))]);
    const m = /\]\s+\.eh_frame\s+\S+\s+([0-9a-f]+) ([0-9a-f]+) ([0-9a-f]+)/.exec(
      execFileSync('readelf', ['-S', '-W', file], { encoding: 'utf8' }),
    )!;
    const off = parseInt(m[2]!, 16);
    return { bytes: new Uint8Array(readFileSync(file).subarray(off, off + parseInt(m[3]!, 16))), address: BigInt(`0x${m[1]}`) };
  })();

  it('reports a truncated .eh_frame', () => {
    const cut = { ...real, bytes: real.bytes.subarray(0, 0x70) };
    expect(() => new CfiTable({ ehFrame: cut }).findFde(0x100100n)).toThrow(CfiError);
    expect(() => new CfiTable({ ehFrame: cut }).findFde(0x100100n)).toThrow(/\.eh_frame: .*runs past the end/);
  });

  it('reports a bad CIE pointer and an unknown augmentation', () => {
    const bad = Uint8Array.from(real.bytes);
    new DataView(bad.buffer).setUint32(0x1c, 0x7fffffff, true); // first FDE's CIE pointer
    expect(() => new CfiTable({ ehFrame: { ...real, bytes: bad } }).findFde(0n)).toThrow(/CIE pointer/);
    const aug = Uint8Array.from(real.bytes);
    aug[9] = 0x51; // "zR" -> "QR"
    expect(() => new CfiTable({ ehFrame: { ...real, bytes: aug } }).findFde(0n)).toThrow(/unknown augmentation/);
  });

  it('fails fast and only with CfiError on random corruption', () => {
    let seed = 1;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const t0 = performance.now();
    let errors = 0;
    for (let i = 0; i < 300; i++) {
      const bytes = Uint8Array.from(real.bytes);
      for (let k = 0; k < 4; k++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      const table = new CfiTable({ ehFrame: { ...real, bytes } });
      try {
        for (const fde of table.fdes) rowAt(fde, fde.start + (fde.end - fde.start) / 2n);
      } catch (e) {
        expect(e).toBeInstanceOf(CfiError);
        errors++;
      }
    }
    const garbage = Uint8Array.from({ length: 4096 }, () => Math.floor(rand() * 256));
    expect(() => new CfiTable({ ehFrame: { bytes: garbage, address: 0n } }).fdes).toThrow(CfiError);
    expect(errors).toBeGreaterThan(0);
    expect(performance.now() - t0).toBeLessThan(3000);
  });
});

describe('unwindFramePointer', () => {
  const regs =
    (rbp: bigint, rsp = 0x7000n): RegisterReader =>
    async (r) =>
      r === X86_64.rbp ? rbp : r === X86_64.rsp ? rsp : undefined;

  it('follows a sane rbp chain', async () => {
    const t = target({}, { '28672': 0x7100n, '28680': 0x1234n });
    const r = (await unwindFramePointer(regs(0x7000n), t.mem))!;
    expect(r.cfa).toBe(0x7010n);
    expect(r.registers.get(X86_64.rip)).toBe(0x1234n);
    expect(r.registers.get(X86_64.rbp)).toBe(0x7100n);
  });

  it('refuses a chain that loops, points down the stack, is misaligned or lies below rsp', async () => {
    const loop = target({}, { '28672': 0x7000n, '28680': 0x1234n });
    expect(await unwindFramePointer(regs(0x7000n), loop.mem)).toBeNull();
    const down = target({}, { '28672': 0x6000n, '28680': 0x1234n });
    expect(await unwindFramePointer(regs(0x7000n), down.mem)).toBeNull();
    expect(await unwindFramePointer(regs(0x7004n), loop.mem)).toBeNull();
    expect(await unwindFramePointer(regs(0x7000n, 0x7100n), loop.mem)).toBeNull();
    expect(await unwindFramePointer(regs(0n), loop.mem)).toBeNull();
  });
});

describe('unwindStack', () => {
  it('stops on a frame that unwinds to itself', async () => {
    // CFA = rsp, rip = rip: the caller is the same frame.
    const table = new CfiTable({ ehFrame: ehFrame([{ start: 0xff0, size: 0x20, instructions: [0x0e, 0, 0x09, 16, 16] }]) });
    const t = target({ [X86_64.rsp]: 0x8000n, [X86_64.rip]: 0x1000n }, {});
    const walk = await unwindStack(table, 0x1000n, t.regs, t.mem);
    expect(walk.end).toBe('loop');
  });

  it('walks CFI frames, then frame pointers where there is no FDE, to a zero return address', async () => {
    const table = new CfiTable({ ehFrame: ehFrame([{ start: 0x1000, size: 0x10, instructions: [] }]) });
    // Frame 0 at 0x1000 (CFI: ra at [rsp]); frame 1 at 0x5000 (no FDE: rbp chain ends with ra 0).
    const t = target({ [X86_64.rsp]: 0x8000n, [X86_64.rbp]: 0x8100n }, { '32768': 0x5000n, '33024': 0n, '33032': 0n });
    const walk = await unwindStack(table, 0x1000n, t.regs, t.mem);
    expect(walk.frames.map((f) => [f.pc, f.method])).toEqual([
      [0x1000n, 'innermost'],
      [0x5000n, 'cfi'],
    ]);
    expect(walk.end).toBe('outermost');
    const noFp = await unwindStack(table, 0x1000n, t.regs, t.mem, { framePointerFallback: false });
    expect(noFp.end).toBe('no-unwind-info');
  });
});
