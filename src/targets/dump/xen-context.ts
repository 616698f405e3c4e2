// Xen's vcpu_guest_context for x86_64 (xen/include/public/arch-x86/xen.h, xen-x86_64.h), one per
// vCPU in .xen_prstatus, as arch_get_info_guest() fills it in.
import { ByteReader } from '../../../symbols/reader.js';

export const VCPU_CONTEXT_SIZE = 5168;

const FLAGS = 512;
const VGCF_IN_KERNEL = 1n << 2n;
const USER_REGS = 520;
/** cpu_user_regs: name -> [offset, bytes]. */
const USER_REG_FIELDS: readonly [string, number, 2 | 8][] = [
  ['r15', 0, 8],
  ['r14', 8, 8],
  ['r13', 16, 8],
  ['r12', 24, 8],
  ['rbp', 32, 8],
  ['rbx', 40, 8],
  ['r11', 48, 8],
  ['r10', 56, 8],
  ['r9', 64, 8],
  ['r8', 72, 8],
  ['rax', 80, 8],
  ['rcx', 88, 8],
  ['rdx', 96, 8],
  ['rsi', 104, 8],
  ['rdi', 112, 8],
  ['rip', 128, 8],
  ['cs', 136, 2],
  ['eflags', 144, 8],
  ['rsp', 152, 8],
  ['ss', 160, 2],
  ['es', 168, 2],
  ['ds', 176, 2],
  ['fs', 184, 2],
  ['gs', 192, 2],
];
const CTRLREG = 4984;
const FS_BASE = 5144;
const GS_BASE_KERNEL = 5152;
const GS_BASE_USER = 5160;

interface XenVcpuContext {
  registers: Map<string, bigint>;
  cr0: bigint;
  /** A machine address (MFN << 12) for a PV guest. */
  cr3: bigint;
  cr4: bigint;
}

export function decodeVcpuContext(bytes: Uint8Array, what: string, pv: boolean): XenVcpuContext {
  const r = new ByteReader(bytes, what);
  r.need(VCPU_CONTEXT_SIZE);
  const at = (offset: number, size: 2 | 8 = 8) => {
    r.seek(offset);
    return size === 2 ? BigInt(r.u16()) : r.u64();
  };
  const registers = new Map<string, bigint>();
  for (const [name, offset, size] of USER_REG_FIELDS) registers.set(name, at(USER_REGS + offset, size));
  registers.set('eflags', registers.get('eflags')! & 0xffff_ffffn);
  // The active GS base is the kernel's in kernel mode: ring 0 for HVM, VGCF_in_kernel for PV (whose kernel runs in ring 3).
  const inKernel = pv ? (at(FLAGS) & VGCF_IN_KERNEL) !== 0n : (registers.get('cs')! & 3n) === 0n;
  const kernel = at(GS_BASE_KERNEL);
  const user = at(GS_BASE_USER);
  registers.set('fs_base', at(FS_BASE));
  registers.set('gs_base', inKernel ? kernel : user);
  registers.set('k_gs_base', inKernel ? user : kernel);
  const [cr0, , cr2, cr3, cr4] = [0, 1, 2, 3, 4].map((i) => at(CTRLREG + 8 * i)) as [bigint, bigint, bigint, bigint, bigint];
  registers.set('cr0', cr0).set('cr2', cr2).set('cr3', cr3).set('cr4', cr4);
  return { registers, cr0, cr3, cr4 };
}
