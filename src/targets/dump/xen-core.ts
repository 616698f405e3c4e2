// Xen `xl dump-core` files: an ELF64 core with sections instead of program headers. Page i of
// .xen_pages belongs to frame i of .xen_pfn (HVM: guest-physical frames) or of .xen_p2m (PV:
// {pfn, gmfn} pairs; a PV guest's CR3 and page-table entries hold machine frames).
import type { ElfFile, ElfSection } from '../../../symbols/elf/index.js';
import { BlockCache } from './blocks.js';
import { DumpTarget, type DumpParts } from './dump-target.js';
import { FRAME, pagingFromControlRegs } from './paging.js';
import { ExtentList, ExtentMemory, MAX_PHYSICAL, type PhysicalMemory } from './physical.js';
import type { VcpuState } from './vcpu.js';
import { decodeVcpuContext, VCPU_CONTEXT_SIZE } from './xen-context.js';
import { decodeXenNotes } from './xen-notes.js';

const PAGE = 4096;
/** Padding entries of .xen_pfn/.xen_p2m (~0): no frame, a zero page. */
const PADDING = -1;

type Fail = (why: string) => never;

export class XenCoreTarget extends DumpTarget {
  private constructor(
    parts: DumpParts,
    /** Paravirtualised guest (else HVM/PVH). */
    readonly pv: boolean,
    /** "4.17", when the dump says. */
    readonly xenVersion: string | undefined,
  ) {
    super(parts);
  }

  static fromElf(elf: ElfFile, fail: Fail): XenCoreTarget {
    const header = decodeXenNotes(elf.notes());
    const { pv, nrVcpus, nrPages } = header;
    if (header.pageSize !== PAGE) fail(`page size ${header.pageSize}: only 4 KiB x86 pages are supported`);
    if (nrVcpus === 0) fail('the dump-core header records no vCPUs');

    const contexts = section(elf, '.xen_prstatus', nrVcpus * VCPU_CONTEXT_SIZE, fail);
    const bytes = elf.readAt(contexts.offset, nrVcpus * VCPU_CONTEXT_SIZE, '.xen_prstatus');
    const vcpus: VcpuState[] = [];
    for (let i = 0; i < nrVcpus; i++) {
      const c = decodeVcpuContext(bytes.subarray(i * VCPU_CONTEXT_SIZE, (i + 1) * VCPU_CONTEXT_SIZE), `vCPU ${i} context`, pv);
      const paging = pv ? { kind: 'long' as const, levels: 4 as const, root: c.cr3 & FRAME } : pagingFromControlRegs(c.cr0, c.cr3, c.cr4);
      vcpus.push({ id: i + 1, registers: c.registers, paging });
    }

    const pages = section(elf, '.xen_pages', nrPages * PAGE, fail);
    const index = section(elf, pv ? '.xen_p2m' : '.xen_pfn', nrPages * (pv ? 16 : 8), fail);
    const table = elf.readAt(index.offset, nrPages * (pv ? 16 : 8), index.name);
    const pfns = frames(table, nrPages, pv ? 16 : 8, 0, fail);
    const cache = new BlockCache((o, n) => elf.readAt(o, n, 'guest memory'), elf.fileSize);
    const physical = new ExtentMemory(cache, frameExtents(pfns, pages.offset, 'physical', fail), 'physical');
    let machine: ExtentMemory | undefined;
    // The machine view costs a pass over every p2m entry: built when a page walk first needs it.
    const tables: PhysicalMemory = pv
      ? {
          read: (a, n) =>
            (machine ??= new ExtentMemory(
              cache,
              frameExtents(frames(table, nrPages, 16, 8, fail), pages.offset, 'machine', fail),
              'machine',
            )).read(a, n),
        }
      : physical;
    return new XenCoreTarget(
      { path: elf.path, vcpus, physical, tables, tableSpace: pv ? 'machine' : 'physical', close: () => elf.close() },
      pv,
      header.xenVersion,
    );
  }
}

function section(elf: ElfFile, name: string, need: number, fail: Fail): ElfSection {
  const s = elf.section(name);
  if (!s) fail(`an xl dump-core file without its ${name} section`);
  if (s.size < need) fail(`${name} holds 0x${s.size.toString(16)} bytes, the header needs 0x${need.toString(16)}`);
  if (s.offset + need > elf.fileSize) {
    fail(
      `truncated: ${name} needs the file up to offset 0x${(s.offset + need).toString(16)}, the file ends at 0x${elf.fileSize.toString(16)}`,
    );
  }
  return s;
}

/** Frame numbers from a table of `stride`-byte entries (field at byte `at`), padding as PADDING. */
function frames(table: Uint8Array, count: number, stride: number, at: number, fail: Fail): Float64Array {
  // x86 hosts and dumps are little-endian: the table reads as 32-bit halves directly.
  const words = new Uint32Array(table.buffer, table.byteOffset, count * (stride / 4));
  const out = new Float64Array(count);
  for (let i = 0, w = at / 4; i < count; i++, w += stride / 4) {
    const lo = words[w]!;
    const hi = words[w + 1]!;
    if (lo === 0xffff_ffff && hi === 0xffff_ffff) {
      out[i] = PADDING;
    } else {
      out[i] = hi * 2 ** 32 + lo;
      if (out[i]! >= MAX_PHYSICAL / PAGE)
        fail(`entry ${i} names frame 0x${out[i]!.toString(16)}, beyond the 52-bit physical address space`);
    }
  }
  return out;
}

/** The pages as extents of frame space: runs of consecutive frames in consecutive pages, in frame order. */
function frameExtents(frames: Float64Array, pagesOffset: number, space: string, fail: Fail): ExtentList {
  const out = new ExtentList();
  for (let page = 0; page < frames.length; page++) {
    if (frames[page] !== PADDING) out.add(frames[page]! * PAGE, PAGE, pagesOffset + page * PAGE, PAGE);
  }
  // Sorting runs, not pages: a PV guest's machine frames are unordered, but they come in runs.
  return out.sorted(space, fail);
}
