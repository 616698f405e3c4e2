// The parts of an ELF file duster reads, decoded. Addresses are bigint; file offsets and sizes
// of things read from the file are numbers (checked against the file size when decoded).

export interface ElfSection {
  index: number;
  name: string;
  /** SHT_* */
  type: number;
  /** SHF_* */
  flags: bigint;
  addr: bigint;
  offset: number;
  /** Size in the file (0 for SHT_NOBITS), before decompression for SHF_COMPRESSED. */
  size: number;
  link: number;
  info: number;
  addralign: bigint;
  entsize: number;
}

export interface ProgramHeader {
  /** PT_* */
  type: number;
  /** PF_* */
  flags: number;
  offset: number;
  vaddr: bigint;
  paddr: bigint;
  filesz: number;
  memsz: bigint;
  align: bigint;
}

export interface ElfNote {
  name: string;
  type: number;
  desc: Uint8Array;
  /** File offset of the note header. */
  offset: number;
}

export interface ElfSymbol {
  name: string;
  address: bigint;
  size: bigint;
  /** STT_* */
  type: number;
  /** STB_* */
  bind: number;
  /** Section index (SHN_* special values included). */
  shndx: number;
}

export const SHT = { NULL: 0, PROGBITS: 1, SYMTAB: 2, STRTAB: 3, NOTE: 7, NOBITS: 8, DYNSYM: 11 } as const;
export const SHF = { ALLOC: 0x2n, EXECINSTR: 0x4n, TLS: 0x400n, COMPRESSED: 0x800n } as const;
export const PT = { LOAD: 1, NOTE: 4 } as const;
export const STT = { NOTYPE: 0, OBJECT: 1, FUNC: 2, SECTION: 3, FILE: 4, TLS: 6 } as const;
export const STB = { LOCAL: 0, GLOBAL: 1, WEAK: 2 } as const;
export const SHN = { UNDEF: 0, LORESERVE: 0xff00, ABS: 0xfff1, XINDEX: 0xffff } as const;
export const ET = { REL: 1, EXEC: 2, DYN: 3, CORE: 4 } as const;
