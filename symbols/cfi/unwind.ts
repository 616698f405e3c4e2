// One step of CFI unwinding on x86_64: from a frame's pc and registers to its caller's registers.
import { evaluateLocation, type Location } from '../expr/index.js';
import type { Fde } from './entries.js';
import { rowAt, type RegisterRule, type UnwindRow } from './program.js';
import type { CfiTable } from './table.js';
import { CALLEE_SAVED, GENERAL_REGISTERS, X86_64 } from '../x86_64-registers.js';

/** A register of the frame being unwound (DWARF number); undefined when not known. */
export type RegisterReader = (reg: number) => Promise<bigint | undefined>;
/** Target memory; a short result means unreadable. */
export type MemoryReader = (address: bigint, size: number) => Promise<Uint8Array>;

export interface UnwindResult {
  /** The unwound frame's canonical frame address (its caller's rsp). */
  cfa: bigint;
  /** The caller's known registers by DWARF number: 7 (rsp) is the CFA, 16 (rip) the return address. */
  registers: Map<number, bigint>;
  /** The frame's CFI says there is no caller (DW_CFA_undefined rip): the stack ends here. */
  returnAddressUndefined: boolean;
  /** The unwound frame is a signal/interrupt frame: the caller's pc is exact, not a return address. */
  isSignalFrame: boolean;
  fde?: Fde;
}

export interface UnwindStepOptions {
  /** `pc` is a return address (a caller frame whose callee was not a signal frame): look up pc - 1,
   * since the call may be the function's last instruction. */
  pcIsReturnAddress?: boolean;
}

/** Target state the CFI needs but cannot be had (an unknown CFA register, unreadable stack). */
export class UnwindError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnwindError';
  }
}

/** Unwinds the frame at `pc`; null when no FDE covers it (the caller may try frame pointers). */
export async function unwindStep(
  table: CfiTable,
  pc: bigint,
  regs: RegisterReader,
  mem: MemoryReader,
  opts: UnwindStepOptions = {},
): Promise<UnwindResult | null> {
  const lookup = opts.pcIsReturnAddress ? pc - 1n : pc;
  const fde = table.findFde(lookup);
  if (!fde) return null;
  const row = rowAt(fde, lookup);
  const cfa = await computeCfa(row, regs, mem, pc);
  const ra = fde.cie.returnAddressRegister;
  const isSignalFrame = fde.cie.isSignalFrame;
  const columns = new Set([...GENERAL_REGISTERS, ...row.registers.keys()]);
  const registers = new Map<number, bigint>();
  let returnAddressUndefined = false;
  await Promise.all(
    [...columns].map(async (reg) => {
      const rule = row.registers.get(reg) ?? defaultRule(reg, ra, isSignalFrame);
      if (reg === ra && rule.kind === 'undefined') returnAddressUndefined = true;
      const v = await applyRule(rule, reg, cfa, regs, mem);
      if (v !== undefined) registers.set(reg, v);
    }),
  );
  // The return address column is the caller's rip (on x86_64 it is rip's own column, 16).
  const returnAddress = registers.get(ra);
  if (returnAddress !== undefined) registers.set(X86_64.rip, returnAddress);
  if (!returnAddressUndefined && !registers.has(X86_64.rip))
    throw new UnwindError(`return address of the frame at 0x${pc.toString(16)} is unreadable`);
  return { cfa, registers, returnAddressUndefined, isSignalFrame, fde };
}

/**
 * What a register with no rule means. rsp becomes the CFA; callee-saved registers keep their
 * value; caller-saved ones are lost across a call. An interrupt clobbers nothing, so in a signal
 * frame every register without a rule keeps its value.
 */
function defaultRule(reg: number, ra: number, isSignalFrame: boolean): RegisterRule | { kind: 'cfa' } | { kind: 'unknown' } {
  if (reg === X86_64.rsp) return { kind: 'cfa' };
  if (reg === ra) return { kind: 'undefined' };
  if (isSignalFrame || CALLEE_SAVED.has(reg)) return { kind: 'same-value' };
  return { kind: 'unknown' };
}

async function computeCfa(row: UnwindRow, regs: RegisterReader, mem: MemoryReader, pc: bigint): Promise<bigint> {
  const rule = row.cfa;
  if (!rule) throw new UnwindError(`no CFA rule at 0x${pc.toString(16)}`);
  if (rule.kind === 'register') {
    const base = await regs(rule.reg);
    if (base === undefined) throw new UnwindError(`CFA register ${rule.reg} is unknown at 0x${pc.toString(16)}`);
    return BigInt.asUintN(64, base + BigInt(rule.offset));
  }
  const v = locationValue(await evaluateLocation(rule.expr, { readRegister: regs, readMemory: mem }));
  if (v === undefined) throw new UnwindError(`CFA expression at 0x${pc.toString(16)} cannot be evaluated here`);
  return v;
}

/** The number a CFI expression computed: the address of a memory location, or a stack value. */
function locationValue(loc: Location): bigint | undefined {
  if (loc.kind === 'memory') return loc.address;
  if (loc.kind === 'value') return BigInt.asUintN(64, loc.value);
  return undefined;
}

async function applyRule(
  rule: RegisterRule | { kind: 'cfa' } | { kind: 'unknown' },
  reg: number,
  cfa: bigint,
  regs: RegisterReader,
  mem: MemoryReader,
): Promise<bigint | undefined> {
  const at = (offset: number) => BigInt.asUintN(64, cfa + BigInt(offset));
  switch (rule.kind) {
    case 'cfa':
      return cfa;
    case 'unknown':
    case 'undefined':
      return undefined;
    case 'same-value':
      return regs(reg);
    case 'register':
      return regs(rule.reg);
    case 'offset':
      return readU64(mem, at(rule.offset));
    case 'val-offset':
      return at(rule.offset);
    case 'expression':
    case 'val-expression': {
      const v = locationValue(await evaluateLocation(rule.expr, { readRegister: regs, readMemory: mem, initialStack: [cfa] }));
      if (v === undefined || rule.kind === 'val-expression') return v;
      return readU64(mem, v);
    }
  }
}

async function readU64(mem: MemoryReader, address: bigint): Promise<bigint | undefined> {
  const b = await mem(address, 8);
  if (b.length < 8) return undefined;
  return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
}
