// What a dump records of one vCPU, in the register names every duster target uses.
import type { RegisterInfo } from '../target.js';
import { GENERAL_REGS } from '../x86_64.js';
import type { Paging } from './paging.js';

export interface VcpuState {
  /** Thread id as QEMU's gdbstub numbers vCPUs: cpu_index + 1. */
  id: number;
  registers: Map<string, bigint>;
  paging: Paging;
}

const NARROW = new Set(['eflags', 'cs', 'ss', 'ds', 'es', 'fs', 'gs']);

/** Every register a dump can hold, with the live target's names and widths. */
export const DUMP_REGISTERS: readonly RegisterInfo[] = [
  ...GENERAL_REGS.map((name) => ({ name, bits: NARROW.has(name) ? 32 : 64, group: 'general' })),
  ...['k_gs_base', 'cr0', 'cr2', 'cr3', 'cr4'].map((name) => ({ name, bits: 64, group: 'system' })),
];
