// All FDEs of an image, indexed by address on first use (their bounds only; an FDE is parsed when a
// lookup lands on it). Both .debug_frame and .eh_frame are
// read and merged the way gdb 13 does (dwarf2/frame.c, dwarf2_build_frame_info): one table sorted
// by start address where, for two FDEs starting at the same address, the .debug_frame one wins;
// FDEs at address 0 that overlap real code are --gc-sections leftovers and are dropped.
import {
  fdeAt,
  fdeBounds,
  type Cie,
  type CfiDamage,
  type Fde,
  type FdeBounds,
  type FrameSection,
  type FrameSectionInput,
} from './entries.js';
import { FormatError } from '../reader.js';
import { partitionPoint } from '../search.js';

export interface CfiSections {
  ehFrame?: FrameSectionInput;
  debugFrame?: FrameSectionInput;
  /** Target address size in bytes (default 8); .debug_frame v4 CIEs carry their own. */
  addressSize?: number;
}

export class CfiTable {
  private index: FdeBounds[] | undefined;
  private readonly parsed = new Map<FdeBounds, Fde>();
  private readonly cies = new Map<FrameSection, Map<number, Cie>>();

  /**
   * With `damaged`, entries that do not parse are reported and left out (a pc they covered then
   * has no FDE, and unwinders fall back to frame pointers); without it, lookups throw CfiError.
   */
  constructor(
    private readonly sections: CfiSections,
    private readonly damaged?: CfiDamage,
  ) {}

  /** The FDE covering `pc`. Throws CfiError (on first use) if a section is malformed and no `damaged` was given. */
  findFde(pc: bigint): Fde | undefined {
    const bounds = this.bounds;
    const b = bounds[partitionPoint(bounds.length, (i) => bounds[i]!.start <= pc) - 1];
    if (!b || pc >= b.end) return undefined;
    if (!this.damaged) return this.fde(b);
    try {
      return this.fde(b);
    } catch (e) {
      if (!(e instanceof FormatError)) throw e;
      this.damaged(`.${b.section.kind}`, b.offset, `call frame entry skipped: ${e.message}`);
      return undefined;
    }
  }

  /** Builds the lookup table now rather than on the first lookup. */
  prepare(): void {
    void this.bounds;
  }

  /** The lookup table, every FDE parsed (for tools and tests): sorted by start, one FDE per start address. */
  get fdes(): readonly Fde[] {
    return this.bounds.map((b) => this.fde(b));
  }

  /** The lookup table: sorted by start, one FDE per start address. */
  private get bounds(): readonly FdeBounds[] {
    this.index ??= this.build();
    return this.index;
  }

  private fde(b: FdeBounds): Fde {
    let fde = this.parsed.get(b);
    if (!fde) {
      let cies = this.cies.get(b.section);
      if (!cies) this.cies.set(b.section, (cies = new Map()));
      fde = fdeAt(b.section, b.offset, cies);
      this.parsed.set(b, fde);
    }
    return fde;
  }

  private build(): FdeBounds[] {
    const addressSize = this.sections.addressSize ?? 8;
    const all: FdeBounds[] = [];
    // .debug_frame first: a stable sort then keeps it ahead of .eh_frame at equal starts.
    for (const [kind, input] of [
      ['debug_frame', this.sections.debugFrame],
      ['eh_frame', this.sections.ehFrame],
    ] as const) {
      if (input?.bytes.length) all.push(...fdeBounds({ ...input, kind, addressSize } satisfies FrameSection, this.damaged));
    }
    all.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    const firstNonZero = all.find((f) => f.start !== 0n);
    const out: FdeBounds[] = [];
    for (const fde of all) {
      if (fde.start === fde.end) continue;
      if (fde.start === 0n && firstNonZero && firstNonZero.start < fde.end) continue;
      if (out.length > 0 && out.at(-1)!.start === fde.start) continue;
      out.push(fde);
    }
    return out;
  }
}
