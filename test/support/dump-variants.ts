// Rewrites of a real QEMU dump-guest-memory core into shapes QEMU writes for other guests: more
// than 65535 program headers (e_phnum = PN_XNUM, the count in section 0's sh_info), and 5-level
// paging with 1 GiB pages. The guest memory stays the original bytes.
import { closeSync, copyFileSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { ElfFile, PT, type ProgramHeader } from '../../symbols/elf/index.js';

const PAGE = 4096;
const PN_XNUM = 0xffff;

/**
 * Every PT_LOAD split into `piece`-byte PT_LOADs that cannot merge back: within each 1 MiB their
 * data is stored in reverse order, and the program headers list even pieces before odd ones.
 */
export async function withManyLoads(src: string, dst: string, piece = 2048): Promise<number> {
  const elf = await ElfFile.open(src);
  const fd = openSync(dst, 'w');
  try {
    const note = elf.programHeaders.find((p) => p.type === PT.NOTE)!;
    const notes = elf.readAt(note.offset, note.filesz);
    writeSync(fd, notes, 0, notes.length, 64);
    let at = Math.ceil((64 + notes.length) / PAGE) * PAGE;
    const pieces: ProgramHeader[] = [];
    const chunk = 0x10_0000;
    for (const p of elf.programHeaders) {
      if (p.type !== PT.LOAD) continue;
      if (p.filesz % piece !== 0 || BigInt(p.filesz) !== p.memsz) throw new Error('builder expects PT_LOADs of whole pieces');
      for (let c = 0; c < p.filesz; c += chunk) {
        const len = Math.min(chunk, p.filesz - c);
        const data = elf.readAt(p.offset + c, len);
        const out = Buffer.alloc(len);
        for (let k = 0; k < len / piece; k++) {
          const to = len - (k + 1) * piece;
          out.set(data.subarray(k * piece, (k + 1) * piece), to);
          const paddr = p.paddr + BigInt(c + k * piece);
          pieces.push({ ...p, offset: at + to, paddr, vaddr: paddr, filesz: piece, memsz: BigInt(piece) });
        }
        at += writeSync(fd, out, 0, len, at);
      }
    }
    const phdrs = [{ ...note, offset: 64 }, ...pieces.filter((_, i) => i % 2 === 0), ...pieces.filter((_, i) => i % 2 === 1)];
    writeHeaders(fd, elf.readAt(0, 64), phdrs, at);
    return phdrs.length;
  } finally {
    closeSync(fd);
    elf.close();
  }
}

/**
 * New PML5 -> PML4 -> PDPT tables identity-mapping the low 4 GiB with 1 GiB pages, in a new PT_LOAD
 * at physical `at`; every vCPU's QEMU note gets the new CR3 and CR4.LA57.
 */
export async function withLa57GigaPages(src: string, dst: string, at = 0x1_0000_0000n): Promise<void> {
  const elf = await ElfFile.open(src);
  const tables = Buffer.alloc(3 * PAGE);
  tables.writeBigUInt64LE((at + BigInt(PAGE)) | 3n, 0);
  tables.writeBigUInt64LE((at + 2n * BigInt(PAGE)) | 3n, PAGE);
  for (let i = 0; i < 4; i++) tables.writeBigUInt64LE((BigInt(i) << 30n) | 0x83n, 2 * PAGE + 8 * i);
  const phdrs = [...elf.programHeaders];
  const notes = [...elf.notes()].filter((n) => n.name === 'QEMU');
  elf.close();
  rewriteHeaders(src, dst, phdrs, tables, at, (fd) => {
    for (const n of notes) {
      const desc = n.offset + 12 + 8; // header, "QEMU\0" padded to 8
      const cr = Buffer.from(n.desc.subarray(392, 432));
      cr.writeBigUInt64LE(at, 24);
      cr.writeBigUInt64LE(cr.readBigUInt64LE(32) | (1n << 12n), 32);
      writeSync(fd, cr, 0, cr.length, desc + 392);
    }
  });
}

/** Copies `src`, appends `extra` (as a PT_LOAD at `extraAt`) and a new program header table. */
function rewriteHeaders(
  src: string,
  dst: string,
  phdrs: ProgramHeader[],
  extra: Buffer,
  extraAt: bigint,
  patch: (fd: number) => void,
): void {
  copyFileSync(src, dst);
  const fd = openSync(dst, 'r+');
  try {
    const header = Buffer.alloc(64);
    readSync(fd, header, 0, 64, 0);
    const end = Math.ceil(fstatSync(fd).size / PAGE) * PAGE;
    writeSync(fd, extra, 0, extra.length, end);
    const load = {
      type: PT.LOAD,
      flags: 0,
      offset: end,
      vaddr: extraAt,
      paddr: extraAt,
      filesz: extra.length,
      memsz: BigInt(extra.length),
      align: 0n,
    };
    writeHeaders(fd, header, [...phdrs, load], end + extra.length);
    patch(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `header` with the program header table `phdrs` and one section header (which carries the
 * real count when it does not fit e_phnum) at file offset `at`.
 */
function writeHeaders(fd: number, header: Uint8Array, phdrs: ProgramHeader[], at: number): void {
  const table = Buffer.alloc(phdrs.length * 56);
  phdrs.forEach((p, i) => {
    const o = i * 56;
    table.writeUInt32LE(p.type, o);
    table.writeUInt32LE(p.flags, o + 4);
    table.writeBigUInt64LE(BigInt(p.offset), o + 8);
    table.writeBigUInt64LE(p.vaddr, o + 16);
    table.writeBigUInt64LE(p.paddr, o + 24);
    table.writeBigUInt64LE(BigInt(p.filesz), o + 32);
    table.writeBigUInt64LE(p.memsz, o + 40);
    table.writeBigUInt64LE(p.align, o + 48);
  });
  writeSync(fd, table, 0, table.length, at);
  const sh0 = Buffer.alloc(64);
  sh0.writeUInt32LE(phdrs.length, 44);
  writeSync(fd, sh0, 0, 64, at + table.length);
  const h = Buffer.from(header);
  h.writeBigUInt64LE(BigInt(at), 32); // e_phoff
  h.writeBigUInt64LE(BigInt(at + table.length), 40); // e_shoff
  h.writeUInt16LE(56, 54);
  h.writeUInt16LE(Math.min(phdrs.length, PN_XNUM), 56);
  h.writeUInt16LE(64, 58);
  h.writeUInt16LE(1, 60);
  h.writeUInt16LE(0, 62); // e_shstrndx: no section names
  writeSync(fd, h, 0, 64, 0);
}
