// .debug_names (DWARF 5 §6.1.1): name -> DIEs, so a lookup by name reads only the units it lists.
// A linker that does not merge the compilers' indexes (GNU ld, lld before 18) concatenates them:
// the section is then a sequence of name indexes, each covering its own compile units, and a
// lookup asks each one (a hash probe, a string compare only on a hash match).
import { ByteReader } from '../reader.js';
import { DW_FORM } from './constants.js';
import { DwarfError } from './errors.js';

const S = '.debug_names';

const enum DW_IDX {
  compile_unit = 1,
  type_unit = 2,
  die_offset = 3,
  parent = 4,
  type_hash = 5,
}

/** One index entry: the DIE (absolute .debug_info offset) and its tag. */
interface NameEntry {
  tag: number;
  dieOffset: number;
  /** .debug_info offset of the unit holding the DIE. */
  unitOffset: number;
}

interface Abbrev {
  tag: number;
  attrs: Array<{ idx: number; form: number }>;
}

/** One name index of the section: its header, tables located but read on demand. */
interface NameTable {
  at: number;
  offsetSize: 4 | 8;
  units: number[];
  bucketCount: number;
  nameCount: number;
  buckets: number;
  hashes: number;
  stringOffsets: number;
  entryOffsets: number;
  abbrevs: Map<number, Abbrev>;
  pool: number;
  end: number;
}

/** The hash .debug_names uses: DJB over the name case-folded (ASCII: lower case). */
export function namesHash(name: string): number {
  let h = 5381;
  for (let i = 0; i < name.length; i++) {
    let c = name.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    h = (Math.imul(h, 33) + c) >>> 0;
  }
  return h;
}

export class DebugNames {
  private readonly tables: NameTable[] = [];
  private readonly r: ByteReader;

  /** `bytes` is the whole section; `string` reads .debug_str at an offset. */
  constructor(
    bytes: Uint8Array,
    private readonly string: (offset: number) => string,
  ) {
    this.r = new ByteReader(bytes, S);
    while (this.r.remaining > 0) this.tables.push(this.header());
    this.units = new Set(this.tables.flatMap((t) => t.units));
  }

  /** The compile units some index lists: lookups answer for exactly these. */
  readonly units: ReadonlySet<number>;

  /** The DIEs indexed under `name`, in all indexes. */
  lookup(name: string): NameEntry[] {
    const hash = namesHash(name);
    const out: NameEntry[] = [];
    for (const t of this.tables) {
      if (t.bucketCount === 0) {
        for (let i = 0; i < t.nameCount; i++) if (this.nameAt(t, i) === name) out.push(...this.entries(t, i));
        continue;
      }
      const bucket = hash % t.bucketCount;
      const first = this.u32(t.buckets + 4 * bucket);
      if (first === 0) continue;
      for (let i = first - 1; i < t.nameCount; i++) {
        const h = this.u32(t.hashes + 4 * i);
        if (h % t.bucketCount !== bucket) break;
        if (h === hash && this.nameAt(t, i) === name) out.push(...this.entries(t, i));
      }
    }
    return out;
  }

  /** Every name with its entries (for checking against another reader). */
  *all(): Generator<[string, NameEntry[]]> {
    for (const t of this.tables) for (let i = 0; i < t.nameCount; i++) yield [this.nameAt(t, i), this.entries(t, i)];
  }

  private header(): NameTable {
    const r = this.r;
    const at = r.pos;
    const { length, offsetSize } = r.initialLength();
    if (length > r.remaining) throw new DwarfError(S, at, `name index length 0x${length.toString(16)} runs past the end of the section`);
    const end = r.pos + length;
    const version = r.u16();
    if (version !== 5) throw new DwarfError(S, at, `unsupported name index version ${version}`);
    r.skip(2);
    const cuCount = r.u32();
    const localTuCount = r.u32();
    const foreignTuCount = r.u32();
    const bucketCount = r.u32();
    const nameCount = r.u32();
    const abbrevSize = r.u32();
    const augmentation = r.u32();
    r.skip((augmentation + 3) & ~3);
    // Every table's size against what the index holds, before anything is read or allocated.
    const tables =
      (cuCount + localTuCount) * offsetSize +
      foreignTuCount * 8 +
      bucketCount * 4 +
      (bucketCount ? nameCount * 4 : 0) +
      2 * nameCount * offsetSize +
      abbrevSize;
    if (tables > end - r.pos)
      throw new DwarfError(S, at, `name index tables (0x${tables.toString(16)} bytes) do not fit its length 0x${length.toString(16)}`);
    const units = Array.from({ length: cuCount }, () => r.offset(offsetSize));
    r.skip(localTuCount * offsetSize + foreignTuCount * 8);
    const buckets = r.pos;
    const hashes = buckets + bucketCount * 4;
    const stringOffsets = hashes + (bucketCount ? nameCount * 4 : 0);
    const entryOffsets = stringOffsets + nameCount * offsetSize;
    r.seek(entryOffsets + nameCount * offsetSize);
    const abbrevs = this.abbrevs(r.sub(abbrevSize, S));
    const pool = r.pos;
    r.seek(end);
    return { at, offsetSize, units, bucketCount, nameCount, buckets, hashes, stringOffsets, entryOffsets, abbrevs, pool, end };
  }

  private abbrevs(r: ByteReader): Map<number, Abbrev> {
    const out = new Map<number, Abbrev>();
    for (let code = r.uleb128(); code !== 0; code = r.uleb128()) {
      const tag = r.uleb128();
      const attrs: Abbrev['attrs'] = [];
      for (let idx = r.uleb128(), form = r.uleb128(); idx !== 0 || form !== 0; idx = r.uleb128(), form = r.uleb128())
        attrs.push({ idx, form });
      out.set(code, { tag, attrs });
    }
    return out;
  }

  private u32(pos: number): number {
    this.r.seek(pos);
    return this.r.u32();
  }

  private nameAt(t: NameTable, i: number): string {
    this.r.seek(t.stringOffsets + i * t.offsetSize);
    return this.string(this.r.offset(t.offsetSize));
  }

  /** The entries of name i: its series in the entry pool, up to the 0 that ends it. */
  private entries(t: NameTable, i: number): NameEntry[] {
    const r = this.r;
    r.seek(t.entryOffsets + i * t.offsetSize);
    const start = t.pool + r.offset(t.offsetSize);
    if (start >= t.end) throw new DwarfError(S, t.at, `entry offset of name ${i} lies outside its index`);
    r.seek(start);
    const out: NameEntry[] = [];
    for (let code = r.uleb128(); code !== 0; code = r.uleb128()) {
      if (r.pos > t.end) throw new DwarfError(S, start, `entries of name ${i} run past the end of their index`);
      const abbrev = t.abbrevs.get(code);
      if (!abbrev) throw new DwarfError(S, r.pos, `unknown name abbreviation ${code}`);
      let unit = t.units.length === 1 ? 0 : -1;
      let die = -1;
      for (const { idx, form } of abbrev.attrs) {
        const v = this.value(form, t.offsetSize);
        if (idx === DW_IDX.compile_unit) unit = v;
        else if (idx === DW_IDX.die_offset) die = v;
      }
      // Entries of type units (no compile unit to place them in) are not what lookups answer with.
      if (die < 0 || unit < 0 || unit >= t.units.length) continue;
      out.push({ tag: abbrev.tag, dieOffset: t.units[unit]! + die, unitOffset: t.units[unit]! });
    }
    return out;
  }

  private value(form: number, offsetSize: 4 | 8): number {
    const r = this.r;
    switch (form) {
      case DW_FORM.flag_present:
        return 1;
      case DW_FORM.data1:
      case DW_FORM.ref1:
      case DW_FORM.flag:
        return r.u8();
      case DW_FORM.data2:
      case DW_FORM.ref2:
        return r.u16();
      case DW_FORM.data4:
      case DW_FORM.ref4:
        return r.u32();
      case DW_FORM.data8:
      case DW_FORM.ref8:
      case DW_FORM.ref_sig8: {
        // Type hashes use all 64 bits; only offsets and unit numbers are kept, and those fit.
        const v = r.u64();
        return v > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(v);
      }
      case DW_FORM.udata:
      case DW_FORM.ref_udata:
        return r.uleb128();
      case DW_FORM.sec_offset:
        return r.offset(offsetSize);
      default:
        throw new DwarfError(S, r.pos, `unsupported form 0x${form.toString(16)} in a name index entry`);
    }
  }
}
