// x86_64 register names shared by every target: the ones the gdbstub, crash dumps and the user call
// them by (their DWARF numbering is symbols/x86_64-registers.ts).

/** The general-purpose registers every x86_64 target can provide, in gdb's `info registers` order. */
export const GENERAL_REGS = [
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
  'eflags',
  'cs',
  'ss',
  'ds',
  'es',
  'fs',
  'gs',
  'fs_base',
  'gs_base',
] as const;

/** Sub-register aliases the expression evaluator accepts ($eax, $ax, $al, $pc, $sp, $fp). */
export const REG_ALIASES: Record<string, { reg: string; bits: number; shift: number }> = {
  pc: { reg: 'rip', bits: 64, shift: 0 },
  sp: { reg: 'rsp', bits: 64, shift: 0 },
  fp: { reg: 'rbp', bits: 64, shift: 0 },
  ...Object.fromEntries(
    ['a', 'b', 'c', 'd'].flatMap((x) => [
      [`e${x}x`, { reg: `r${x}x`, bits: 32, shift: 0 }],
      [`${x}x`, { reg: `r${x}x`, bits: 16, shift: 0 }],
      [`${x}l`, { reg: `r${x}x`, bits: 8, shift: 0 }],
      [`${x}h`, { reg: `r${x}x`, bits: 8, shift: 8 }],
    ]),
  ),
  ...Object.fromEntries(
    ['si', 'di', 'bp', 'sp'].flatMap((x) => [
      [`e${x}`, { reg: `r${x}`, bits: 32, shift: 0 }],
      [x === 'sp' ? 'sp16' : x, { reg: `r${x}`, bits: 16, shift: 0 }],
    ]),
  ),
  ...Object.fromEntries(
    Array.from({ length: 8 }, (_, i) => i + 8).flatMap((n) => [
      [`r${n}d`, { reg: `r${n}`, bits: 32, shift: 0 }],
      [`r${n}w`, { reg: `r${n}`, bits: 16, shift: 0 }],
      [`r${n}b`, { reg: `r${n}`, bits: 8, shift: 0 }],
    ]),
  ),
};
