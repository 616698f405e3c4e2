// The DWARF expression evaluator on hand-assembled expressions with fake registers and memory.
import { describe, expect, it } from 'vitest';
import { FormatError } from '../../symbols/reader.js';
import { DW_ATE, DW_OP, evaluateLocation, ExpressionError, type ExpressionContext, type Location } from '../../symbols/expr/index.js';

const regs: Record<number, bigint> = { 0: 0x1000n, 1: 0xfffffffen, 5: 0x2000n, 7: 0x7ff0n, 12: 0x5_0000_0000n, 14: 14n, 15: 15n };
const memory = new Map<bigint, number>();
const store = (address: bigint, bytes: number[]) => bytes.forEach((b, i) => memory.set(address + BigInt(i), b));
store(0x2000n, [0xfe, 0xff, 0xff, 0xff, 0x12, 0x34, 0x56, 0x78]);
store(0x7ff8n, [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11]);

const ctx = (more: Partial<ExpressionContext> = {}): ExpressionContext => ({
  readRegister: async (r) => regs[r],
  readMemory: async (address, size) => {
    const out: number[] = [];
    for (let i = 0n; i < BigInt(size); i++) {
      const b = memory.get(address + i);
      if (b === undefined) break;
      out.push(b);
    }
    return Uint8Array.from(out);
  },
  ...more,
});

const run = (bytes: number[], more?: Partial<ExpressionContext>) => evaluateLocation(Uint8Array.from(bytes), ctx(more));
const value = async (bytes: number[], more?: Partial<ExpressionContext>): Promise<bigint> => {
  const loc = await run([...bytes, DW_OP.stack_value], more);
  if (loc.kind !== 'value') throw new Error(`not a value: ${JSON.stringify(loc, (_, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
  return loc.value;
};
const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) return [...out, b];
    out.push(b | 0x80);
  }
};
const lit = (n: number) => DW_OP.lit0 + n;
const U64 = (n: bigint) => BigInt.asUintN(64, n);

describe('arithmetic and stack', () => {
  it('computes with 64-bit wrapping, signed division and signed comparisons', async () => {
    expect(await value([lit(7), lit(5), DW_OP.minus])).toBe(2n);
    expect(await value([lit(5), lit(7), DW_OP.minus])).toBe(U64(-2n));
    expect(await value([DW_OP.const8u, ...Array(8).fill(0xff), lit(2), DW_OP.plus])).toBe(1n);
    expect(await value([DW_OP.consts, ...sleb(-7), lit(2), DW_OP.div])).toBe(U64(-3n));
    expect(await value([DW_OP.consts, ...sleb(-7), lit(2), DW_OP.mod])).toBe(1n); // generic mod is unsigned, like gdb
    expect(await value([DW_OP.consts, ...sleb(-1), lit(0), DW_OP.lt])).toBe(1n);
    expect(await value([DW_OP.consts, ...sleb(-1), lit(0), DW_OP.gt])).toBe(0n);
    expect(await value([DW_OP.consts, ...sleb(-16), lit(2), DW_OP.shra])).toBe(U64(-4n));
    expect(await value([DW_OP.consts, ...sleb(-16), DW_OP.const1u, 60, DW_OP.shr])).toBe(0xfn);
    expect(await value([lit(1), DW_OP.const1u, 64, DW_OP.shl])).toBe(0n);
    expect(await value([DW_OP.consts, ...sleb(-5), DW_OP.abs])).toBe(5n);
    expect(await value([lit(5), DW_OP.neg])).toBe(U64(-5n));
    expect(await value([lit(0), DW_OP.not])).toBe(U64(-1n));
    expect(await value([lit(12), lit(10), DW_OP.and, lit(1), DW_OP.or, lit(3), DW_OP.xor])).toBe(10n);
    expect(await value([lit(6), lit(7), DW_OP.mul, DW_OP.plus_uconst, 8])).toBe(50n);
    expect(await value([DW_OP.const2s, 0xff, 0xff])).toBe(U64(-1n));
  });

  it('moves stack entries: dup, drop, over, pick, swap, rot', async () => {
    expect(await value([lit(1), lit(2), DW_OP.over, DW_OP.minus, DW_OP.plus])).toBe(2n); // 1 + (2 - 1)
    expect(await value([lit(1), lit(2), lit(3), DW_OP.pick, 2, DW_OP.swap, DW_OP.drop])).toBe(1n);
    expect(await value([lit(1), lit(2), lit(3), DW_OP.rot, DW_OP.drop, DW_OP.drop])).toBe(3n); // 3 1 2 -> bottom is 3
    expect(await value([lit(4), DW_OP.dup, DW_OP.mul])).toBe(16n);
  });

  it('branches and skips within bounds, and stops a loop at the step limit', async () => {
    // if r12 << 32 == 0 then r15 else r14 (gcc -O2's pattern in this kernel's loclists)
    const pick = [
      DW_OP.breg0 + 15,
      0,
      DW_OP.breg0 + 14,
      0,
      DW_OP.breg0 + 12,
      0,
      DW_OP.const1u,
      32,
      DW_OP.shl,
      lit(0),
      DW_OP.eq,
      DW_OP.bra,
      1,
      0,
      DW_OP.swap,
      DW_OP.drop,
    ];
    expect(await value(pick)).toBe(15n);
    regs[12] = 0x5_0000_0001n;
    expect(await value(pick)).toBe(14n);
    regs[12] = 0x5_0000_0000n;
    expect(await value([lit(1), DW_OP.skip, 1, 0, lit(2)])).toBe(1n);
    await expect(run([DW_OP.skip, 0xfd, 0xff])).rejects.toThrow(/more than 10000 ops/);
    await expect(run([DW_OP.skip, 0xfd, 0xff], { maxSteps: 50 })).rejects.toThrow(/more than 50 ops/);
    await expect(run([lit(1), DW_OP.bra, 10, 0])).rejects.toThrow(/branch to offset 14 outside/);
  });
});

describe('locations', () => {
  it('reads registers, memory and the frame', async () => {
    expect(await run([DW_OP.reg0 + 3])).toEqual({ kind: 'register', reg: 3 });
    expect(await run([DW_OP.regx, 33])).toEqual({ kind: 'register', reg: 33 });
    expect(await run([DW_OP.breg0 + 7, ...sleb(-16)])).toEqual({ kind: 'memory', address: 0x7fe0n });
    expect(await run([DW_OP.bregx, 5, 8])).toEqual({ kind: 'memory', address: 0x2008n });
    expect(await value([DW_OP.breg0 + 5, 0, DW_OP.deref])).toBe(0x78563412fffffffen);
    expect(await value([DW_OP.breg0 + 5, 0, DW_OP.deref_size, 4])).toBe(0xfffffffen);
    expect(await value([lit(0), DW_OP.breg0 + 5, 0, DW_OP.xderef_size, 1])).toBe(0xfen);
    expect(await run([DW_OP.fbreg, ...sleb(-20)], { frameBase: async () => 0x9000n })).toEqual({ kind: 'memory', address: 0x9000n - 20n });
    expect(await run([DW_OP.call_frame_cfa], { cfa: async () => 0x7ff8n })).toEqual({ kind: 'memory', address: 0x7ff8n });
    expect(await run([DW_OP.addr, 0, 0x60, 0x10, 0, 0, 0, 0, 0])).toEqual({ kind: 'memory', address: 0x106000n });
    expect(await run([DW_OP.addrx, 1], { resolveAddrIndex: (i) => 0x100000n + i })).toEqual({ kind: 'memory', address: 0x100001n });
    expect(await run([DW_OP.push_object_address, DW_OP.plus_uconst, 8], { objectAddress: 0x4000n })).toEqual({
      kind: 'memory',
      address: 0x4008n,
    });
  });

  it('sign-extends a loaded int the way gcc -O2 describes it', async () => {
    // DW_OP_breg1 (rdx): 0; DW_OP_deref_size: 4; DW_OP_const1u: 32; DW_OP_shl; DW_OP_const1u: 32; DW_OP_shra
    regs[1] = 0x2000n;
    expect(await value([DW_OP.breg0 + 1, 0, DW_OP.deref_size, 4, DW_OP.const1u, 32, DW_OP.shl, DW_OP.const1u, 32, DW_OP.shra])).toBe(
      U64(-2n),
    );
    regs[1] = 0xfffffffen;
  });

  it('describes values that are not in memory', async () => {
    expect(await run([DW_OP.implicit_value, 2, 0xab, 0xcd])).toEqual({ kind: 'implicit', bytes: Uint8Array.from([0xab, 0xcd]) });
    expect(await run([DW_OP.implicit_pointer, 0x10, 0x02, 0, 0, 4])).toEqual({ kind: 'implicit-pointer', die: 0x210n, offset: 4n });
    expect(await run([])).toEqual({ kind: 'unavailable', reason: 'optimized out' });
  });

  it('assembles composite locations from pieces', async () => {
    const loc = await run([DW_OP.piece, 16, lit(0), DW_OP.stack_value, DW_OP.piece, 8]);
    expect(loc).toEqual({
      kind: 'pieces',
      pieces: [
        { location: { kind: 'unavailable', reason: 'optimized out' }, sizeBits: 128, offsetBits: 0 },
        { location: { kind: 'value', value: 0n }, sizeBits: 64, offsetBits: 0 },
      ],
    });
    const regs2 = await run([
      DW_OP.reg0,
      DW_OP.piece,
      4,
      DW_OP.breg0 + 5,
      ...sleb(-56),
      DW_OP.piece,
      4,
      DW_OP.piece,
      2,
      DW_OP.reg0 + 1,
      DW_OP.bit_piece,
      3,
      5,
    ]);
    expect(regs2.kind === 'pieces' && regs2.pieces.map((p) => [p.location.kind, p.sizeBits, p.offsetBits])).toEqual([
      ['register', 32, 0],
      ['memory', 32, 0],
      ['unavailable', 16, 0],
      ['register', 3, 5],
    ]);
  });

  it('reports what the frame does not know as unavailable', async () => {
    expect(await run([DW_OP.breg0 + 3, 0])).toEqual({ kind: 'unavailable', reason: 'register rbx is not available in this frame' });
    const ev = [DW_OP.entry_value, 1, DW_OP.reg0 + 5, DW_OP.stack_value];
    expect(await run(ev)).toEqual({ kind: 'unavailable', reason: '<entry value unavailable>' });
    expect(await run(ev, { entryValue: async (e) => (e[0] === DW_OP.reg0 + 5 ? 42n : undefined) })).toEqual({ kind: 'value', value: 42n });
    expect((await run([DW_OP.GNU_parameter_ref, 1, 0, 0, 0, DW_OP.stack_value])).kind).toBe('unavailable');
    expect(await run([DW_OP.breg0 + 7, ...sleb(64), DW_OP.deref])).toEqual({ kind: 'unavailable', reason: 'cannot read memory at 0x8030' });
    expect(await run([DW_OP.call_frame_cfa], { cfa: async () => undefined })).toMatchObject({ kind: 'unavailable' });
  });

  it('runs DW_OP_call* through the callback', async () => {
    const call = async (die: bigint) => (die === 0x40n ? Uint8Array.from([lit(3), DW_OP.plus]) : undefined);
    expect(await value([lit(1), DW_OP.call4, 0x40, 0, 0, 0], { call })).toBe(4n);
    expect(await value([lit(1), DW_OP.call2, 0x41, 0], { call })).toBe(1n);
    await expect(run([DW_OP.call2, 0x40, 0])).rejects.toThrow(/DW_OP_call2 is not supported here/);
    const recursive = async () => Uint8Array.from([DW_OP.call2, 0, 0]);
    await expect(run([DW_OP.call2, 0, 0], { call: recursive })).rejects.toThrow(/nested more than/);
  });
});

describe('typed ops', () => {
  const types: Record<string, { size: number; encoding: number }> = {
    '43': { size: 8, encoding: DW_ATE.unsigned },
    '47': { size: 4, encoding: DW_ATE.unsigned },
    '50': { size: 4, encoding: DW_ATE.signed },
    '51': { size: 8, encoding: DW_ATE.signed },
  };
  const baseType = (die: bigint) => types[die.toString()];

  it('converts like clang -O2 narrowing a value (convert <0x2b> unsigned 64, convert <0x2f> unsigned 32)', async () => {
    regs[0] = 0x1_2345_6789n;
    const loc = await run([DW_OP.breg0, 0, DW_OP.convert, 0x2b, DW_OP.convert, 0x2f, DW_OP.stack_value], { baseType });
    expect(loc).toEqual({ kind: 'value', value: 0x23456789n, type: { size: 4, encoding: DW_ATE.unsigned } });
    regs[0] = 0x1000n;
  });

  it('sign-extends through signed types, reinterprets, and reads typed registers, memory and constants', async () => {
    expect(await value([DW_OP.const4u, 0xff, 0xff, 0xff, 0xff, DW_OP.convert, 50, DW_OP.convert, 51], { baseType })).toBe(-1n);
    expect(await value([DW_OP.const_type, 50, 4, 0xfe, 0xff, 0xff, 0xff, DW_OP.reinterpret, 47], { baseType })).toBe(0xfffffffen);
    expect(await value([DW_OP.regval_type, 1, 50], { baseType })).toBe(-2n);
    expect(await value([DW_OP.breg0 + 5, 0, DW_OP.deref_type, 4, 50, DW_OP.convert, 0], { baseType })).toBe(U64(-2n));
    expect(await value([DW_OP.const_type, 50, 4, 7, 0, 0, 0, DW_OP.const_type, 50, 4, 2, 0, 0, 0, DW_OP.div], { baseType })).toBe(3n);
    await expect(run([lit(1), DW_OP.convert, 0x2b])).rejects.toThrow(/needs base type information/);
    await expect(run([lit(1), DW_OP.convert, 99], { baseType })).rejects.toThrow(/no base type at unit offset 0x63/);
  });
});

describe('malformed expressions', () => {
  const fails = async (bytes: number[], re: RegExp, offset: number, more?: Partial<ExpressionContext>) => {
    const err: unknown = await run(bytes, more).then(
      () => undefined,
      (e) => e,
    );
    expect(err).toBeInstanceOf(ExpressionError);
    expect(err).toBeInstanceOf(FormatError);
    expect((err as ExpressionError).message).toMatch(re);
    expect((err as ExpressionError).offset).toBe(offset);
  };

  it('names the offending op', async () => {
    await fails([lit(1), DW_OP.addr, 1, 2, 3], /truncated DW_OP_addr/, 1);
    await fails([lit(1), DW_OP.bregx, 0x80], /truncated DW_OP_bregx/, 1);
    await fails([lit(1), DW_OP.plus], /stack underflow/, 1);
    await fails([0x01], /unknown opcode 0x1/, 0);
    await fails([DW_OP.reg0, lit(1)], /after a location that must end the expression/, 1);
    await fails([lit(1), lit(0), DW_OP.div], /division by zero/, 2);
    await fails([DW_OP.form_tls_address], /TLS not supported/, 0);
    await fails([lit(0), DW_OP.GNU_push_tls_address], /TLS not supported/, 1);
    await fails([DW_OP.fbreg, 0], /needs a frame base/, 0);
    await fails([DW_OP.addrx, 0], /needs the unit's .debug_addr/, 0);
    await fails([lit(1), lit(1), DW_OP.xderef], /address spaces/, 2);
    await fails([lit(0), DW_OP.deref_size, 9], /dereference size 9/, 1);
    await fails([DW_OP.reg0, DW_OP.piece, 4, DW_OP.reg0 + 1], /composite location does not end with a piece/, 4);
  });

  it('bounds the stack', async () => {
    await fails([lit(1), DW_OP.dup, DW_OP.skip, 0xfc, 0xff], /stack deeper than 1024/, 1);
  });

  it('survives random bytes with only ExpressionError, quickly', async () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const t0 = performance.now();
    for (let i = 0; i < 2000; i++) {
      const bytes = Array.from({ length: 1 + Math.floor(rand() * 12) }, () => Math.floor(rand() * 256));
      const loc: Location | unknown = await run(bytes, { maxSteps: 200 }).catch((e) => e);
      if (loc instanceof Error) expect(loc).toBeInstanceOf(ExpressionError);
    }
    expect(performance.now() - t0).toBeLessThan(3000);
  });
});

describe('floating-point typed ops (gcc -O2 describes xmm-held values so)', () => {
  const types: Record<string, { size: number; encoding: number }> = {
    0x2e: { size: 8, encoding: DW_ATE.float },
    0x35: { size: 4, encoding: DW_ATE.float },
    0x3c: { size: 16, encoding: DW_ATE.float },
  };
  const baseType = (die: bigint) => types[die.toString()];
  const f64 = (x: number) => {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(x);
    return [...b];
  };
  const f32 = (x: number) => {
    const b = Buffer.alloc(4);
    b.writeFloatLE(x);
    return [...b];
  };
  const asDouble = (v: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(v);
    return b.readDoubleLE(0);
  };
  // 1.25L and 3.0L as x87 extended (mantissa with its integer bit, then sign and exponent).
  const ld = (mantissa: bigint, exp: number) => [
    ...Array.from({ length: 8 }, (_, i) => Number((mantissa >> BigInt(8 * i)) & 0xffn)),
    exp & 0xff,
    exp >> 8,
    0,
    0,
    0,
    0,
    0,
    0,
  ];

  it('computes in the type: a double times a constant, a float widened to double, comparisons', async () => {
    regs[17] = BigInt.asUintN(64, BigInt(`0x${Buffer.from(f64(7.338)).reverse().toString('hex')}`)) | (0xdeadn << 64n); // xmm0: the upper half is not the value's
    expect(asDouble(await value([DW_OP.regval_type, 17, 0x2e, DW_OP.const_type, 0x2e, 8, ...f64(2), DW_OP.mul], { baseType }))).toBe(
      14.676,
    );
    expect(asDouble(await value([DW_OP.const_type, 0x35, 4, ...f32(0.5), DW_OP.convert, 0x2e, DW_OP.neg], { baseType }))).toBe(-0.5);
    expect(await value([DW_OP.const_type, 0x2e, 8, ...f64(1.5), DW_OP.const_type, 0x2e, 8, ...f64(2.5), DW_OP.lt], { baseType })).toBe(1n);
    // An entry value read through DW_OP_regval_type has that type.
    expect(
      asDouble(
        await value([DW_OP.entry_value, 3, DW_OP.regval_type, 17, 0x2e, DW_OP.const_type, 0x2e, 8, ...f64(3), DW_OP.mul], {
          baseType,
          entryValue: async () => regs[17],
        }),
      ),
    ).toBeCloseTo(22.014, 12);
    delete regs[17];
  });

  it('multiplies and divides long doubles exactly to 64 mantissa bits', async () => {
    store(0x9000n, ld(0xa000000000000000n, 0x3fff)); // 1.25
    store(0x9010n, ld(0xc000000000000000n, 0x4000)); // 3
    const product = await value(
      [
        DW_OP.addr,
        0,
        0x90,
        0,
        0,
        0,
        0,
        0,
        0,
        DW_OP.deref_type,
        16,
        0x3c,
        DW_OP.addr,
        0x10,
        0x90,
        0,
        0,
        0,
        0,
        0,
        0,
        DW_OP.deref_type,
        16,
        0x3c,
        DW_OP.mul,
      ],
      { baseType },
    );
    expect(product).toBe((0x4000n << 64n) | 0xf000000000000000n); // 3.75, as app=fp prints it
    const third = await value(
      [
        DW_OP.addr,
        0,
        0x90,
        0,
        0,
        0,
        0,
        0,
        0,
        DW_OP.deref_type,
        16,
        0x3c,
        DW_OP.addr,
        0x10,
        0x90,
        0,
        0,
        0,
        0,
        0,
        0,
        DW_OP.deref_type,
        16,
        0x3c,
        DW_OP.div,
      ],
      { baseType },
    );
    // 1.25 / 3 = 5/12 = 1.1010...b * 2^-2: the bits after the 64th are 0101..., so it rounds down.
    expect(third).toBe((0x3ffdn << 64n) | 0xd555555555555555n);
  });
});
