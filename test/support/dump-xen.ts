// Turns a real QEMU dump-guest-memory core into an `xl dump-core` file laid out as Xen's
// docs/misc/dump-core-format.txt and tools/libs/guest/xg_core.c describe it, so the Xen reader is
// tested on real guest memory and registers. Decodes the QEMU notes itself (DESIGN.md offsets)
// rather than through the code under test.
import { closeSync, openSync, writeSync } from 'node:fs';
import { ElfFile, PT } from '../../symbols/elf/index.js';

const PAGE = 4096;
const CONTEXT = 5168;
const INVALID = 0xffff_ffff_ffff_ffffn;
/** PV machine frames start at 4 GiB, so no pfn equals its mfn. */
const MFN_BASE = 0x10_0000;
/** The permutation works on the first 4 GiB of frames (2048 chunks of 2 MiB). */
const CHUNKS = 2048;
const FRAME_MASK = 0x000f_ffff_ffff_f000n;
const PADDING_PAGES = 2;

interface Vcpu {
  regs: Map<string, bigint>;
  cr: bigint[];
  kernelGsBase: bigint;
}

const PR_REGS = [
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
  'orig_rax',
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
];

/**
 * A PV guest's machine frame for `pfn`: 2 MiB chunks in reverse order (so 2 MiB pages stay
 * contiguous), and the 4 KiB pages of the first chunk (mapped page by page) reversed too.
 */
export function pvMfn(pfn: number): number {
  const chunk = Math.floor(pfn / 512);
  const within = pfn % 512;
  if (chunk >= CHUNKS) throw new Error(`pfn 0x${pfn.toString(16)} beyond the permuted range`);
  return MFN_BASE + (CHUNKS - 1 - chunk) * 512 + (chunk === 0 ? 511 - within : within);
}

export async function qemuCoreToXen(src: string, dst: string, flavour: 'hvm' | 'pv'): Promise<void> {
  const elf = await ElfFile.open(src);
  const pv = flavour === 'pv';
  try {
    const vcpus = readVcpus(elf);
    const pages = new Map<number, number>();
    for (const p of elf.programHeaders) {
      if (p.type !== PT.LOAD) continue;
      if (p.paddr % BigInt(PAGE) !== 0n || p.filesz % PAGE !== 0) throw new Error('builder expects page-aligned PT_LOADs');
      for (let i = 0; i < p.filesz / PAGE; i++) pages.set(Number(p.paddr / BigInt(PAGE)) + i, p.offset + i * PAGE);
    }
    const pfns = [...pages.keys()].sort((a, b) => a - b);
    const page = (pfn: number) => elf.readAt(pages.get(pfn)!, PAGE);
    // A PV guest's page tables hold machine frames: rewrite every table reachable from CR3.
    const tables = pv ? pageTables(vcpus[0]!.cr[3]!, page) : new Map<number, number>();

    const notes = Buffer.concat([
      note(0x2000000, Buffer.alloc(0)),
      note(0x2000001, u64s(pv ? 0xf00febedn : 0xf00febeen, BigInt(vcpus.length), BigInt(pfns.length + PADDING_PAGES), BigInt(PAGE))),
      note(0x2000002, Buffer.concat([u64s(4n, 17n), Buffer.alloc(1280 - 16)])),
      note(0x2000003, u64s(1n)),
    ]);
    const contexts = Buffer.concat(vcpus.map((v) => context(v, pv)));
    const strtab = Buffer.from(`\0.shstrtab\0.note.Xen\0.xen_prstatus\0.xen_pages\0${pv ? '.xen_p2m' : '.xen_pfn'}\0`);
    const name = (s: string) => strtab.indexOf(`${s}\0`);
    const nsec = 6;
    const notesAt = 64 + nsec * 64;
    const contextsAt = notesAt + notes.length;
    const pagesAt = Math.ceil((contextsAt + contexts.length) / PAGE) * PAGE;
    const nrPages = pfns.length + PADDING_PAGES;
    const indexAt = pagesAt + nrPages * PAGE;
    const index = Buffer.alloc(nrPages * (pv ? 16 : 8));
    pfns.forEach((pfn, i) => {
      if (pv) (index.writeBigUInt64LE(BigInt(pfn), i * 16), index.writeBigUInt64LE(BigInt(pvMfn(pfn)), i * 16 + 8));
      else index.writeBigUInt64LE(BigInt(pfn), i * 8);
    });
    for (let i = pfns.length; i < nrPages; i++) {
      if (pv) (index.writeBigUInt64LE(INVALID, i * 16), index.writeBigUInt64LE(INVALID, i * 16 + 8));
      else index.writeBigUInt64LE(INVALID, i * 8);
    }
    const strtabAt = indexAt + index.length;

    const SHT_PROGBITS = 1;
    const shdrs = Buffer.concat([
      shdr(0, 0, 0, 0, 0, 0),
      shdr(name('.shstrtab'), 3, strtabAt, strtab.length, 0, 0),
      shdr(name('.note.Xen'), 7, notesAt, notes.length, 0, 0),
      shdr(name('.xen_prstatus'), SHT_PROGBITS, contextsAt, contexts.length, 8, CONTEXT),
      shdr(name('.xen_pages'), SHT_PROGBITS, pagesAt, nrPages * PAGE, PAGE, PAGE),
      shdr(name(pv ? '.xen_p2m' : '.xen_pfn'), SHT_PROGBITS, indexAt, index.length, 8, pv ? 16 : 8),
    ]);

    const fd = openSync(dst, 'w');
    try {
      const header = Buffer.alloc(64);
      Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]).copy(header);
      header.writeUInt16LE(4, 16); // ET_CORE
      header.writeUInt16LE(62, 18); // EM_X86_64
      header.writeUInt32LE(1, 20);
      header.writeBigUInt64LE(64n, 40); // e_shoff
      header.writeUInt16LE(64, 52);
      header.writeUInt16LE(64, 58);
      header.writeUInt16LE(nsec, 60);
      header.writeUInt16LE(1, 62);
      let at = 0;
      for (const b of [header, shdrs, notes, contexts, Buffer.alloc(pagesAt - contextsAt - contexts.length)])
        at += writeSync(fd, b, 0, b.length, at);
      const chunk = Buffer.alloc(256 * PAGE);
      let used = 0;
      const flush = () => {
        at += writeSync(fd, chunk, 0, used, at);
        used = 0;
      };
      for (const pfn of [...pfns, ...Array<number>(PADDING_PAGES).fill(-1)]) {
        if (pfn < 0) chunk.fill(0, used, used + PAGE);
        else if (tables.has(pfn)) Buffer.from(rewriteTable(page(pfn), tables.get(pfn)!)).copy(chunk, used);
        else chunk.set(page(pfn), used);
        used += PAGE;
        if (used === chunk.length) flush();
      }
      flush();
      at += writeSync(fd, index, 0, index.length, at);
      writeSync(fd, strtab, 0, strtab.length, at);
    } finally {
      closeSync(fd);
    }
  } finally {
    elf.close();
  }
}

function readVcpus(elf: ElfFile): Vcpu[] {
  const pr: Uint8Array[] = [];
  const qemu: Uint8Array[] = [];
  for (const n of elf.notes()) {
    if (n.name === 'CORE' && n.type === 1) pr.push(n.desc);
    if (n.name === 'QEMU' && n.type === 0) qemu.push(n.desc);
  }
  return pr.map((d, i) => {
    const b = Buffer.from(d);
    const q = Buffer.from(qemu[i]!);
    const regs = new Map(PR_REGS.map((r, k) => [r, b.readBigUInt64LE(112 + 8 * k)]));
    const cr = [0, 1, 2, 3, 4].map((k) => q.readBigUInt64LE(392 + 8 * k));
    return { regs, cr, kernelGsBase: q.readUInt32LE(4) >= 440 ? q.readBigUInt64LE(432) : 0n };
  });
}

/** vcpu_guest_context (x86_64): flags, user_regs, ctrlreg, segment bases. */
function context(v: Vcpu, pv: boolean): Buffer {
  const c = Buffer.alloc(CONTEXT);
  const VGCF_I387_VALID = 1n;
  const VGCF_IN_KERNEL = 4n;
  const VGCF_ONLINE = 32n;
  c.writeBigUInt64LE(VGCF_I387_VALID | VGCF_ONLINE | (pv ? VGCF_IN_KERNEL : 0n), 512);
  const u = 520;
  const at: Record<string, number> = {
    r15: 0,
    r14: 8,
    r13: 16,
    r12: 24,
    rbp: 32,
    rbx: 40,
    r11: 48,
    r10: 56,
    r9: 64,
    r8: 72,
    rax: 80,
    rcx: 88,
    rdx: 96,
    rsi: 104,
    rdi: 112,
    rip: 128,
    eflags: 144,
    rsp: 152,
  };
  for (const [r, off] of Object.entries(at)) c.writeBigUInt64LE(v.regs.get(r)!, u + off);
  const seg: Record<string, number> = { cs: 136, ss: 160, es: 168, ds: 176, fs: 184, gs: 192 };
  for (const [r, off] of Object.entries(seg)) c.writeUInt16LE(Number(v.regs.get(r)!), u + off);
  v.cr.forEach((x, i) => c.writeBigUInt64LE(i === 3 && pv ? BigInt(pvMfn(Number(x >> 12n))) << 12n : x, 4984 + 8 * i));
  c.writeBigUInt64LE(v.regs.get('fs_base')!, 5144);
  // Ring-0 guest: the active GS base is the kernel one.
  c.writeBigUInt64LE(v.regs.get('gs_base')!, 5152);
  c.writeBigUInt64LE(v.kernelGsBase, 5160);
  return c;
}

/** Every page-table page reachable from `cr3` (4-level), with its level. */
export function pageTables(cr3: bigint, page: (pfn: number) => Uint8Array): Map<number, number> {
  const out = new Map<number, number>();
  const visit = (pfn: number, level: number) => {
    if (out.has(pfn)) return;
    out.set(pfn, level);
    if (level === 1) return;
    const b = Buffer.from(page(pfn));
    for (let i = 0; i < 512; i++) {
      const e = b.readBigUInt64LE(i * 8);
      if ((e & 1n) === 0n || (level <= 3 && (e & 0x80n) !== 0n)) continue;
      visit(Number((e & FRAME_MASK) >> 12n), level - 1);
    }
  };
  visit(Number((cr3 & FRAME_MASK) >> 12n), 4);
  return out;
}

function rewriteTable(bytes: Uint8Array, level: number): Uint8Array {
  const b = Buffer.from(bytes);
  for (let i = 0; i < 512; i++) {
    const e = b.readBigUInt64LE(i * 8);
    if ((e & 1n) === 0n) continue;
    const large = level > 1 && level <= 3 && (e & 0x80n) !== 0n;
    // A large page's frame field includes its PAT bit (12): permute the aligned base only.
    const keep = large ? ~FRAME_MASK | (e & (1n << 12n)) : ~FRAME_MASK;
    const frame = Number(((e & FRAME_MASK) >> 12n) & (large ? ~1n : ~0n));
    b.writeBigUInt64LE((e & keep) | (BigInt(pvMfn(frame)) << 12n), i * 8);
  }
  return b;
}

function note(type: number, desc: Buffer): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32LE(4, 0);
  h.writeUInt32LE(desc.length, 4);
  h.writeUInt32LE(type, 8);
  h.write('Xen\0', 12);
  return Buffer.concat([h, desc]);
}

function u64s(...xs: bigint[]): Buffer {
  const b = Buffer.alloc(8 * xs.length);
  xs.forEach((x, i) => b.writeBigUInt64LE(x, 8 * i));
  return b;
}

function shdr(name: number, type: number, offset: number, size: number, align: number, entsize: number): Buffer {
  const b = Buffer.alloc(64);
  b.writeUInt32LE(name, 0);
  b.writeUInt32LE(type, 4);
  b.writeBigUInt64LE(BigInt(offset), 24);
  b.writeBigUInt64LE(BigInt(size), 32);
  b.writeBigUInt64LE(BigInt(align), 48);
  b.writeBigUInt64LE(BigInt(entsize), 56);
  return b;
}
