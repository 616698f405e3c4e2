// The per-vCPU notes of QEMU's dump-guest-memory for x86_64: "CORE"/NT_PRSTATUS holds the general
// registers in Linux's elf_prstatus layout; "QEMU" type 0 (QEMUCPUState) holds what a process core
// has no room for: segment descriptors and the control registers the page walk needs.
import { ByteReader, FormatError } from '../../../symbols/reader.js';

export const NT_PRSTATUS = 1;
export const QEMU_CPUSTATE = 0;

const PRSTATUS_PID = 32;
const PRSTATUS_REGS = 112;
/** elf_prstatus.pr_reg (struct user_regs_struct) order; orig_rax is not a register. */
const PR_REG_NAMES = [
  'r15',
  'r14',
  'r13',
  'r12',
  'rbp',
  'rbx',
  'r11',
  'r10',
  'r9',
  'r8',
  'rax',
  'rcx',
  'rdx',
  'rsi',
  'rdi',
  undefined,
  'rip',
  'cs',
  'eflags',
  'rsp',
  'ss',
  'fs_base',
  'gs_base',
  'ds',
  'es',
  'fs',
  'gs',
] as const;
const NARROW = new Set(['cs', 'eflags', 'ss', 'ds', 'es', 'fs', 'gs']);

interface Prstatus {
  /** cpu_index + 1. */
  pid: number;
  registers: Map<string, bigint>;
}

export function decodePrstatus(desc: Uint8Array, what: string): Prstatus {
  const r = new ByteReader(desc, what, PRSTATUS_PID);
  const pid = r.u32();
  r.seek(PRSTATUS_REGS);
  const registers = new Map<string, bigint>();
  for (const name of PR_REG_NAMES) {
    const v = r.u64();
    if (name) registers.set(name, NARROW.has(name) ? v & 0xffff_ffffn : v);
  }
  return { pid, registers };
}

interface QemuCpuState {
  cr0: bigint;
  cr2: bigint;
  cr3: bigint;
  cr4: bigint;
  /** Only in notes of 440 bytes or more. */
  kernelGsBase?: bigint;
}

const CR = 392;
const KERNEL_GS_BASE = 432;

export function decodeQemuCpuState(desc: Uint8Array, what: string): QemuCpuState {
  const r = new ByteReader(desc, what);
  const version = r.u32();
  const size = r.u32();
  if (version < 1) throw new FormatError(what, `QEMUCPUState version ${version}`);
  if (size > desc.length || size < CR + 40)
    throw new FormatError(what, `QEMUCPUState size ${size} does not fit the ${desc.length}-byte note`);
  r.seek(CR);
  const cr0 = r.u64();
  r.u64();
  const cr2 = r.u64();
  const cr3 = r.u64();
  const cr4 = r.u64();
  return { cr0, cr2, cr3, cr4, kernelGsBase: size >= KERNEL_GS_BASE + 8 ? r.u64() : undefined };
}
