// x86_64 DWARF register numbers (System V psABI, figure 3.36) and the names readelf prints.

const names = [
  'rax', 'rdx', 'rcx', 'rbx', 'rsi', 'rdi', 'rbp', 'rsp',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip',
  ...Array.from({ length: 16 }, (_, i) => `xmm${i}`),
  ...Array.from({ length: 8 }, (_, i) => `st${i}`),
  ...Array.from({ length: 8 }, (_, i) => `mm${i}`),
  'rflags', 'es', 'cs', 'ss', 'ds', 'fs', 'gs', '', '', 'fs.base', 'gs.base', '', '', 'tr', 'ldtr',
  'mxcsr', 'fcw', 'fsw',
];

export function x86_64RegisterName(reg: number): string {
  return names[reg] || `r${reg}`;
}
