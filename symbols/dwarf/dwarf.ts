// The DWARF sections of one image: small sections loaded whole on first use, large ones
// (.debug_info, .debug_line) read a unit or a line program at a time; unit headers, shared
// abbreviation tables, cross-unit DIE lookup and function names by DIE offset.
import { parseAbbrevTable, type AbbrevTable } from './abbrev.js';
import { AddressKeys } from './address-keys.js';
import { parseAranges } from './aranges.js';
import { DW_AT, DW_FORM, DW_UT } from './constants.js';
import type { Die } from './die.js';
import { DwarfError } from './errors.js';
import { readUnitHeaders, Unit } from './unit.js';
import { cstrAt } from '../reader.js';
import { partitionPoint } from '../search.js';

const EMPTY = new Uint8Array(0);

/** Where section bytes come from (the ELF file). */
export interface DwarfSource {
  /** A section's whole contents (inflated), or undefined when the image has none. */
  section(name: string): Uint8Array | undefined;
  /** Its size, undefined when absent. */
  size(name: string): number | undefined;
  /** Bytes [offset, offset + length) of a section, without reading the rest (not cached); into `into` when it is large enough. */
  range(name: string, offset: number, length: number, into?: Uint8Array): Uint8Array;
}

/** A DwarfSource over sections already in memory (`get` returns one, or undefined when absent). */
export function memorySource(get: (name: string) => Uint8Array | undefined): DwarfSource {
  return {
    section: get,
    size: (name) => get(name)?.length,
    range: (name, offset, length) => {
      const s = get(name);
      if (!s || offset < 0 || length < 0 || offset + length > s.length) throw new DwarfError(name, offset, `0x${length.toString(16)} bytes past the end of the section`);
      return s.subarray(offset, offset + length);
    },
  };
}

export class Dwarf {
  readonly keys: AddressKeys;
  private readonly sections = new Map<string, Uint8Array>();
  private readonly abbrevTables = new Map<number, AbbrevTable>();
  private unitList: Unit[] | undefined;
  private compileUnitList: Unit[] | undefined;
  private readonly unitsBySection = new Map<string, Unit[]>();
  private typeUnits: Map<bigint, Unit> | undefined;
  private arangeMap: Map<number, number[]> | undefined;
  /** Function names by .debug_info offset of the DIE; null when the DIE has none. */
  private readonly functionNames = new Map<number, string | null>();
  private readonly strings = new Map<string, Map<number, string>>();
  private lineScratch: Uint8Array = new Uint8Array(0);
  private unitScratch: Uint8Array = new Uint8Array(0);
  private scanned: { section: string; offset: number; bytes: Uint8Array } | undefined;

  /** `base` is the address table keys count from (see AddressKeys): the image's lowest code address. */
  constructor(private readonly source: DwarfSource, base: bigint) {
    this.keys = new AddressKeys(base);
  }

  /** A section's bytes, loaded whole and cached; empty when absent (references into it then fail as out of range). */
  section(name: string): Uint8Array {
    let s = this.sections.get(name);
    if (!s) {
      s = this.source.section(name) ?? EMPTY;
      this.sections.set(name, s);
    }
    return s;
  }

  /**
   * Bytes [offset, offset + length) of a section: from the whole section when loaded, a copy from
   * the unit scanned last when they lie in it, else one positioned read.
   */
  read(name: string, offset: number, length: number): Uint8Array {
    const whole = this.sections.get(name);
    const last = this.scanned;
    if (!whole && last && last.section === name && offset >= last.offset && offset + length <= last.offset + last.bytes.length) {
      return last.bytes.slice(offset - last.offset, offset - last.offset + length);
    }
    if (!whole) return this.source.range(name, offset, length);
    if (offset < 0 || length < 0 || offset + length > whole.length) throw new DwarfError(name, offset, `0x${length.toString(16)} bytes past the end of the section`);
    return whole.subarray(offset, offset + length);
  }

  /**
   * The same for a reader that keeps nothing of the bytes (a line program, a function's body): a
   * view of the unit scanned last when they lie in it, else read into a buffer the next call
   * reuses, so reading a few thousand of them allocates once.
   */
  readTransient(name: string, offset: number, length: number): Uint8Array {
    if (this.sections.has(name)) return this.read(name, offset, length);
    const last = this.scanned;
    if (last && last.section === name && offset >= last.offset && offset + length <= last.offset + last.bytes.length) {
      return last.bytes.subarray(offset - last.offset, offset - last.offset + length);
    }
    this.lineScratch = grown(this.lineScratch, length);
    return this.source.range(name, offset, length, this.lineScratch);
  }

  /**
   * A unit's bytes for a scan that keeps nothing of them, in a buffer the next call reuses; until
   * then they also serve reads inside the unit (the names of the functions just found).
   */
  scanBytes(unit: Unit): Uint8Array {
    const length = unit.end - unit.offset;
    if (this.sections.has(unit.section)) return this.read(unit.section, unit.offset, length);
    this.scanned = undefined;
    this.unitScratch = grown(this.unitScratch, length);
    const bytes = this.source.range(unit.section, unit.offset, length, this.unitScratch);
    this.scanned = { section: unit.section, offset: unit.offset, bytes };
    return bytes;
  }

  sectionSize(name: string): number {
    return this.sections.get(name)?.length ?? this.source.size(name) ?? 0;
  }

  /** Every unit of .debug_info and .debug_types, headers only, in offset order per section. */
  get units(): readonly Unit[] {
    if (!this.unitList) {
      const list: Unit[] = [];
      for (const name of ['.debug_info', '.debug_types']) {
        for (const h of readUnitHeaders((off, len) => this.read(name, off, len), this.sectionSize(name), name)) list.push(new Unit(this, h, name));
      }
      this.unitList = list;
    }
    return this.unitList;
  }

  /** Compile and partial units (what addresses and names are looked up in). */
  get compileUnits(): readonly Unit[] {
    this.compileUnitList ??= this.units.filter((u) => u.unitType === DW_UT.compile || u.unitType === DW_UT.partial || u.unitType === DW_UT.skeleton);
    return this.compileUnitList;
  }

  /** Units of one section in offset order (references are resolved through this on every lookup). */
  private unitsOf(section: string): readonly Unit[] {
    let list = this.unitsBySection.get(section);
    if (!list) {
      list = this.units.filter((u) => u.section === section);
      this.unitsBySection.set(section, list);
    }
    return list;
  }

  abbrevs(offset: number): AbbrevTable {
    let t = this.abbrevTables.get(offset);
    if (!t) {
      t = parseAbbrevTable(this.section('.debug_abbrev'), offset);
      this.abbrevTables.set(offset, t);
    }
    return t;
  }

  /** The unit containing section offset `offset`. */
  unitAt(offset: number, section = '.debug_info'): Unit | undefined {
    const units = this.unitsOf(section);
    const u = units[partitionPoint(units.length, (i) => units[i]!.end <= offset)];
    return u && u.offset <= offset ? u : undefined;
  }

  dieAt(offset: number, section = '.debug_info'): Die | undefined {
    return this.unitAt(offset, section)?.dieAt(offset);
  }

  /**
   * The name a function or inlined call is printed with: its linkage name or name, else its
   * abstract origin's or specification's (C compilers split a function that way). Reads only the
   * DIEs on that path, attributes only, and remembers the answer.
   */
  functionName(offset: number): string | undefined {
    const known = this.functionNames.get(offset);
    if (known !== undefined) return known ?? undefined;
    let name: string | undefined;
    for (let at = offset, depth = 0; depth < 8; depth++) {
      const d = this.unitAt(at)?.dieHeader(at);
      if (!d) break;
      name = d.string(DW_AT.linkage_name) ?? d.string(DW_AT.MIPS_linkage_name) ?? d.name;
      const next = d.attr(DW_AT.abstract_origin) ?? d.attr(DW_AT.specification);
      if (name !== undefined || !next || typeof next.value !== 'number' || !isInfoRef(next.form)) break;
      at = next.value;
    }
    this.functionNames.set(offset, name ?? null);
    return name;
  }

  /** The string at `offset` of a string section (.debug_str, .debug_line_str), decoded once. */
  string(name: '.debug_str' | '.debug_line_str', offset: number): string {
    let cache = this.strings.get(name);
    if (!cache) {
      cache = new Map();
      this.strings.set(name, cache);
    }
    let s = cache.get(offset);
    if (s === undefined) {
      s = cstrAt(this.section(name), offset, name);
      cache.set(offset, s);
    }
    return s;
  }

  /** The type DIE of the type unit with signature `sig` (DW_FORM_ref_sig8). */
  typeUnitDie(sig: bigint): Die | undefined {
    if (!this.typeUnits) {
      this.typeUnits = new Map();
      for (const u of this.units) if (u.typeSignature !== undefined) this.typeUnits.set(u.typeSignature, u);
    }
    const u = this.typeUnits.get(sig);
    return u && u.typeOffset !== undefined ? u.dieAt(u.typeOffset) : undefined;
  }

  /** .debug_aranges: [start, end) key pairs by unit offset (empty map when the section is absent). */
  get aranges(): Map<number, number[]> {
    this.arangeMap ??= parseAranges(this.section('.debug_aranges'), this.keys);
    return this.arangeMap;
  }
}

/** `buf` when it holds `length` bytes, else a larger buffer (its contents are not kept). */
function grown(buf: Uint8Array, length: number): Uint8Array {
  return buf.length >= length ? buf : new Uint8Array(Math.max(length, 2 * buf.length));
}

/** References into .debug_info (same unit, made absolute when decoded, or DW_FORM_ref_addr). */
function isInfoRef(form: number): boolean {
  return form === DW_FORM.ref1 || form === DW_FORM.ref2 || form === DW_FORM.ref4 || form === DW_FORM.ref8 || form === DW_FORM.ref_udata || form === DW_FORM.ref_addr;
}
