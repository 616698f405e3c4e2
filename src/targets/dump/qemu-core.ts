// QEMU `dump-guest-memory` files (paging:false): an ELF64 core whose PT_LOADs are guest-physical
// ranges (p_paddr) and whose notes hold each vCPU's NT_PRSTATUS and QEMUCPUState.
import { ElfFile, PT, type ElfNote } from '../../../symbols/elf/index.js';
import { BlockCache } from './blocks.js';
import { DumpTarget } from './dump-target.js';
import { ExtentList, ExtentMemory, MAX_PHYSICAL } from './physical.js';
import { pagingFromControlRegs } from './paging.js';
import { decodePrstatus, decodeQemuCpuState, NT_PRSTATUS, QEMU_CPUSTATE } from './qemu-notes.js';
import type { VcpuState } from './vcpu.js';

export class QemuCoreTarget extends DumpTarget {
  /** Reads the headers and notes of an open ELF core; `fail` throws the caller's error for `elf`. */
  static fromElf(elf: ElfFile, fail: (why: string) => never): QemuCoreTarget {
    const { extents, expected } = loads(elf, fail);
    const truncation = expected > elf.fileSize ? { size: elf.fileSize, expected } : undefined;
    const memory = new ExtentMemory(
      new BlockCache((o, n) => elf.readAt(o, n, 'guest memory'), elf.fileSize),
      extents,
      'physical',
      truncation && 'the dump is truncated',
    );
    return new QemuCoreTarget({
      path: elf.path,
      vcpus: vcpus(elf, fail),
      physical: memory,
      tables: memory,
      tableSpace: 'physical',
      close: () => elf.close(),
      ...(truncation && { truncation }),
    });
  }
}

function vcpus(elf: ElfFile, fail: (why: string) => never): VcpuState[] {
  const prstatus: ElfNote[] = [];
  const cpuState: ElfNote[] = [];
  for (const n of elf.notes()) {
    if (n.name === 'CORE' && n.type === NT_PRSTATUS) prstatus.push(n);
    else if (n.name === 'QEMU' && n.type === QEMU_CPUSTATE) cpuState.push(n);
  }
  if (prstatus.length === 0) fail('an ELF core without NT_PRSTATUS notes: it records no vCPUs');
  // QEMU writes every vCPU's NT_PRSTATUS, then every vCPU's QEMU note in the same order.
  if (cpuState.length !== prstatus.length) {
    fail(`${prstatus.length} NT_PRSTATUS notes but ${cpuState.length} QEMU CPU-state notes: not a QEMU dump-guest-memory file`);
  }
  const seen = new Set<number>();
  return prstatus.map((note, i) => {
    const at = `NT_PRSTATUS note at file offset 0x${note.offset.toString(16)}`;
    const { pid, registers } = decodePrstatus(note.desc, at);
    if (pid < 1 || seen.has(pid)) fail(`${at}: vCPU number ${pid} is ${pid < 1 ? 'not a cpu_index + 1' : 'repeated'}`);
    seen.add(pid);
    const s = decodeQemuCpuState(cpuState[i]!.desc, `QEMU note at file offset 0x${cpuState[i]!.offset.toString(16)}`);
    registers.set('cr0', s.cr0).set('cr2', s.cr2).set('cr3', s.cr3).set('cr4', s.cr4);
    if (s.kernelGsBase !== undefined) registers.set('k_gs_base', s.kernelGsBase);
    return { id: pid, registers, paging: pagingFromControlRegs(s.cr0, s.cr3, s.cr4) };
  });
}

/**
 * The guest memory the file holds, and how long the file should be. A file cut short (a dump
 * interrupted, copied in part) keeps what it has: a segment past the end is kept up to the end.
 */
function loads(elf: ElfFile, fail: (why: string) => never): { extents: ExtentList; expected: number } {
  const limit = BigInt(MAX_PHYSICAL);
  const extents = new ExtentList();
  let expected = elf.fileSize;
  elf.programHeaders.forEach((p, i) => {
    if (p.type !== PT.LOAD) return;
    const what = () => `PT_LOAD ${i} (physical 0x${p.paddr.toString(16)}, 0x${p.memsz.toString(16)} bytes)`;
    // Compared as bigint only against the limit; as numbers (exact below 2^53) after.
    if (p.paddr > limit || p.memsz > limit || Number(p.paddr) + Number(p.memsz) > MAX_PHYSICAL)
      fail(`${what()} lies beyond the 52-bit physical address space`);
    const start = Number(p.paddr);
    const size = Number(p.memsz);
    if (p.filesz > size) fail(`${what()} has more file bytes (0x${p.filesz.toString(16)}) than memory`);
    expected = Math.max(expected, p.offset + p.filesz);
    // What lies past the file's end is not in the dump (not zeros, as memory past p_filesz is).
    const present = Math.max(0, Math.min(p.filesz, elf.fileSize - p.offset));
    const kept = present < p.filesz ? present : size;
    if (kept > 0) extents.add(start, kept, p.offset, present);
  });
  if (extents.length === 0)
    fail(
      expected > elf.fileSize
        ? `truncated at 0x${elf.fileSize.toString(16)} of 0x${expected.toString(16)} bytes: no guest memory left`
        : 'an ELF core without PT_LOAD segments: it holds no guest memory',
    );
  return { extents: extents.sorted('physical', fail), expected };
}
