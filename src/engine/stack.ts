// Backtraces: CFI unwinding (frame pointers where no FDE covers a pc) over the target's registers
// and memory, then each physical frame expanded into its inline chain with source positions.
import { rowAt, unwindStack, type RegisterReader, type StackFrame } from '../../symbols/cfi/index.js';
import { registersRead } from '../../symbols/expr/index.js';
import { dwarfRegisterName, dwarfRegisterNumber, type FrameScope } from '../../symbols/index.js';
import type { Target } from '../targets/index.js';
import type { Frame } from './model.js';
import type { Program } from './program.js';

/** A frame plus what evaluating variables in it needs. */
export interface FrameContext extends Frame {
  /** Registers of the physical frame, by DWARF number (undefined: not recoverable here). */
  registers: RegisterReader;
  /** The address symbols are looked up at: pc - 1 for a caller (the call may end its function). */
  lookupPc: bigint;
  /** Variables in scope for this (possibly inlined) frame. */
  scope?: FrameScope;
  /** The interrupt/exception entry frame gdb shows as `<signal handler called>`. */
  signalFrame: boolean;
  /** Stands at the call site of inlined frames hidden at this stop (so its line is the call's). */
  callSite?: boolean;
}

export interface Backtrace {
  frames: FrameContext[];
  /** Why the walk stopped, when it was not the end of the stack. */
  incomplete?: string;
}

/** Reads memory for the unwinder (as vCPU `thread` sees it): unreadable bytes come back short instead of throwing. */
export function memoryReader(target: Pick<Target, 'readMemory'>, thread?: number) {
  return async (address: bigint, size: number): Promise<Uint8Array> => {
    try {
      return await target.readMemory(address, size, thread);
    } catch {
      return new Uint8Array(0);
    }
  };
}

export async function backtrace(target: Target, program: Program | undefined, thread: number, limit = 256): Promise<Backtrace> {
  return backtraceFrom(target, program, await target.readRegisters(thread), limit, thread);
}

/**
 * A backtrace from any register set: a vCPU's (`vcpu`: its stack is read through its page tables),
 * or a sleeping guest thread's saved context.
 */
export async function backtraceFrom(
  target: Target,
  program: Program | undefined,
  regs: Map<string, bigint>,
  limit = 256,
  vcpu?: number,
): Promise<Backtrace> {
  const pc = regs.get('rip');
  if (pc === undefined) throw new Error('no rip in the register set');
  const innermost = registerReader(regs);
  const frames: FrameContext[] = [];
  if (!program) {
    frames.push({ level: 0, pc, inlined: false, unwoundBy: 'innermost', registers: innermost, lookupPc: pc, signalFrame: false });
    return { frames };
  }
  const walk = await unwindStack(program.cfi, pc, innermost, memoryReader(target, vcpu), { maxFrames: limit });
  const physical = keepAcrossCalls(program, walk.frames);
  /** Pushes the frames of one code position: its inline chain, innermost first. */
  const expand = (base: Omit<FrameContext, 'level' | 'inlined'>) => {
    const chain = program.symbols.symbolize(base.lookupPc, { gdb: true });
    // No function, not even gdb's minimal symbol (symbolize's fallback): `?? ()`.
    if (chain.length === 0 || chain[0]!.function === undefined) {
      frames.push({ ...base, level: frames.length, inlined: false });
      return;
    }
    const scopes = program.symbols.scopesAt(base.lookupPc);
    chain.forEach((s, k) => {
      frames.push({
        ...base,
        level: frames.length,
        inlined: s.inlined,
        // Only the innermost of an inline chain is the physical frame's own position.
        signalFrame: base.signalFrame && k === chain.length - 1,
        ...(s.function !== undefined && { function: s.function }),
        ...(s.file !== undefined && { file: s.file }),
        ...(s.line ? { line: s.line } : {}),
        ...(s.column ? { column: s.column } : {}),
        ...(scopes[k] && { scope: scopes[k] }),
      });
    });
  };
  for (let i = 0; i < physical.length && frames.length < limit; i++) {
    const p = physical[i]!;
    const lookupPc = p.pcIsReturnAddress ? p.pc - 1n : p.pc;
    const caller = physical[i + 1];
    const signalFrame = caller?.pcIsReturnAddress === false;
    const unwoundBy =
      i === 0 ? 'innermost' : physical[i - 1] && !p.pcIsReturnAddress ? 'signal' : p.method === 'frame-pointer' ? 'frame-pointer' : 'cfi';
    expand({ pc: p.pc, registers: p.registers, lookupPc, signalFrame, unwoundBy, ...(p.cfa !== undefined && { cfa: p.cfa }) });
    // Functions that tail-called their way here left no frame: show them between this frame and
    // its caller, as gdb does, from the call sites' DWARF (the registers are the caller's; the
    // CFA is this frame's, which is what returns).
    if (caller?.pcIsReturnAddress) {
      for (const t of program.symbols.tailCallsBetween(caller.pc, lookupPc).reverse()) {
        if (frames.length >= limit) break;
        expand({
          pc: t.returnPc,
          registers: caller.registers,
          lookupPc: t.returnPc - 1n,
          signalFrame: false,
          unwoundBy: 'tail-call',
          ...(p.cfa !== undefined && { cfa: p.cfa }),
        });
      }
    }
  }
  const incomplete =
    walk.end === 'outermost'
      ? undefined
      : walk.end === 'no-unwind-info'
        ? 'no unwind information for the next frame'
        : walk.end === 'error'
          ? (walk.error?.message ?? 'unwind error')
          : walk.end === 'loop'
            ? 'previous frame identical to this frame (corrupt stack?)'
            : walk.end === 'max-frames'
              ? `stopped after ${limit} frames`
              : undefined;
  return { frames, ...(incomplete && { incomplete }) };
}

/**
 * The CFA of a register set's innermost frame, as its backtrace would give it (stepping tells
 * frames apart by it at every stop; the rest of the stack is not needed). Where the CFI rule is a
 * register plus an offset, as compilers emit almost everywhere, that is all it takes; otherwise
 * (an expression, no FDE: frame pointers) one unwind step finds it.
 */
export async function innermostCfa(target: Target, program: Program | undefined, regs: Map<string, bigint>): Promise<bigint | undefined> {
  const pc = regs.get('rip');
  if (pc === undefined || !program) return undefined;
  const fde = program.cfi.findFde(pc);
  const rule = fde && rowAt(fde, pc).cfa;
  const base = rule?.kind === 'register' ? regs.get(dwarfRegisterName(rule.reg) ?? '') : undefined;
  if (rule?.kind === 'register' && base !== undefined) return BigInt.asUintN(64, base + BigInt(rule.offset));
  const walk = await unwindStack(program.cfi, pc, registerReader(regs), memoryReader(target), { maxFrames: 2 });
  return walk.frames[0]!.cfa;
}

function registerReader(regs: Map<string, bigint>): RegisterReader {
  return async (reg) => {
    const name = dwarfRegisterName(reg);
    return name === undefined ? undefined : regs.get(name);
  };
}

/**
 * The call-clobbered registers CFI cannot give a caller are lost in general, but not those its
 * variables stay in across the call: gcc keeps values in registers it knows the callee, and all
 * it calls, leave alone (-fipa-ra), and says so with a location that covers the return address.
 * For those, the caller's value is the first one the inner frames' CFI gives, down to the
 * registers of the innermost frame (what gdb assumes for every register it cannot unwind).
 */
function keepAcrossCalls(program: Program, frames: StackFrame[]): StackFrame[] {
  const unchanged = async (j: number, r: number): Promise<bigint | undefined> => {
    for (let k = j; k >= 0; k--) {
      const v = await frames[k]!.registers(r);
      if (v !== undefined) return v;
    }
    return undefined;
  };
  return frames.map((f, i) => {
    if (i === 0 || !f.pcIsReturnAddress) return f;
    const kept = new Set<number>();
    for (const scope of program.symbols.scopesAt(f.pc - 1n)) {
      for (const v of scope.variables) {
        const loc = v.location;
        if (loc.kind !== 'expr' || (loc.until !== undefined && loc.until <= f.pc)) continue;
        for (const r of registersRead(loc.expr.expr, { addressSize: loc.expr.unit.addressSize, refSize: loc.expr.unit.offsetSize }))
          kept.add(r);
      }
    }
    if (kept.size === 0) return f;
    const own = f.registers;
    return { ...f, registers: async (r: number) => (await own(r)) ?? (kept.has(r) ? unchanged(i - 1, r) : undefined) };
  });
}

/** The backtrace without its `count` innermost inlined frames: the stop is shown at their call site. */
export function hideInlineFrames(bt: Backtrace, count: number): Backtrace {
  let n = 0;
  while (n < count && bt.frames[n]?.inlined) n++;
  if (n === 0) return bt;
  return { ...bt, frames: bt.frames.slice(n).map((f, i) => ({ ...f, level: i, ...(i === 0 && { callSite: true }) })) };
}

/** A register of a frame by name (`rip`, `rsp`, ...), through its DWARF number. */
export async function frameRegister(frame: FrameContext, name: string): Promise<bigint | undefined> {
  const n = dwarfRegisterNumber(name);
  return n === undefined ? undefined : frame.registers(n);
}

/** gdb's amd64 register order, in which `info frame` lists saved registers. */
const GDB_REG_ORDER = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip'];

/**
 * Where the caller's registers that this frame saved are, from the frame's CFI row: gdb's
 * "Saved registers" (the return address is `rip`), in gdb's register order.
 */
export function savedRegisters(program: Program, f: FrameContext): Array<{ name: string; address: bigint }> {
  const fde = program.cfi.findFde(f.lookupPc);
  if (!fde || f.cfa === undefined) return [];
  const out: Array<{ name: string; address: bigint }> = [];
  for (const [reg, rule] of rowAt(fde, f.lookupPc).registers) {
    if (rule.kind !== 'offset') continue;
    const name = dwarfRegisterName(reg);
    if (name) out.push({ name, address: BigInt.asUintN(64, f.cfa + BigInt(rule.offset)) });
  }
  return out.sort((a, b) => GDB_REG_ORDER.indexOf(a.name) - GDB_REG_ORDER.indexOf(b.name));
}

/** The frame's CFI says it has no caller (its return address is undefined): gdb's outermost frame, whose id is 0. */
export function outermostByCfi(program: Program, f: FrameContext): boolean {
  const fde = program.cfi.findFde(f.lookupPc);
  return !!fde && rowAt(fde, f.lookupPc).registers.get(16)?.kind === 'undefined';
}

/**
 * The address gdb's `info frame` calls "Arglist at" and "Locals at": gdb's amd64 prologue reading
 * of the function's first bytes (its frame base, not DWARF's). After `push %rbp; mov %rsp,%rbp`
 * it is %rbp; otherwise %rsp less 8, or %rsp itself once a leading `push %rbp` has run.
 */
export async function gdbFrameBase(program: Program, f: FrameContext): Promise<bigint | undefined> {
  const start = program.symbols.functionAt(f.lookupPc)?.entryPc ?? program.symbols.minimalSymbolAt(f.lookupPc)?.symbol.address;
  let spOffset = -8n;
  let framePointer = false;
  if (start !== undefined && f.pc > start) {
    const code = program.symbols.codeAt(start, 16) ?? new Uint8Array(0);
    let at = code[0] === 0xf3 && code[1] === 0x0f && code[2] === 0x1e && code[3] === 0xfa ? 4 : 0; // endbr64
    if (code[at] === 0x55 && f.pc > start + BigInt(at)) {
      spOffset = 0n;
      at++;
      const next = [...code.subarray(at, at + 3)].join(',');
      const mov = ['72,137,229', '72,139,236'].includes(next) || ['137,229', '139,236'].includes(next.split(',').slice(0, 2).join(','));
      framePointer = mov && f.pc > start + BigInt(at);
    }
  }
  const reg = await f.registers(framePointer ? 6 : 7);
  return reg === undefined ? undefined : BigInt.asUintN(64, reg + (framePointer ? 0n : spOffset));
}
