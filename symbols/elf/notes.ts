import { ByteReader } from '../reader.js';
import type { ElfNote } from './types.js';

/** The notes of one PT_NOTE segment or SHT_NOTE section; name and desc are padded to `align`. */
export function* parseNotes(bytes: Uint8Array, fileOffset: number, align: 4 | 8): Generator<ElfNote> {
  const r = new ByteReader(bytes, `notes at file offset 0x${fileOffset.toString(16)}`);
  const pad = (n: number) => (n + align - 1) & ~(align - 1);
  while (r.remaining >= 12) {
    const at = r.pos;
    const namesz = r.u32();
    const descsz = r.u32();
    const type = r.u32();
    const nameBytes = r.bytesN(namesz);
    r.skip(Math.min(pad(namesz) - namesz, r.remaining));
    const end = nameBytes.indexOf(0);
    const name = new TextDecoder().decode(end < 0 ? nameBytes : nameBytes.subarray(0, end));
    const desc = r.bytesN(descsz);
    r.skip(Math.min(pad(descsz) - descsz, r.remaining));
    yield { name, type, desc, offset: fileOffset + at };
  }
}
