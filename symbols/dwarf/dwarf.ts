// The DWARF sections of one image: section bytes loaded on first use, unit headers, shared
// abbreviation tables, and cross-unit DIE lookup.
import { parseAbbrevTable, type Abbrev } from './abbrev.js';
import { parseAranges } from './aranges.js';
import { DW_UT } from './constants.js';
import type { Die } from './die.js';
import type { Range } from './ranges.js';
import { parseUnitHeaders, Unit } from './unit.js';
import { partitionPoint } from '../search.js';

const EMPTY = new Uint8Array(0);

export class Dwarf {
  private readonly sections = new Map<string, Uint8Array>();
  private readonly abbrevTables = new Map<number, Map<number, Abbrev>>();
  private unitList: Unit[] | undefined;
  private compileUnitList: Unit[] | undefined;
  private readonly unitsBySection = new Map<string, Unit[]>();
  private typeUnits: Map<bigint, Unit> | undefined;
  private arangeMap: Map<number, Range[]> | undefined;

  /** `load` returns a section's bytes (decompressed), or undefined when the image has none. */
  constructor(private readonly load: (name: string) => Uint8Array | undefined) {}

  /** A section's bytes; empty when absent (references into it then fail as out of range). */
  section(name: string): Uint8Array {
    let s = this.sections.get(name);
    if (!s) {
      s = this.load(name) ?? EMPTY;
      this.sections.set(name, s);
    }
    return s;
  }

  /** Every unit of .debug_info and .debug_types, headers only, in offset order per section. */
  get units(): readonly Unit[] {
    if (!this.unitList) {
      const list: Unit[] = [];
      for (const name of ['.debug_info', '.debug_types']) {
        const bytes = this.section(name);
        for (const h of parseUnitHeaders(bytes, name)) list.push(new Unit(this, h, name));
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

  abbrevs(offset: number): Map<number, Abbrev> {
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

  /** The type DIE of the type unit with signature `sig` (DW_FORM_ref_sig8). */
  typeUnitDie(sig: bigint): Die | undefined {
    if (!this.typeUnits) {
      this.typeUnits = new Map();
      for (const u of this.units) if (u.typeSignature !== undefined) this.typeUnits.set(u.typeSignature, u);
    }
    const u = this.typeUnits.get(sig);
    return u && u.typeOffset !== undefined ? u.dieAt(u.typeOffset) : undefined;
  }

  /** .debug_aranges by unit offset (empty map when the section is absent). */
  get aranges(): Map<number, Range[]> {
    this.arangeMap ??= parseAranges(this.section('.debug_aranges'));
    return this.arangeMap;
  }
}
