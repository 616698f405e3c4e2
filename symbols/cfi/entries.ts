// CIEs and FDEs of .eh_frame (GCC/LSB flavour: CIE id 0, relative CIE pointers, DW_EH_PE pointers,
// "z" augmentations) and .debug_frame (DWARF 2-5: CIE versions 1, 3, 4, 32- and 64-bit lengths).
import { ByteReader, FormatError } from '../reader.js';
import { DW_EH_PE } from './constants.js';
import { CfiError } from './errors.js';
import { readEncodedPointer, readFormat, type EncodedPointer, type PointerBases } from './pointer.js';

export type FrameSectionKind = 'eh_frame' | 'debug_frame';

export interface FrameSectionInput {
  bytes: Uint8Array;
  /** The section's load address (sh_addr): the base of DW_EH_PE_pcrel. 0 for .debug_frame. */
  address: bigint;
  /** Bases of DW_EH_PE_textrel and DW_EH_PE_datarel (x86_64: .text and .got), if the image has them. */
  textBase?: bigint;
  dataBase?: bigint;
}

export interface FrameSection extends FrameSectionInput {
  kind: FrameSectionKind;
  addressSize: number;
}

export interface Cie {
  section: FrameSection;
  offset: number;
  version: number;
  augmentation: string;
  addressSize: number;
  segmentSize: number;
  codeAlignment: number;
  dataAlignment: number;
  returnAddressRegister: number;
  /** DW_EH_PE encoding of the FDEs' addresses ('R'); absptr when absent. */
  fdeEncoding: number;
  lsdaEncoding: number;
  personality?: EncodedPointer;
  /** 'S': FDEs using this CIE describe signal/interrupt frames (their pc is not a return address). */
  isSignalFrame: boolean;
  instructions: Uint8Array;
}

export interface Fde {
  cie: Cie;
  offset: number;
  start: bigint;
  /** One past the last covered address. */
  end: bigint;
  lsda?: bigint;
  instructions: Uint8Array;
  /** Offset of `instructions` in the section (DW_CFA_set_loc's pcrel base). */
  instructionsOffset: number;
}

/** Every CIE and FDE of a section, in section order. CIEs are parsed once and shared. */
export function parseFrameSection(section: FrameSection): { cies: Cie[]; fdes: Fde[] } {
  const fdes: Fde[] = [];
  const cies = eachFde(section, (h, cie) => fdes.push(parseFde(section, h, cie)));
  return { cies: [...cies.values()].sort((a, b) => a.offset - b.offset), fdes };
}

/** What a lookup table keeps of an FDE: where it is and the addresses it covers. */
export interface FdeBounds {
  section: FrameSection;
  offset: number;
  start: bigint;
  end: bigint;
}

/** Reports an entry that failed to parse and is skipped (its section, offset and why). */
export type CfiDamage = (section: string, offset: number, message: string) => void;

/**
 * The bounds of every FDE of a section, in section order, without parsing the rest of them. With
 * `damaged`, an entry that does not parse is reported and skipped (the entries after it are read
 * while its length still says where they start); without it the first bad entry throws.
 */
export function fdeBounds(section: FrameSection, damaged?: CfiDamage): FdeBounds[] {
  return (section.kind === 'debug_frame' && plainDebugFrameBounds(section)) || anyFdeBounds(section, damaged);
}

/**
 * .debug_frame in its usual shape (32-bit lengths, 8-byte addresses, no segment selectors) read
 * straight from the bytes: a kernel has 50,000 FDEs, and the general reader's header objects cost
 * it ~100 ms. Undefined at anything else, which the general reader then reads (or reports).
 */
function plainDebugFrameBounds(section: FrameSection): FdeBounds[] | undefined {
  const b = section.bytes;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const cies = new Map<number, Cie>();
  const out: FdeBounds[] = [];
  let pos = 0;
  while (pos < b.length) {
    if (pos + 4 > b.length) return undefined;
    const length = view.getUint32(pos, true);
    if (length === 0) {
      pos += 4; // padding
      continue;
    }
    if (length >= 0xfffffff0 || length < 4 || length > b.length - pos - 4) return undefined;
    const id = view.getUint32(pos + 4, true);
    const cieOffset = id === 0xffffffff ? pos : id;
    let cie = cies.get(cieOffset);
    if (!cie) {
      if (cieOffset >= b.length) return undefined;
      try {
        cie = parseCie(section, cieOffset);
      } catch {
        return undefined;
      }
      cies.set(cieOffset, cie);
    }
    if (id !== 0xffffffff) {
      if (cie.addressSize !== 8 || cie.segmentSize !== 0 || length < 20) return undefined;
      const start = view.getBigUint64(pos + 8, true);
      out.push({ section, offset: pos, start, end: BigInt.asUintN(64, start + view.getBigUint64(pos + 16, true)) });
    }
    pos += 4 + length;
  }
  return out;
}

function anyFdeBounds(section: FrameSection, damaged?: CfiDamage): FdeBounds[] {
  const out: FdeBounds[] = [];
  // One reader for every entry (a reader per entry made the garbage of 50,000 views for a kernel).
  const r = new ByteReader(section.bytes, `.${section.kind}`);
  eachFde(
    section,
    (h, cie) => {
      r.seek(h.body);
      const [start, end] = fdeRange(section, h, cie, r);
      if (r.pos > h.end) throw new CfiError(`.${section.kind}`, h.offset, 'address range runs past the end of the FDE');
      out.push({ section, offset: h.offset, start, end });
    },
    damaged,
  );
  return out;
}

/** The FDE at `offset` of its section (`cies` caches the CIEs parsed). */
export function fdeAt(section: FrameSection, offset: number, cies: Map<number, Cie>): Fde {
  const h = readHeader(new ByteReader(section.bytes, `.${section.kind}`, offset), section);
  if (!h || h.isCie || h.padding) throw new CfiError(`.${section.kind}`, offset, 'no FDE here');
  let cie = cies.get(h.ciePointer);
  if (!cie) {
    cie = parseCie(section, h.ciePointer);
    cies.set(h.ciePointer, cie);
  }
  return parseFde(section, h, cie);
}

/** Calls `visit` with each FDE's header and CIE, in section order; returns the CIEs by offset. */
function eachFde(section: FrameSection, visit: (h: EntryHeader, cie: Cie) => void, damaged?: CfiDamage): Map<number, Cie> {
  const cies = new Map<number, Cie>();
  const r = new ByteReader(section.bytes, `.${section.kind}`);
  while (!r.atEnd) {
    const at = r.pos;
    let h: EntryHeader | undefined;
    try {
      h = readHeader(r, section);
    } catch (e) {
      if (!damaged || !(e instanceof FormatError)) throw e;
      // A bad CIE pointer still leaves the length, and so where the next entry starts.
      const next = entryEnd(section.bytes, at);
      damaged(`.${section.kind}`, at, `call frame ${next === undefined ? 'entries from here on' : 'entry'} skipped: ${e.message}`);
      if (next === undefined) break;
      r.seek(next);
      continue;
    }
    if (!h) break;
    if (h.padding) continue;
    try {
      if (h.isCie) {
        if (!cies.has(h.offset)) cies.set(h.offset, parseCie(section, h.offset));
      } else {
        const cie = cies.get(h.ciePointer) ?? parseCie(section, h.ciePointer);
        cies.set(h.ciePointer, cie);
        visit(h, cie);
      }
    } catch (e) {
      if (!damaged || !(e instanceof FormatError)) throw e;
      damaged(`.${section.kind}`, h.offset, `call frame entry skipped: ${e.message}`);
    }
    r.seek(h.end);
  }
  return cies;
}

/** The end of the entry at `at` when its length field is sound (inside the section), else undefined. */
function entryEnd(bytes: Uint8Array, at: number): number | undefined {
  try {
    const r = new ByteReader(bytes, 'call frame entry', at);
    const { length } = r.initialLength();
    const end = r.pos + length;
    return length > 0 && end <= bytes.length ? end : undefined;
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    return undefined;
  }
}

interface EntryHeader {
  offset: number;
  /** Offset just past the entry. */
  end: number;
  isCie: boolean;
  padding?: boolean;
  /** Section offset of an FDE's CIE. */
  ciePointer: number;
  /** Offset of the first byte after the CIE id / CIE pointer. */
  body: number;
}

/** Length and CIE id/pointer of the entry at r.pos; undefined at an .eh_frame terminator. */
function readHeader(r: ByteReader, section: FrameSection): EntryHeader | undefined {
  const name = `.${section.kind}`;
  const offset = r.pos;
  try {
    const { length, offsetSize } = r.initialLength();
    if (length === 0) {
      // .eh_frame ends at a zero terminator; in .debug_frame a zero length is only padding.
      if (section.kind === 'eh_frame') return undefined;
      return { offset, end: r.pos, isCie: false, padding: true, ciePointer: -1, body: r.pos };
    }
    if (length > r.remaining) throw new CfiError(name, offset, `length 0x${length.toString(16)} runs past the end of the section`);
    const end = r.pos + length;
    const idPos = r.pos;
    const id = offsetSize === 4 ? BigInt(r.u32()) : r.u64();
    const body = r.pos;
    if (section.kind === 'eh_frame') {
      // An FDE's CIE pointer counts back from its own position.
      if (id === 0n) return { offset, end, isCie: true, ciePointer: offset, body };
      return { offset, end, isCie: false, ciePointer: checkPointer(BigInt(idPos) - id, section, offset), body };
    }
    const cieId = offsetSize === 4 ? 0xffffffffn : 0xffffffffffffffffn;
    if (id === cieId) return { offset, end, isCie: true, ciePointer: offset, body };
    return { offset, end, isCie: false, ciePointer: checkPointer(id, section, offset), body };
  } catch (e) {
    throw asCfiError(e, name, offset);
  }
}

function checkPointer(p: bigint, section: FrameSection, offset: number): number {
  if (p < 0n || p >= BigInt(section.bytes.length))
    throw new CfiError(`.${section.kind}`, offset, `CIE pointer 0x${p.toString(16)} outside the section`);
  return Number(p);
}

function asCfiError(e: unknown, name: string, offset: number): unknown {
  if (e instanceof FormatError && !(e instanceof CfiError)) return new CfiError(name, offset, e.message);
  return e;
}

/** A reader that stops at the entry's end but keeps section offsets (pcrel pointers need them). */
function entryReader(section: FrameSection, h: EntryHeader): ByteReader {
  return new ByteReader(section.bytes.subarray(0, h.end), `.${section.kind}`, h.body);
}

function bases(section: FrameSection, entry: number, addressSize: number, funcBase?: bigint): PointerBases {
  return {
    addressSize,
    section: `.${section.kind}`,
    entry,
    sectionAddress: section.address,
    textBase: section.textBase,
    dataBase: section.dataBase,
    funcBase,
  };
}

function parseCie(section: FrameSection, offset: number): Cie {
  const name = `.${section.kind}`;
  const r = new ByteReader(section.bytes, name, offset);
  const h = readHeader(r, section);
  if (!h || !h.isCie) throw new CfiError(name, offset, 'FDE points at something that is not a CIE');
  const body = entryReader(section, h);
  try {
    const version = body.u8();
    const validVersions = section.kind === 'eh_frame' ? [1, 3] : [1, 3, 4];
    if (!validVersions.includes(version)) throw new CfiError(name, offset, `unsupported CIE version ${version}`);
    const augmentation = body.cstr();
    let addressSize = section.addressSize;
    let segmentSize = 0;
    if (version >= 4) {
      addressSize = body.u8();
      segmentSize = body.u8();
    }
    if (augmentation.includes('eh')) body.skip(addressSize);
    const codeAlignment = body.uleb128();
    const dataAlignment = body.sleb128();
    const returnAddressRegister = version === 1 ? body.u8() : body.uleb128();
    const cie: Cie = {
      section,
      offset,
      version,
      augmentation,
      addressSize,
      segmentSize,
      codeAlignment,
      dataAlignment,
      returnAddressRegister,
      fdeEncoding: DW_EH_PE.absptr,
      lsdaEncoding: DW_EH_PE.omit,
      isSignalFrame: false,
      instructions: new Uint8Array(),
    };
    if (augmentation.startsWith('z')) {
      const dataEnd = body.uleb128() + body.pos;
      for (const ch of augmentation.slice(1)) {
        if (ch === 'R') cie.fdeEncoding = body.u8();
        else if (ch === 'L') cie.lsdaEncoding = body.u8();
        else if (ch === 'S') cie.isSignalFrame = true;
        else if (ch === 'P') cie.personality = readEncodedPointer(body, body.u8(), bases(section, offset, addressSize));
        else if (ch !== 'B' && ch !== 'G') break; // an unknown letter: 'z' gives the length to skip
      }
      body.seek(dataEnd);
    } else if (augmentation !== '' && augmentation !== 'eh') {
      throw new CfiError(name, offset, `unknown augmentation "${augmentation}"`);
    }
    cie.instructions = body.bytesN(body.remaining);
    return cie;
  } catch (e) {
    throw asCfiError(e, name, offset);
  }
}

function parseFde(section: FrameSection, h: EntryHeader, cie: Cie): Fde {
  const r = entryReader(section, h);
  const [start, end] = fdeRange(section, h, cie, r);
  try {
    let lsda: bigint | undefined;
    if (cie.augmentation.startsWith('z')) {
      const augEnd = r.uleb128() + r.pos;
      if (cie.lsdaEncoding !== DW_EH_PE.omit && augEnd > r.pos) {
        lsda = readEncodedPointer(r, cie.lsdaEncoding, bases(section, h.offset, cie.addressSize, start)).value;
      }
      r.seek(augEnd);
    }
    const instructionsOffset = r.pos;
    return { cie, offset: h.offset, start, end, lsda, instructions: r.bytesN(r.remaining), instructionsOffset };
  } catch (e) {
    throw asCfiError(e, `.${section.kind}`, h.offset);
  }
}

/** An FDE's [start, end), read from `r` at the start of its body (left after the address range). */
function fdeRange(section: FrameSection, h: EntryHeader, cie: Cie, r: ByteReader): [bigint, bigint] {
  const name = `.${section.kind}`;
  try {
    let start: bigint;
    let range: bigint;
    if (section.kind === 'eh_frame') {
      const b = bases(section, h.offset, cie.addressSize);
      const p = readEncodedPointer(r, cie.fdeEncoding, b);
      if (p.indirect) throw new CfiError(name, h.offset, 'indirect FDE start address is not supported');
      start = p.value;
      range = readFormat(r, cie.fdeEncoding & 0x0f, b);
    } else {
      r.skip(cie.segmentSize);
      start = r.addr(cie.addressSize);
      range = r.addr(cie.addressSize);
    }
    return [start, BigInt.asUintN(cie.addressSize * 8, start + range)];
  } catch (e) {
    throw asCfiError(e, name, h.offset);
  }
}
