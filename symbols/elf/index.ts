// ELF reading for symbols and crash dumps.
//
//   ElfFile.open(path): Promise<ElfFile>     headers only; positioned reads afterwards
//     .sections, .programHeaders (phnum 0xffff -> section 0's sh_info), .section(name), .sectionAt(addr)
//     .readAt(offset, len): Uint8Array     bytes at a file offset, bounds-checked
//     .sectionData(name | section)         contents, cached, SHF_COMPRESSED zlib inflated
//     .notes(): Iterable<ElfNote>           PT_NOTE segments, else SHT_NOTE sections
//     .symbols: SymbolTable                 .symtab (else .dynsym): lookup(addr) -> symbol + offset, find(name)
//     .close()
//   imageIdentity(elf): the build ID note (or read-only samples) to compare with a guest's memory
//   bootEntry(elf): where a boot loader enters the kernel (multiboot, PVH note, ELF entry)
// Malformed input throws ElfError (a FormatError) naming the structure and offset.
export { bootEntry, type BootEntry } from './boot-entry.js';
export { ElfError } from './errors.js';
export { ElfFile } from './file.js';
export {
  buildIdNote,
  buildIdText,
  imageIdentity,
  imageSamples,
  type BuildIdNote,
  type ImageIdentity,
  type ImageSample,
} from './image-identity.js';
export { parseNotes } from './notes.js';
export { SymbolTable, type SymbolHit } from './symtab.js';
export { ET, PT, SHF, SHN, SHT, STB, STT, type ElfNote, type ElfSection, type ElfSymbol, type ProgramHeader } from './types.js';
