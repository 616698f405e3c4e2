// All FDEs of an image, indexed by address on first use. Both .debug_frame and .eh_frame are
// read and merged the way gdb 13 does (dwarf2/frame.c, dwarf2_build_frame_info): one table sorted
// by start address where, for two FDEs starting at the same address, the .debug_frame one wins;
// FDEs at address 0 that overlap real code are --gc-sections leftovers and are dropped.
import { parseFrameSection, type Fde, type FrameSection, type FrameSectionInput } from './entries.js';
import { partitionPoint } from '../search.js';

export interface CfiSections {
  ehFrame?: FrameSectionInput;
  debugFrame?: FrameSectionInput;
  /** Target address size in bytes (default 8); .debug_frame v4 CIEs carry their own. */
  addressSize?: number;
}

export class CfiTable {
  private index: Fde[] | undefined;

  constructor(private readonly sections: CfiSections) {}

  /** The FDE covering `pc`. Throws CfiError (on first use) if a section is malformed. */
  findFde(pc: bigint): Fde | undefined {
    const fdes = this.fdes;
    const fde = fdes[partitionPoint(fdes.length, (i) => fdes[i]!.start <= pc) - 1];
    return fde && pc < fde.end ? fde : undefined;
  }

  /** The lookup table: sorted by start, one FDE per start address. */
  get fdes(): readonly Fde[] {
    this.index ??= this.build();
    return this.index;
  }

  private build(): Fde[] {
    const addressSize = this.sections.addressSize ?? 8;
    const all: Fde[] = [];
    // .debug_frame first: a stable sort then keeps it ahead of .eh_frame at equal starts.
    for (const [kind, input] of [['debug_frame', this.sections.debugFrame], ['eh_frame', this.sections.ehFrame]] as const) {
      if (input?.bytes.length) all.push(...parseFrameSection({ ...input, kind, addressSize } satisfies FrameSection).fdes);
    }
    all.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    const firstNonZero = all.find((f) => f.start !== 0n);
    const out: Fde[] = [];
    for (const fde of all) {
      if (fde.start === fde.end) continue;
      if (fde.start === 0n && firstNonZero && firstNonZero.start < fde.end) continue;
      if (out.length > 0 && out.at(-1)!.start === fde.start) continue;
      out.push(fde);
    }
    return out;
  }
}
