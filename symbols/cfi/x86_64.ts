// x86_64 DWARF register numbers the unwinder needs (System V psABI figure 3.36).

export const X86_64 = {
  rax: 0, rdx: 1, rcx: 2, rbx: 3, rsi: 4, rdi: 5, rbp: 6, rsp: 7,
  r8: 8, r9: 9, r10: 10, r11: 11, r12: 12, r13: 13, r14: 14, r15: 15,
  /** The return address column, which stands for the caller's rip. */
  rip: 16,
} as const;

/** Registers a callee must preserve (psABI 3.2.1): unmentioned in CFI, they keep their value. */
export const CALLEE_SAVED: ReadonlySet<number> = new Set([X86_64.rbx, X86_64.rbp, X86_64.r12, X86_64.r13, X86_64.r14, X86_64.r15]);

/** The general registers and rip: what one unwind step recovers. */
export const GENERAL_REGISTERS: readonly number[] = Array.from({ length: 17 }, (_, i) => i);
