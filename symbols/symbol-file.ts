// One image's symbols: the ELF file plus its DWARF, answering the debugger's questions. Open reads
// the ELF headers only; DWARF sections, unit ranges and each unit's DIEs/lines/functions are
// read on first use and cached. Queries are synchronous (see elf/file.ts for why).
import type { Die } from './dwarf/die.js';
import { Dwarf } from './dwarf/dwarf.js';
import type { Range } from './dwarf/ranges.js';
import type { Unit } from './dwarf/unit.js';
import { ElfFile, type ElfSymbol, type SymbolHit } from './elf/index.js';
import { callSiteParameters, callSitesOf, type CallSite } from './call-sites.js';
import type { ExprWithContext } from './expr-context.js';
import { functionName, type FunctionDef, type InlinedCall } from './functions.js';
import { rowOf, rowRefAt, stepLineOf, type LineRow, type RowRef, type StepLine } from './lines.js';
import { NameIndex } from './names.js';
import { afterPrologue } from './prologue.js';
import { scopesAt, variableInfo, type FrameScope, type VariableInfo } from './scopes.js';
import { TypeResolver, type Type } from './types.js';
import { UnitIndex } from './unit-index.js';
import { DW_AT, DW_TAG } from './dwarf/constants.js';
import { ROW_STMT } from './dwarf/line.js';

/** One frame of an address's inline chain, as `addr2line -f -i` prints it. */
export interface SourceFrame {
  function?: string;
  /** undefined when no line information covers the address. */
  file?: string;
  /** 0 when unknown. */
  line: number;
  column: number;
  /** Set on the innermost frame only, from the line table. */
  discriminator: number;
  /** This frame's code was inlined into the next (outer) frame. */
  inlined: boolean;
}

export interface FunctionInfo {
  name?: string;
  /** Entry address: DW_AT_entry_pc, else low_pc, else the lowest range start. */
  entryPc: bigint;
  ranges: Range[];
  die: Die;
  /** An inlined_subroutine instance rather than a concrete subprogram. */
  inlined: boolean;
}

/** A place `break FILE:LINE` resolves to. */
export interface LineMatch {
  address: bigint;
  file: string;
  /** The line that has code (the asked-for one, or the next line with code). */
  line: number;
}

export class SymbolFile {
  readonly dwarf: Dwarf;
  /** Type DIE -> Type, cached. */
  readonly types = new TypeResolver();
  private unitIndex: UnitIndex | undefined;
  private nameIndex: NameIndex | undefined;

  private constructor(readonly elf: ElfFile) {
    this.dwarf = new Dwarf((name) => elf.sectionData(name));
  }

  static async open(path: string): Promise<SymbolFile> {
    return new SymbolFile(await ElfFile.open(path));
  }

  get names(): NameIndex {
    this.nameIndex ??= new NameIndex(this.dwarf);
    return this.nameIndex;
  }

  get index(): UnitIndex {
    this.unitIndex ??= new UnitIndex(this.dwarf);
    return this.unitIndex;
  }

  /** The inline chain at addr, innermost first (like `addr2line -f -i`); ELF symbol fallback without DWARF. */
  /**
   * `gdb: true` picks the line as gdb does where several rows share an address: a non-statement
   * row gives way to a statement row at the same address (addr2line takes the last row).
   */
  symbolize(addr: bigint, opts: { gdb?: boolean } = {}): SourceFrame[] {
    const hit = this.locate(addr);
    const row = this.lineAt(addr, opts);
    if (!hit) {
      const sym = this.symbolAt(addr);
      if (!sym && !row) return [];
      return [{ function: sym?.symbol.name, file: row?.file, line: row?.line ?? 0, column: row?.column ?? 0, discriminator: row?.discriminator ?? 0, inlined: false }];
    }
    const { unit, fn } = hit;
    const chain = this.index.functions(unit).inlineChain(fn, addr);
    const frames: SourceFrame[] = [];
    let file = row?.file;
    let line = row?.line ?? 0;
    let column = row?.column ?? 0;
    let discriminator = row?.discriminator ?? 0;
    for (let i = chain.length - 1; i >= -1; i--) {
      const die = i >= 0 ? chain[i]!.die : fn.die;
      frames.push({ function: functionName(die), file, line, column, discriminator, inlined: i >= 0 });
      if (i >= 0) {
        const call = chain[i]!.die;
        file = this.fileName(unit, call.udata(DW_AT.call_file));
        line = call.udata(DW_AT.call_line) ?? 0;
        column = call.udata(DW_AT.call_column) ?? 0;
        discriminator = 0;
      }
    }
    return frames;
  }

  /** What the call returning to `returnAddress` passed, per DWARF register (call-site parameters). */
  callSiteParameters(returnAddress: bigint): Map<number, ExprWithContext> {
    const hit = this.locate(returnAddress - 1n);
    return hit ? callSiteParameters(hit.fn.die, returnAddress) : new Map();
  }

  /**
   * The functions a call returning to `returnAddress` went through by tail calls before reaching
   * the function containing `calleePc` (gdb's tail-call frames), outermost first, each with the
   * address after its tail call. Where several chains are possible only their common ends are
   * given, as gdb does; none when the call site's callee is the function itself or is unknown.
   */
  tailCallsBetween(returnAddress: bigint, calleePc: bigint): Array<{ name: string; returnPc: bigint }> {
    const caller = this.locate(returnAddress - 1n);
    const callee = this.locate(calleePc);
    const first = caller && callSitesOf(caller.fn.die).find((c) => c.returnPc === returnAddress)?.target;
    const goal = callee && functionName(callee.fn.die);
    if (!first || !goal || first === goal) return [];
    const sitesOf = (name: string): CallSite[] => {
      const def = (this.names.functions.get(name) ?? []).find((d) => d.tag === DW_TAG.subprogram && d.unit.ranges(d).length > 0);
      return def ? callSitesOf(def).filter((c) => c.tail && c.target !== undefined) : [];
    };
    const paths: Array<Array<{ name: string; returnPc: bigint }>> = [];
    let budget = 512;
    const walk = (name: string, path: Array<{ name: string; returnPc: bigint }>) => {
      if (--budget < 0 || path.length > 8 || paths.length > 16) return;
      for (const site of sitesOf(name)) {
        const step = [...path, { name, returnPc: site.returnPc }];
        if (site.target === goal) paths.push(step);
        else if (!step.some((p) => p.name === site.target)) walk(site.target!, step);
      }
    };
    walk(first, []);
    if (paths.length <= 1) return paths[0] ?? [];
    const same = (a?: { name: string; returnPc: bigint }, b?: { name: string; returnPc: bigint }) => !!a && !!b && a.name === b.name && a.returnPc === b.returnPc;
    let head = 0;
    while (paths.every((p) => same(p[head], paths[0]![head]))) head++;
    let tail = 0;
    while (head + tail < Math.min(...paths.map((p) => p.length)) && paths.every((p) => same(p[p.length - 1 - tail], paths[0]![paths[0]!.length - 1 - tail]))) tail++;
    return [...paths[0]!.slice(0, head), ...paths[0]!.slice(paths[0]!.length - tail)];
  }

  /** The concrete function containing pc. */
  functionAt(pc: bigint): FunctionInfo | undefined {
    const hit = this.locate(pc);
    return hit && this.functionInfo(hit.fn.die, hit.fn.ranges, false);
  }

  /** The functions at pc, innermost first: inlined instances, then the concrete function. */
  inlineChainAt(pc: bigint): FunctionInfo[] {
    const hit = this.locate(pc);
    if (!hit) return [];
    const chain = this.index.functions(hit.unit).inlineChain(hit.fn, pc);
    return [...chain.reverse().map((c) => this.functionInfo(c.die, c.ranges, true)), this.functionInfo(hit.fn.die, hit.fn.ranges, false)];
  }

  /** The line-table row covering pc. */
  lineAt(pc: bigint, opts: { gdb?: boolean } = {}): LineRow | undefined {
    const found = this.rowRef(pc);
    if (found && opts.gdb) {
      const { seq } = found.ref;
      let j = found.ref.index;
      while (j > 0 && !(seq.flags[j]! & ROW_STMT) && seq.offs[j - 1] === seq.offs[j]) j--;
      if (seq.flags[j]! & ROW_STMT) return rowOf(found.prog, { seq, index: j });
    }
    return found && rowOf(found.prog, found.ref);
  }

  /** pc's line as gdb's stepping reads it, with the extent of that line around pc. */
  stepLineAt(pc: bigint): StepLine | undefined {
    const found = this.rowRef(pc);
    return found && stepLineOf(found.prog, found.ref, pc);
  }

  /**
   * The addresses around pc inside which the same inlined calls are in progress: no inlined
   * call's range begins or ends in it (a step must look again at every such boundary).
   */
  inlineExtentAt(pc: bigint): { start: bigint; end: bigint } | undefined {
    const hit = this.locate(pc);
    const own = hit?.fn.ranges.find((r) => pc >= r.start && pc < r.end);
    if (!hit || !own) return undefined;
    let { start, end } = own;
    const visit = (calls: InlinedCall[]) => {
      for (const c of calls) {
        for (const r of c.ranges) {
          for (const b of [r.start, r.end]) {
            if (b <= pc && b > start) start = b;
            if (b > pc && b < end) end = b;
          }
        }
        visit(c.children);
      }
    };
    visit(hit.fn.inlined);
    return { start, end };
  }

  /** Where gdb's `break NAME` stops: each concrete copy after its prologue, each inlined copy at its entry. */
  functionEntries(name: string): bigint[] {
    const out = new Set<bigint>();
    for (const d of this.names.functions.get(name) ?? []) {
      const ranges = d.unit.ranges(d);
      if (ranges.length === 0) continue;
      const info = this.functionInfo(d, ranges, d.tag === DW_TAG.inlined_subroutine);
      out.add(info.inlined ? info.entryPc : this.bodyStart(d.unit, info));
    }
    if (out.size === 0) for (const s of this.findSymbol(name)) if (s.type === 2) out.add(s.address);
    return [...out].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** The post-prologue address of the concrete function containing pc (where `step` into it stops). */
  functionBodyStart(pc: bigint): bigint | undefined {
    const hit = this.locate(pc);
    return hit && this.bodyStart(hit.unit, this.functionInfo(hit.fn.die, hit.fn.ranges, false));
  }

  /**
   * Where gdb's `break FILE:LINE` goes: the first is_stmt row of the line in each distinct block
   * (inlined copies included), moving to the next line with code when the line has none, and
   * past the prologue when the row lies in it. FILE matches a source path by suffix ("app_demo.c").
   */
  lineToAddresses(file: string, line: number): LineMatch[] {
    type Hit = { address: bigint; file: string; line: number };
    const exact: Hit[] = [];
    let best: Hit[] = [];
    for (const unit of this.dwarf.compileUnits) {
      const prog = unit.lineProgram;
      if (!prog) continue;
      const matching = new Set(prog.files.flatMap((f, i) => (pathMatches(f.path, file) ? [i] : [])));
      if (matching.size === 0) continue;
      for (const seq of prog.sequences) {
        for (let i = 0; i < seq.offs.length; i++) {
          if (!(seq.flags[i]! & ROW_STMT) || !matching.has(seq.files[i]!)) continue;
          const l = seq.lines[i]!;
          const hit = { address: seq.start + BigInt(seq.offs[i]!), file: prog.files[seq.files[i]!]!.path, line: l };
          if (l === line) exact.push(hit);
          else if (l > line && (best.length === 0 || l <= best[0]!.line)) best = l === best[0]?.line ? [...best, hit] : [hit];
        }
      }
    }
    const hits = (exact.length > 0 ? exact : best).sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
    const seenBlocks = new Set<Die | undefined>();
    const out: LineMatch[] = [];
    for (const h of hits) {
      const block = this.innermostBlock(h.address);
      if (seenBlocks.has(block)) continue;
      seenBlocks.add(block);
      let address = h.address;
      const hit = this.locate(address);
      if (hit && block?.tag !== DW_TAG.inlined_subroutine) {
        const info = this.functionInfo(hit.fn.die, hit.fn.ranges, false);
        const body = this.bodyStart(hit.unit, info);
        if (address >= info.entryPc && address < body) address = body;
      }
      if (!out.some((m) => m.address === address)) out.push({ address, file: h.file, line: h.line });
    }
    return out;
  }

  /** Frames in scope at pc, innermost first, with their variables and frame base. */
  scopesAt(pc: bigint): FrameScope[] {
    const hit = this.locate(pc);
    return hit ? scopesAt(hit.unit, hit.fn.die, pc, this.types, (i) => this.fileName(hit.unit, i)) : [];
  }

  /** A global variable by name: the definition (with a location or constant) when there is one. */
  findGlobal(name: string): VariableInfo | undefined {
    const dies = this.names.globals.get(name) ?? [];
    const def = dies.find((d) => d.has(DW_AT.location) || d.has(DW_AT.const_value)) ?? dies[0];
    return def && variableInfo(def.unit, def, undefined, this.types, (i) => this.fileName(def.unit, i));
  }

  /** The unit-level variables of the unit containing pc. */
  globalsOfUnitAt(pc: bigint): VariableInfo[] {
    const unit = this.index.unitsAt(pc)[0];
    if (!unit) return [];
    return unit.root.children.flatMap((d) => {
      const v = d.tag === DW_TAG.variable ? variableInfo(unit, d, undefined, this.types, (i) => this.fileName(unit, i)) : undefined;
      return v ? [v] : [];
    });
  }

  /** A type by C name: `struct thread`, `union value`, `enum color`, a typedef or base type name; a bare tag name finds the struct/union/enum. Complete definitions win over declarations. */
  findType(name: string): Type | undefined {
    const key = name.trim().replace(/\s+/g, ' ');
    const dies = this.names.types.get(key) ?? ['struct ', 'union ', 'enum ', 'class '].flatMap((k) => this.names.types.get(k + key) ?? []);
    const die = dies.find((d) => !d.flag(DW_AT.declaration)) ?? dies[0];
    return die && this.types.resolve(die);
  }

  /** The type of a variable, member or function DIE. */
  typeOf(die: Die): Type {
    return this.types.typeOf(die);
  }

  /** Every source file named in the line tables, sorted. */
  sourceFiles(): string[] {
    const files = new Set<string>();
    for (const unit of this.dwarf.compileUnits) for (const f of unit.lineProgram?.files ?? []) if (f.path) files.add(f.path);
    return [...files].sort();
  }

  /** The ELF symbol containing addr (sized symbols first), with the offset into it. */
  symbolAt(addr: bigint): SymbolHit | undefined {
    return this.elf.symbols.lookup(addr);
  }

  findSymbol(name: string): readonly ElfSymbol[] {
    return this.elf.symbols.find(name);
  }

  close(): void {
    this.elf.close();
  }

  /** The compile unit and concrete function covering pc. */
  locate(pc: bigint): { unit: Unit; fn: FunctionDef } | undefined {
    for (const unit of this.index.unitsAt(pc)) {
      const fn = this.index.functions(unit).find(pc);
      if (fn) return { unit, fn };
    }
    return undefined;
  }

  /** Path of entry `index` of a unit's line-table file list (DW_AT_decl_file / call_file values). */
  fileName(unit: Unit, index: number | undefined): string | undefined {
    if (index === undefined) return undefined;
    return unit.lineProgram?.files[index]?.path;
  }

  private rowRef(pc: bigint): { prog: NonNullable<Unit['lineProgram']>; ref: RowRef } | undefined {
    for (const unit of this.index.unitsAt(pc)) {
      const prog = unit.lineProgram;
      const ref = prog && rowRefAt(prog, pc);
      if (prog && ref && ref.index >= 0) return { prog, ref };
    }
    return undefined;
  }

  private bodyStart(unit: Unit, info: FunctionInfo): bigint {
    const range = info.ranges.find((r) => info.entryPc >= r.start && info.entryPc < r.end) ?? info.ranges[0]!;
    return afterPrologue(unit.lineProgram, range, this.codeAt(range.start, 16));
  }

  /** Up to `len` bytes of the image at a virtual address (from the section holding it). */
  codeAt(addr: bigint, len: number): Uint8Array | undefined {
    const s = this.elf.sectionAt(addr);
    const data = s && this.elf.sectionData(s);
    if (!s || !data) return undefined;
    const off = Number(addr - s.addr);
    return data.subarray(off, Math.min(off + len, data.length));
  }

  /** The innermost block gdb would make at pc: inlined call, lexical block with variables, or function. */
  private innermostBlock(pc: bigint): Die | undefined {
    const hit = this.locate(pc);
    if (!hit) return undefined;
    let block: Die = hit.fn.die;
    for (let node: Die | undefined = block; node; ) {
      node = node.children.find((c) => (c.tag === DW_TAG.lexical_block || c.tag === DW_TAG.inlined_subroutine) && hit.unit.ranges(c).some((r) => pc >= r.start && pc < r.end));
      if (node && (node.tag === DW_TAG.inlined_subroutine || node.children.some((c) => c.tag === DW_TAG.variable))) block = node;
    }
    return block;
  }

  private functionInfo(die: Die, ranges: Range[], inlined: boolean): FunctionInfo {
    const lowest = ranges.reduce((m, r) => (r.start < m ? r.start : m), ranges[0]?.start ?? 0n);
    const entryPc = die.address(DW_AT.entry_pc) ?? die.address(DW_AT.low_pc) ?? lowest;
    return { name: functionName(die), entryPc, ranges, die, inlined };
  }
}

/** gdb's file matching: the same path, or a path ending in "/" + the name given. */
function pathMatches(path: string, spec: string): boolean {
  return path === spec || path.endsWith('/' + spec.replace(/^\.\//, ''));
}
