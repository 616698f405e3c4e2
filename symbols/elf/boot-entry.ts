// Where a boot loader enters an ELF kernel, in the order QEMU's -kernel tries: a multiboot header
// in the first 8 KiB (its entry_addr when the header carries load addresses, else the ELF entry),
// then the Xen PVH note (XEN_ELFNOTE_PHYS32_ENTRY), then the ELF entry itself.
import type { ElfFile } from './file.js';

export interface BootEntry {
  address: bigint;
  /** Which boot protocol gives this entry. */
  protocol: 'multiboot' | 'pvh' | 'elf';
}

const MULTIBOOT_MAGIC = 0x1badb002;
/** Multiboot searches this far into the file, 4-byte aligned. */
const MULTIBOOT_SEARCH = 8192;
/** Header flag: load and entry addresses are in the header (the "a.out kludge"). */
const MULTIBOOT_ADDRESSES = 0x10000;
const XEN_ELFNOTE_PHYS32_ENTRY = 18;

export function bootEntry(elf: ElfFile): BootEntry {
  const multiboot = multibootEntry(elf);
  if (multiboot !== undefined) return { address: multiboot, protocol: 'multiboot' };
  const pvh = [...elf.notes()].find(
    (n) => n.name === 'Xen' && n.type === XEN_ELFNOTE_PHYS32_ENTRY && (n.desc.length === 4 || n.desc.length === 8),
  );
  if (pvh) {
    const view = new DataView(pvh.desc.buffer, pvh.desc.byteOffset, pvh.desc.length);
    return { address: pvh.desc.length === 8 ? view.getBigUint64(0, true) : BigInt(view.getUint32(0, true)), protocol: 'pvh' };
  }
  return { address: elf.entry, protocol: 'elf' };
}

function multibootEntry(elf: ElfFile): bigint | undefined {
  const head = elf.readAt(0, Math.min(MULTIBOOT_SEARCH, elf.fileSize));
  const view = new DataView(head.buffer, head.byteOffset, head.length);
  for (let at = 0; at + 12 <= head.length; at += 4) {
    if (view.getUint32(at, true) !== MULTIBOOT_MAGIC) continue;
    const flags = view.getUint32(at + 4, true);
    if (((MULTIBOOT_MAGIC + flags + view.getUint32(at + 8, true)) & 0xffffffff) !== 0) continue;
    if (!(flags & MULTIBOOT_ADDRESSES)) return elf.entry;
    return at + 32 <= head.length ? BigInt(view.getUint32(at + 28, true)) : undefined;
  }
  return undefined;
}
