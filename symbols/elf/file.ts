// An ELF file read through positioned reads on an open descriptor: only the headers are read at
// open(); a section's bytes are read (and inflated, for SHF_COMPRESSED) when first asked for and
// cached. Reads are synchronous pread()s so the DWARF parser above stays synchronous; they hit
// local files and the page cache. Every size taken from the file is checked before allocating.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { ByteReader, cstrAt, FormatError } from '../reader.js';
import { DamageLog } from '../damage.js';
import { ElfError } from './errors.js';
import { parseNotes } from './notes.js';
import { SymbolTable } from './symtab.js';
import { PT, SHF, SHN, SHT, type ElfNote, type ElfSection, type ProgramHeader } from './types.js';

const ELFCOMPRESS_ZLIB = 1;
/** Largest section we inflate: bigger claims are corrupt input, not debug info. */
const MAX_INFLATED = 2 ** 31 - 1;

export class ElfFile {
  readonly is64: boolean;
  /** ET_* */
  readonly type: number;
  /** EM_* */
  readonly machine: number;
  readonly entry: bigint;
  readonly sections: readonly ElfSection[];
  readonly programHeaders: readonly ProgramHeader[];
  private readonly byName = new Map<string, ElfSection>();
  private readonly cache = new Map<number, Uint8Array>();
  private symtab: SymbolTable | undefined;
  /** What of the file failed to parse and was skipped (DWARF's damage is recorded here too). */
  readonly damage = new DamageLog();
  private fd: number | undefined;

  private constructor(
    fd: number,
    readonly path: string,
    readonly fileSize: number,
  ) {
    this.fd = fd;
    const ident = this.readAt(0, 16, 'ELF header');
    if (ident[0] !== 0x7f || ident[1] !== 0x45 || ident[2] !== 0x4c || ident[3] !== 0x46)
      throw new ElfError('ELF header', `${path} is not an ELF file`);
    if (ident[4] !== 1 && ident[4] !== 2) throw new ElfError('ELF header', `bad EI_CLASS ${ident[4]}`);
    if (ident[5] !== 1) throw new ElfError('ELF header', 'only little-endian ELF is supported');
    this.is64 = ident[4] === 2;
    const r = new ByteReader(this.readAt(0, this.is64 ? 64 : 52, 'ELF header'), 'ELF header', 16);
    this.type = r.u16();
    this.machine = r.u16();
    r.u32();
    this.entry = this.word(r);
    const phoff = this.off(r);
    let shoff = this.off(r);
    r.u32();
    r.u16();
    const phentsize = r.u16();
    let phnum = r.u16();
    const shentsize = r.u16();
    let shnum = r.u16();
    let shstrndx = r.u16();

    // Extended numbering: the real counts live in section header 0. Sections that cannot be read
    // (a file cut short loses its section headers first) leave an image of segments only.
    let sh0: ElfSection | undefined;
    if (shoff !== 0) {
      try {
        this.checkEntSize('section header', shentsize, this.is64 ? 64 : 40);
        sh0 = this.sectionHeader(shoff, 0, shentsize);
        if (shnum === 0) shnum = sh0.size;
        if (shstrndx === SHN.XINDEX) shstrndx = sh0.link;
        if (phnum === 0xffff) phnum = sh0.info;
      } catch (e) {
        if (!(e instanceof FormatError) || phnum === 0xffff) throw e;
        this.skipSections(shoff, e);
        shoff = 0;
      }
    }
    this.programHeaders = phoff === 0 || phnum === 0 ? [] : this.readProgramHeaders(phoff, phnum, phentsize);

    let sections: ElfSection[] = [];
    if (shoff !== 0) {
      try {
        this.checkTable('section header table', shoff, shnum, shentsize);
        for (let i = 0; i < shnum; i++) sections.push(i === 0 ? sh0! : this.sectionHeader(shoff, i, shentsize));
        const names = shstrndx < sections.length && shstrndx !== SHN.UNDEF ? this.sectionBytes(sections[shstrndx]!) : undefined;
        for (const s of sections) {
          s.name = names ? cstrAt(names, Number(s.name), 'section name table') : '';
          if (s.name && !this.byName.has(s.name)) this.byName.set(s.name, s);
        }
      } catch (e) {
        if (!(e instanceof FormatError)) throw e;
        this.skipSections(shoff, e);
        sections = [];
        this.byName.clear();
      }
    }
    this.sections = sections;
  }

  /** Records that the section headers were left unread: no sections, so no symbols or debug info. */
  private skipSections(shoff: number, e: FormatError): void {
    this.damage.record('section header table', shoff, `sections skipped: ${e.message}`);
  }

  static async open(path: string): Promise<ElfFile> {
    const fd = openSync(path, 'r');
    try {
      return new ElfFile(fd, path, fstatSync(fd).size);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** `len` bytes at file offset `offset` (in `into`, when given, which must be large enough); throws ElfError if they are not all in the file. */
  readAt(offset: number, len: number, what = 'ELF file', into?: Uint8Array): Uint8Array {
    if (this.fd === undefined) throw new ElfError(what, `${this.path} is closed`);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(len) || offset < 0 || len < 0 || offset + len > this.fileSize) {
      throw new ElfError(
        what,
        `bytes [0x${offset.toString(16)}, +0x${len.toString(16)}) lie outside the file (size 0x${this.fileSize.toString(16)})`,
      );
    }
    const buf = into && into.length >= len ? into.subarray(0, len) : new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const n = readSync(this.fd, buf, done, len - done, offset + done);
      if (n === 0) throw new ElfError(what, `file shrank while reading at 0x${(offset + done).toString(16)}`);
      done += n;
    }
    return buf;
  }

  section(name: string): ElfSection | undefined {
    return this.byName.get(name);
  }

  /** A section's contents (inflated if compressed), cached; undefined if there is no such section. */
  sectionData(nameOrSection: string | ElfSection): Uint8Array | undefined {
    const s = typeof nameOrSection === 'string' ? this.byName.get(nameOrSection) : nameOrSection;
    if (!s) return undefined;
    let data = this.cache.get(s.index);
    if (!data) {
      data = this.sectionBytes(s);
      this.cache.set(s.index, data);
    }
    return data;
  }

  /** Size of a section's contents (inflated, for a compressed one). */
  sectionSize(s: ElfSection): number {
    if (s.type === SHT.NOBITS) return 0;
    return (s.flags & SHF.COMPRESSED) !== 0n ? this.sectionData(s)!.length : s.size;
  }

  /**
   * Bytes [offset, offset + length) of a section's contents: a positioned read of just those bytes
   * (a compressed section is inflated whole, once), into `into` when given (then a view of it).
   * Nothing is cached, so a caller reading one unit of a 170 MB .debug_info holds only that unit.
   */
  sectionRange(s: ElfSection, offset: number, length: number, into?: Uint8Array): Uint8Array {
    const cached = this.cache.get(s.index) ?? ((s.flags & SHF.COMPRESSED) !== 0n ? this.sectionData(s) : undefined);
    const size = cached ? cached.length : this.sectionSize(s);
    // The whole section must be in the file, not just the bytes asked for (as reading it whole checks).
    if (!cached && s.offset + size > this.fileSize) {
      throw new ElfError(
        `section ${s.name}`,
        `bytes [0x${s.offset.toString(16)}, +0x${size.toString(16)}) lie outside the file (size 0x${this.fileSize.toString(16)})`,
      );
    }
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size) {
      throw new ElfError(
        `section ${s.name}`,
        `bytes [0x${offset.toString(16)}, +0x${length.toString(16)}) lie outside the section (size 0x${size.toString(16)})`,
      );
    }
    if (cached) return cached.subarray(offset, offset + length);
    return this.readAt(s.offset + offset, length, `section ${s.name}`, into);
  }

  /** Every note: from PT_NOTE segments, or from SHT_NOTE sections when there are no program headers. */
  *notes(): Generator<ElfNote> {
    const segs = this.programHeaders.filter((p) => p.type === PT.NOTE);
    if (segs.length > 0) {
      for (const p of segs) yield* parseNotes(this.readAt(p.offset, p.filesz, 'PT_NOTE segment'), p.offset, p.align === 8n ? 8 : 4);
      return;
    }
    for (const s of this.sections) {
      if (s.type === SHT.NOTE) yield* parseNotes(this.readAt(s.offset, s.size, `section ${s.name}`), s.offset, s.addralign === 8n ? 8 : 4);
    }
  }

  /** The symbol table (.symtab, else .dynsym), read on first use. */
  get symbols(): SymbolTable {
    if (!this.symtab) {
      const tab = this.sections.find((s) => s.type === SHT.SYMTAB) ?? this.sections.find((s) => s.type === SHT.DYNSYM);
      if (!tab) {
        this.symtab = SymbolTable.empty();
      } else {
        const strtab = this.sections[tab.link];
        if (!strtab) throw new ElfError(`section ${tab.name}`, `string table index ${tab.link} out of range`);
        this.symtab = SymbolTable.parse(this.sectionBytes(tab), this.sectionBytes(strtab), this.is64, tab.name);
      }
    }
    return this.symtab;
  }

  /** The section whose address range holds `addr` (allocated sections only). */
  sectionAt(addr: bigint): ElfSection | undefined {
    return this.sections.find(
      (s) => (s.flags & SHF.ALLOC) !== 0n && s.type !== SHT.NOBITS && addr >= s.addr && addr < s.addr + BigInt(s.size),
    );
  }

  /** The section an address belongs to for gdb's symbols: allocated, a .bss too, not thread-local. */
  symbolSectionAt(addr: bigint): ElfSection | undefined {
    return this.sections.find(
      (s) => (s.flags & SHF.ALLOC) !== 0n && (s.flags & SHF.TLS) === 0n && addr >= s.addr && addr < s.addr + BigInt(s.size),
    );
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.cache.clear();
  }

  private sectionBytes(s: ElfSection): Uint8Array {
    if (s.type === SHT.NOBITS) return new Uint8Array(0);
    const raw = this.readAt(s.offset, s.size, `section ${s.name || s.index}`);
    return (s.flags & SHF.COMPRESSED) !== 0n ? this.inflate(s, raw) : raw;
  }

  private inflate(s: ElfSection, raw: Uint8Array): Uint8Array {
    const what = `compressed section ${s.name}`;
    const r = new ByteReader(raw, what);
    const chType = r.u32();
    if (this.is64) r.u32();
    const size = this.is64 ? r.u64n() : r.u32();
    if (this.is64) r.u64();
    else r.u32();
    if (chType !== ELFCOMPRESS_ZLIB) throw new ElfError(what, `unsupported compression type ${chType}`);
    // zlib cannot expand more than ~1032:1; a larger claim is corrupt.
    if (size > MAX_INFLATED || size > (raw.length - r.pos) * 1032 + 64)
      throw new ElfError(what, `implausible uncompressed size 0x${size.toString(16)}`);
    let out: Buffer;
    try {
      out = inflateSync(raw.subarray(r.pos), { maxOutputLength: Math.max(size, 1) });
    } catch (e) {
      throw new ElfError(what, `zlib: ${(e as Error).message}`);
    }
    if (out.length !== size) throw new ElfError(what, `inflated to ${out.length} bytes, header says ${size}`);
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  }

  private readProgramHeaders(phoff: number, phnum: number, entsize: number): ProgramHeader[] {
    this.checkEntSize('program header', entsize, this.is64 ? 56 : 32);
    this.checkTable('program header table', phoff, phnum, entsize);
    const bytes = this.readAt(phoff, phnum * entsize, 'program header table');
    const out: ProgramHeader[] = [];
    for (let i = 0; i < phnum; i++) {
      const r = new ByteReader(bytes, 'program header table', i * entsize);
      const type = r.u32();
      if (this.is64) {
        const flags = r.u32();
        const offset = r.u64n();
        const vaddr = r.u64();
        const paddr = r.u64();
        const filesz = r.u64n();
        out.push({ type, flags, offset, vaddr, paddr, filesz, memsz: r.u64(), align: r.u64() });
      } else {
        const offset = r.u32();
        const vaddr = BigInt(r.u32());
        const paddr = BigInt(r.u32());
        const filesz = r.u32();
        const memsz = BigInt(r.u32());
        const flags = r.u32();
        out.push({ type, flags, offset, vaddr, paddr, filesz, memsz, align: BigInt(r.u32()) });
      }
    }
    return out;
  }

  private sectionHeader(shoff: number, index: number, entsize: number): ElfSection {
    const r = new ByteReader(this.readAt(shoff + index * entsize, entsize, `section header ${index}`), `section header ${index}`);
    const nameOff = r.u32();
    const type = r.u32();
    const flags = this.is64 ? r.u64() : BigInt(r.u32());
    const addr = this.word(r);
    const offset = this.off(r);
    const size = this.off(r);
    const link = r.u32();
    const info = r.u32();
    const addralign = this.word(r);
    const entsizeField = this.off(r);
    // The name is resolved once the section name table is known; keep its offset until then.
    return { index, name: String(nameOff), type, flags, addr, offset, size, link, info, addralign, entsize: entsizeField };
  }

  private word(r: ByteReader): bigint {
    return this.is64 ? r.u64() : BigInt(r.u32());
  }

  private off(r: ByteReader): number {
    return this.is64 ? r.u64n() : r.u32();
  }

  private checkEntSize(what: string, entsize: number, min: number): void {
    if (entsize < min) throw new ElfError('ELF header', `${what} entry size ${entsize} < ${min}`);
  }

  private checkTable(what: string, off: number, count: number, entsize: number): void {
    if (off + count * entsize > this.fileSize)
      throw new ElfError('ELF header', `${what} (${count} x ${entsize} at 0x${off.toString(16)}) runs past the end of the file`);
  }
}
