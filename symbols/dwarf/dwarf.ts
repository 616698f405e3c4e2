// The DWARF sections of one image: small sections loaded whole on first use, large ones
// (.debug_info, .debug_line) read a unit or a line program at a time; unit headers, shared
// abbreviation tables, cross-unit DIE lookup and function names by DIE offset.
import { anyAbbrevUses, parseAbbrevTable, type AbbrevTable } from './abbrev.js';
import { AddressKeys } from './address-keys.js';
import { parseAranges } from './aranges.js';
import { DW_AT, DW_FORM, DW_UT } from './constants.js';
import { DebugNames } from './debug-names.js';
import type { Die } from './die.js';
import { DwarfError } from './errors.js';
import { readUnitHeaders, Unit } from './unit.js';
import { cstrAt, FormatError } from '../reader.js';
import { DamageLog } from '../damage.js';
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
      if (!s || offset < 0 || length < 0 || offset + length > s.length)
        throw new DwarfError(name, offset, `0x${length.toString(16)} bytes past the end of the section`);
      return s.subarray(offset, offset + length);
    },
  };
}

export class Dwarf {
  readonly keys: AddressKeys;
  /** What failed to parse and was skipped (see damage.ts): the ELF file's log, when given. */
  readonly damage: DamageLog;
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
  /** null: looked for, none usable. */
  private names: DebugNames | null | undefined;
  private lineScratch: Uint8Array = new Uint8Array(0);
  private unitScratch: Uint8Array = new Uint8Array(0);
  private scanned: { section: string; offset: number; bytes: Uint8Array } | undefined;
  private crossUnitOrigins: boolean | undefined;

  /** `base` is the address table keys count from (see AddressKeys): the image's lowest code address. */
  constructor(
    private readonly source: DwarfSource,
    base: bigint,
    damage = new DamageLog(),
  ) {
    this.keys = new AddressKeys(base);
    this.damage = damage;
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
    if (offset < 0 || length < 0 || offset + length > whole.length)
      throw new DwarfError(name, offset, `0x${length.toString(16)} bytes past the end of the section`);
    return whole.subarray(offset, offset + length);
  }

  /**
   * Reads something of unknown length at `offset` of a section (a location list) from as few bytes
   * as it takes: `parse` gets bytes, the position of `offset` in them and their section offset.
   * A section in memory is given whole; else a window from `offset`, made 8 times larger while
   * parsing it fails short of the section's end (the error from a window that reaches the end is
   * the parse's own).
   */
  readSized<T>(name: string, offset: number, parse: (bytes: Uint8Array, pos: number, origin: number) => T): T {
    const whole = this.sections.get(name);
    if (whole) return parse(whole, offset, 0);
    const size = this.sectionSize(name);
    if (!(offset >= 0 && offset < size))
      throw new DwarfError(name, offset, `offset past the end of the section (size 0x${size.toString(16)})`);
    for (let window = 512; ; window *= 8) {
      const length = Math.min(window, size - offset);
      try {
        return parse(this.source.range(name, offset, length), 0, offset);
      } catch (e) {
        if (offset + length >= size || !(e instanceof FormatError)) throw e;
      }
    }
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

  /** Offsets in a string section where `text` is a whole string (the tail of a longer one included): where it ends in a NUL. */
  stringOffsets(name: '.debug_str' | '.debug_line_str', text: Uint8Array): number[] {
    const table = this.section(name);
    const needle = new Uint8Array(text.length + 1);
    needle.set(text);
    return positions(table, needle, 0, []);
  }

  /**
   * Offsets in [from, to) of a section where any of `needles` begins, ascending and distinct. A
   * section not in memory is read a piece at a time into one buffer (pieces overlap by the longest
   * needle less one byte), so finding a few byte strings in 170 MB of DIEs holds 8 MB.
   */
  findBytes(name: string, needles: readonly Uint8Array[], from = 0, to = Infinity): number[] {
    const found: number[] = [];
    const longest = Math.max(0, ...needles.map((n) => n.length));
    const end = Math.min(to, this.sectionSize(name));
    if (longest === 0 || from >= end) return found;
    const whole = this.sections.get(name);
    const step = whole ? end - from : SEARCH_PIECE;
    let buf: Uint8Array = new Uint8Array(0);
    for (let at = from; at < end; at += step) {
      const length = Math.min(end - at, step + longest - 1);
      let piece: Uint8Array;
      if (whole) piece = whole.subarray(at, at + length);
      else {
        buf = grown(buf, length);
        piece = this.source.range(name, at, length, buf);
      }
      // An occurrence starting in the overlap is found again by the next piece.
      const limit = at + step >= end ? length : step;
      for (const n of needles) positions(piece, n, at, found, limit);
    }
    return [...new Set(found)].sort((a, b) => a - b);
  }

  /**
   * The .debug_names index when the image has one that reads: lookups by name then go straight to
   * the units it covers. A damaged index is ignored (as gdb does), and names are searched for.
   */
  get nameIndex(): DebugNames | undefined {
    if (this.names === undefined) {
      try {
        this.names =
          this.sectionSize('.debug_names') > 0 ? new DebugNames(this.section('.debug_names'), (o) => this.string('.debug_str', o)) : null;
      } catch (e) {
        if (!(e instanceof FormatError)) throw e;
        this.damage.record('.debug_names', 0, `name index skipped (names are searched for instead): ${e.message}`);
        this.names = null;
      }
    }
    return this.names ?? undefined;
  }

  sectionSize(name: string): number {
    return this.sections.get(name)?.length ?? this.source.size(name) ?? 0;
  }

  /** Every unit of .debug_info and .debug_types, headers only, in offset order per section. */
  get units(): readonly Unit[] {
    if (!this.unitList) {
      const list: Unit[] = [];
      for (const name of ['.debug_info', '.debug_types']) {
        const headers = readUnitHeaders(
          (off, len) => this.read(name, off, len),
          this.sectionSize(name),
          name,
          (offset, message) => this.damage.record(name, offset, message),
        );
        for (const h of headers) list.push(new Unit(this, h, name));
      }
      this.unitList = list;
    }
    return this.unitList;
  }

  /**
   * `parse()` of one unit, or `fallback` when the unit fails to parse: then the unit is named once
   * as damaged and the caller goes on with the others.
   */
  guardUnit<T>(unit: Unit, what: string, parse: () => T, fallback: T): T {
    return this.damage.guard(unit.section, unit.offset, `${what} of the unit`, parse, fallback);
  }

  /** Compile and partial units (what addresses and names are looked up in). */
  get compileUnits(): readonly Unit[] {
    this.compileUnitList ??= this.units.filter(
      (u) => u.unitType === DW_UT.compile || u.unitType === DW_UT.partial || u.unitType === DW_UT.skeleton,
    );
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

  /**
   * May a DIE take its name from a DIE in another unit (DW_AT_abstract_origin or DW_AT_specification
   * by DW_FORM_ref_addr, or into a supplementary file)? Then a unit can hold a function or variable
   * of a name without holding the name's string.
   */
  get originsCrossUnits(): boolean {
    this.crossUnitOrigins ??= anyAbbrevUses(
      this.section('.debug_abbrev'),
      [DW_AT.abstract_origin, DW_AT.specification],
      [DW_FORM.ref_addr, DW_FORM.GNU_ref_alt, DW_FORM.ref_sup4, DW_FORM.ref_sup8],
    );
    return this.crossUnitOrigins;
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
    this.arangeMap ??= this.damage.guard(
      '.debug_aranges',
      0,
      'address ranges index',
      () =>
        parseAranges(this.section('.debug_aranges'), this.keys, (offset, message) => this.damage.record('.debug_aranges', offset, message)),
      new Map<number, number[]>(),
    );
    return this.arangeMap;
  }
}

const SEARCH_PIECE = 8 << 20;

/** Appends to `out` `origin` + each offset below `limit` in `bytes` where `needle` begins (a native search). */
function positions(bytes: Uint8Array, needle: Uint8Array, origin: number, out: number[], limit = bytes.length): number[] {
  if (needle.length === 0 || bytes.length < needle.length) return out;
  const hay = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let i = hay.indexOf(needle); i >= 0 && i < limit; i = hay.indexOf(needle, i + 1)) out.push(origin + i);
  return out;
}

/** `buf` when it holds `length` bytes, else a larger buffer (its contents are not kept). */
function grown(buf: Uint8Array, length: number): Uint8Array {
  return buf.length >= length ? buf : new Uint8Array(Math.max(length, 2 * buf.length));
}

/** References into .debug_info (same unit, made absolute when decoded, or DW_FORM_ref_addr). */
function isInfoRef(form: number): boolean {
  return (
    form === DW_FORM.ref1 ||
    form === DW_FORM.ref2 ||
    form === DW_FORM.ref4 ||
    form === DW_FORM.ref8 ||
    form === DW_FORM.ref_udata ||
    form === DW_FORM.ref_addr
  );
}
