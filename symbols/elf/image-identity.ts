// What identifies an image's build in a guest's memory: its GNU build ID note when the image has
// one loaded (the note's bytes at the note's address), else a few small samples of the loadable
// read-only contents (.text, .rodata) at their addresses. A debugger compares these with the
// guest's memory at the same addresses to tell whether the symbols belong to the guest.
import { FormatError } from '../reader.js';
import type { ElfFile } from './file.js';
import { parseNotes } from './notes.js';
import { PT, SHF, SHT } from './types.js';

const NT_GNU_BUILD_ID = 3;
/** Bytes per sample, and how many: 4 x 64 bytes answer in one round trip of a gdbstub. */
const SAMPLE_BYTES = 64;
const SAMPLES = 4;

export interface BuildIdNote {
  /** The build ID itself (the note's descriptor). */
  id: Uint8Array;
  /** Where the whole note (header, name, descriptor) is loaded, and its bytes. */
  address: bigint;
  bytes: Uint8Array;
}

export interface ImageSample {
  address: bigint;
  bytes: Uint8Array;
}

export type ImageIdentity = { kind: 'build-id'; note: BuildIdNote } | { kind: 'samples'; samples: ImageSample[] };

/** Hex text of a build ID, as `readelf -n` and `file` print it. */
export function buildIdText(id: Uint8Array): string {
  return Buffer.from(id).toString('hex');
}

/** The image's loaded GNU build ID note, if it has one in an allocated note section. */
export function buildIdNote(elf: ElfFile): BuildIdNote | undefined {
  for (const s of elf.sections) {
    if (s.type !== SHT.NOTE || (s.flags & SHF.ALLOC) === 0n || s.size <= 0 || s.size > 4096) continue;
    try {
      const bytes = elf.readAt(s.offset, s.size, `section ${s.name}`);
      for (const n of parseNotes(bytes, s.offset, s.addralign === 8n ? 8 : 4)) {
        if (n.name !== 'GNU' || n.type !== NT_GNU_BUILD_ID || n.desc.length === 0) continue;
        const at = n.offset - s.offset;
        const end = noteEnd(bytes, at, s.addralign === 8n ? 8 : 4);
        return { id: n.desc, address: s.addr + BigInt(at), bytes: bytes.slice(at, end) };
      }
    } catch (e) {
      if (!(e instanceof FormatError)) throw e;
    }
  }
  return undefined;
}

/** The end of the note at `at` (its padded descriptor included). */
function noteEnd(bytes: Uint8Array, at: number, align: number): number {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pad = (n: number) => (n + align - 1) & ~(align - 1);
  return Math.min(bytes.length, at + 12 + pad(dv.getUint32(at, true)) + dv.getUint32(at + 4, true));
}

/**
 * Samples of the image's loadable read-only contents, spread evenly over them (from the file's
 * PT_LOAD segments without write permission); none when it has no such contents.
 */
export function imageSamples(elf: ElfFile): ImageSample[] {
  const PF_W = 2;
  const loads = elf.programHeaders.filter(
    (p) => p.type === PT.LOAD && (p.flags & PF_W) === 0 && p.filesz >= SAMPLE_BYTES && p.offset + p.filesz <= elf.fileSize,
  );
  const total = loads.reduce((n, p) => n + p.filesz, 0);
  const out: ImageSample[] = [];
  for (let i = 0; i < SAMPLES && total > 0; i++) {
    // The middle of each of SAMPLES equal slices of the contents, taken as one run.
    let at = Math.floor(((2 * i + 1) * total) / (2 * SAMPLES));
    for (const p of loads) {
      if (at >= p.filesz) {
        at -= p.filesz;
        continue;
      }
      const start = Math.min(at, p.filesz - SAMPLE_BYTES);
      out.push({ address: p.vaddr + BigInt(start), bytes: elf.readAt(p.offset + start, SAMPLE_BYTES, 'loadable segment') });
      break;
    }
  }
  return out;
}

/** How to recognise this image in a guest's memory. */
export function imageIdentity(elf: ElfFile): ImageIdentity | undefined {
  const note = buildIdNote(elf);
  if (note) return { kind: 'build-id', note };
  const samples = imageSamples(elf);
  return samples.length ? { kind: 'samples', samples } : undefined;
}
