// The x86-64 DWARF register numbering (System V psABI figure 3.36), the one table every part of
// duster uses: location expressions, CFI, the targets and the engine. Each number has the name
// the gdbstub and gdb give the register (`eflags`, `st0`, `xmm0`) and the one readelf prints.

interface DwarfRegister {
  /** The target's (and gdb's) name; undefined where gdb maps the number to no register. */
  name?: string;
  /** readelf's name, which dumps of expressions and CFI use. */
  readelf: string;
}

const table: DwarfRegister[] = [];
const add = (name: string | undefined, readelf = name!) => table.push({ ...(name !== undefined && { name }), readelf });
for (const r of ['rax', 'rdx', 'rcx', 'rbx', 'rsi', 'rdi', 'rbp', 'rsp']) add(r);
for (let i = 8; i < 16; i++) add(`r${i}`);
add('rip');
for (let i = 0; i < 16; i++) add(`xmm${i}`); // 17-32
for (let i = 0; i < 8; i++) add(`st${i}`); // 33-40
for (let i = 0; i < 8; i++) add(undefined, `mm${i}`); // 41-48: the MMX views of st0-7 (gdb: none)
add('eflags', 'rflags'); // 49
for (const r of ['es', 'cs', 'ss', 'ds', 'fs', 'gs']) add(r); // 50-55
add(undefined, '');
add(undefined, ''); // 56, 57
add('fs_base', 'fs.base');
add('gs_base', 'gs.base'); // 58, 59
add(undefined, '');
add(undefined, ''); // 60, 61
add(undefined, 'tr');
add(undefined, 'ldtr'); // 62, 63
add('mxcsr');
add('fctrl', 'fcw');
add('fstat', 'fsw'); // 64-66
for (let i = 16; i < 32; i++) add(undefined, `xmm${i}`); // 67-82: AVX-512's upper xmm

/** The DWARF numbers of the registers duster's code names. */
export const X86_64 = {
  rax: 0,
  rdx: 1,
  rcx: 2,
  rbx: 3,
  rsi: 4,
  rdi: 5,
  rbp: 6,
  rsp: 7,
  r8: 8,
  r9: 9,
  r10: 10,
  r11: 11,
  r12: 12,
  r13: 13,
  r14: 14,
  r15: 15,
  /** The return address column, which stands for the caller's rip. */
  rip: 16,
  xmm0: 17,
  xmm1: 18,
  st0: 33,
  eflags: 49,
  mxcsr: 64,
} as const;

/** DWARF register number -> the target's register name (undefined: no register gdb would read). */
export function dwarfRegisterName(reg: number): string | undefined {
  return table[reg]?.name;
}

const byName = new Map(table.flatMap((r, i) => (r.name ? [[r.name, i] as const] : [])));

/** The target's register name -> its DWARF number. */
export function dwarfRegisterNumber(name: string): number | undefined {
  return byName.get(name);
}

/** readelf's name for a DWARF register number (`r99` past the table, as readelf). */
export function x86_64RegisterName(reg: number): string {
  return table[reg]?.readelf || `r${reg}`;
}

/** Registers a callee must preserve (psABI 3.2.1): unmentioned in CFI, they keep their value. */
export const CALLEE_SAVED: ReadonlySet<number> = new Set([X86_64.rbx, X86_64.rbp, X86_64.r12, X86_64.r13, X86_64.r14, X86_64.r15]);

/** The general registers and rip: what one unwind step recovers. */
export const GENERAL_REGISTERS: readonly number[] = Array.from({ length: 17 }, (_, i) => i);

/** The bytes of a register by DWARF number: 16 for xmm, 10 for st (x87 extended), 8 otherwise. */
export function dwarfRegisterSize(reg: number): number {
  return reg >= 17 && reg <= 32 ? 16 : reg >= 33 && reg <= 40 ? 10 : 8;
}
