// Frame-pointer unwinding for code without CFI: with `push %rbp; mov %rsp,%rbp` prologues,
// [rbp] is the caller's rbp and [rbp+8] the return address. Guessing, so checked: the record must
// lie above the stack pointer, be aligned, and the chain must move up the stack (no loops).
import type { MemoryReader, RegisterReader, UnwindResult } from './unwind.js';
import { X86_64 } from '../x86_64-registers.js';

export interface FramePointerOptions {
  /** Largest plausible distance between rsp and rbp (default 1 MiB); larger means rbp is not a frame pointer. */
  maxFrameSize?: bigint;
}

/** The caller of the frame whose registers `regs` reads, or null when rbp does not look like a frame chain. */
export async function unwindFramePointer(
  regs: RegisterReader,
  mem: MemoryReader,
  opts: FramePointerOptions = {},
): Promise<UnwindResult | null> {
  const [rbp, rsp] = await Promise.all([regs(X86_64.rbp), regs(X86_64.rsp)]);
  if (rbp === undefined || rsp === undefined || rbp === 0n) return null;
  if (rbp % 8n !== 0n || rbp < rsp || rbp - rsp > (opts.maxFrameSize ?? 1n << 20n)) return null;
  const record = await mem(rbp, 16);
  if (record.length < 16) return null;
  const view = new DataView(record.buffer, record.byteOffset, 16);
  const savedRbp = view.getBigUint64(0, true);
  const returnAddress = view.getBigUint64(8, true);
  // The caller's frame record is higher up the stack, or rbp is 0 in the outermost frame.
  if (savedRbp !== 0n && savedRbp <= rbp) return null;
  const cfa = rbp + 16n;
  const registers = new Map<number, bigint>([
    [X86_64.rsp, cfa],
    [X86_64.rbp, savedRbp],
  ]);
  if (returnAddress !== 0n) registers.set(X86_64.rip, returnAddress);
  return { cfa, registers, returnAddressUndefined: returnAddress === 0n, isSignalFrame: false };
}
