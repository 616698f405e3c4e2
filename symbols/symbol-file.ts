// One image's symbols: the ELF file plus its DWARF, answering the debugger's questions. Open reads
// the ELF headers only; DWARF sections, unit ranges and each unit's lines/functions are read on
// first use and cached. Symbolizing and breakpoint placement scan a unit's DIEs without building
// them (functions.ts); lookups by name go to the units that refer to the name's string and walk
// those raw (names.ts); the queries that need DIEs (scopes, call sites, a global's or a type's
// definition) decode the DIE tree of the unit they land in. Queries are synchronous (see
// elf/file.ts for why).
import type { Die } from './dwarf/die.js';
import { Dwarf } from './dwarf/dwarf.js';
import type { LineRows } from './dwarf/line.js';
import type { Range } from './dwarf/ranges.js';
import type { Unit } from './dwarf/unit.js';
import { ElfError, ElfFile, type ElfSection, type ElfSymbol, type SymbolHit } from './elf/index.js';
import { SHF, STT } from './elf/types.js';
import { callSiteParameters, callSitesOf, type CallSite } from './call-sites.js';
import { unitContext, type ExprWithContext } from './expr-context.js';
import { NO_FILE, type UnitFunctions } from './functions.js';
import { gdbKept, lineRow, rowRefAt, stepLineOf, type LineRow, type RowRef, type StepLine } from './lines.js';
import { NameIndex } from './names.js';
import { afterPrologue } from './prologue.js';
import { scopesAt, variableInfo, type FrameScope, type VariableInfo } from './scopes.js';
import { TypeResolver, type Type } from './types.js';
import { UnitIndex } from './unit-index.js';
import { DW_AT, DW_TAG } from './dwarf/constants.js';
import { DwarfError } from './dwarf/errors.js';
import { tolerate, type DamageLog } from './damage.js';
import { hasLocationList } from './dwarf/die-scan.js';
import { ROW_STMT } from './dwarf/line.js';

const DW_OP_ADDR = 0x03;

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
  /**
   * Entry address as gdb 13 takes it (BLOCK_ENTRY_PC): low_pc, or the start of the first non-empty
   * range in DW_AT_ranges order; DW_AT_entry_pc is not used (gdb reads it only from version 15).
   */
  entryPc: bigint;
  ranges: Range[];
  die: Die;
  /** An inlined_subroutine instance rather than a concrete subprogram. */
  inlined: boolean;
}

/** A function or variable `info functions` / `info variables` lists. */
export interface SymbolSearchHit {
  name: string;
  /** Declaration file (a line-table path) and line, when the DIE says. */
  file?: string;
  line?: number;
  external: boolean;
  type: Type;
  unit: Unit;
}

/** A place `break FILE:LINE` resolves to. */
export interface LineMatch {
  address: bigint;
  file: string;
  /** The line that has code (the asked-for one, or the next line with code). */
  line: number;
  /** The address is past the function's prologue, not the line's own (its line is another). */
  movedPastPrologue?: true;
}

export class SymbolFile {
  readonly dwarf: Dwarf;
  /** Type DIE -> Type, cached. */
  readonly types = new TypeResolver();
  private unitIndex: UnitIndex | undefined;
  private nameIndex: NameIndex | undefined;

  private constructor(readonly elf: ElfFile) {
    const section = (name: string) => {
      const s = elf.section(name);
      if (!s) throw new ElfError('ELF file', `no section ${name}`);
      return s;
    };
    this.dwarf = new Dwarf(
      {
        section: (name) => elf.sectionData(name),
        size: (name) => {
          const s = elf.section(name);
          return s && elf.sectionSize(s);
        },
        range: (name, offset, length, into) => elf.sectionRange(section(name), offset, length, into),
      },
      codeBase(elf),
      elf.damage,
    );
  }

  static async open(path: string): Promise<SymbolFile> {
    return new SymbolFile(await ElfFile.open(path));
  }

  /** What failed to parse and was skipped, with a listener for what later lookups find. */
  get damage(): DamageLog {
    return this.dwarf.damage;
  }

  get names(): NameIndex {
    this.nameIndex ??= new NameIndex(this.dwarf, this.index);
    return this.nameIndex;
  }

  get index(): UnitIndex {
    this.unitIndex ??= new UnitIndex(this.dwarf);
    return this.unitIndex;
  }

  /**
   * The inline chain at addr, innermost first (like `addr2line -f -i`); ELF symbol fallback
   * without DWARF. `gdb: true` picks the line as gdb does where several rows share an address: a
   * non-statement row gives way to a statement row at the same address (addr2line takes the last
   * row), and falls back on gdb's minimal symbol rather than addr2line's nearest symbol.
   */
  symbolize(addr: bigint, opts: { gdb?: boolean } = {}): SourceFrame[] {
    const frames = tolerate<SourceFrame[] | undefined>(
      this.damage,
      'symbolize',
      () => {
        const pc = this.dwarf.keys.fromBigint(addr);
        const units = this.index.unitsAtKey(pc);
        const hit = this.locateIn(units, pc);
        const row = this.rowIn(units, pc, opts.gdb);
        if (!hit) {
          const sym = opts.gdb ? this.minimalSymbolAt(addr) : this.symbolAt(addr);
          if (!sym && !row) return [];
          return [
            {
              function: sym?.symbol.name,
              file: row?.file,
              line: row?.line ?? 0,
              column: row?.column ?? 0,
              discriminator: row?.discriminator ?? 0,
              inlined: false,
            },
          ];
        }
        const { unit, fns, fn } = hit;
        const chain = fns.inlineChain(fn, pc);
        const body = fns.body(fn);
        const frames: SourceFrame[] = [];
        let file = row?.file;
        let line = row?.line ?? 0;
        let column = row?.column ?? 0;
        let discriminator = row?.discriminator ?? 0;
        for (let i = chain.length - 1; i >= -1; i--) {
          if (i < 0) {
            frames.push({ function: fns.name(fns.offset(fn)), file, line, column, discriminator, inlined: false });
            break;
          }
          const e = chain[i]!;
          frames.push({ function: fns.entryName(body, e), file, line, column, discriminator, inlined: true });
          file = body.callFile(e) === NO_FILE ? undefined : this.fileName(unit, body.callFile(e));
          line = body.callLine(e);
          column = body.callColumn(e);
          discriminator = 0;
        }
        return frames;
      },
      undefined,
    );
    // Debug info that failed to parse here still leaves the ELF symbol (itself guarded).
    return (
      frames ??
      tolerate(
        this.damage,
        'symbolize',
        () => {
          const sym = opts.gdb ? this.minimalSymbolAt(addr) : this.symbolAt(addr);
          return sym ? [{ function: sym.symbol.name, line: 0, column: 0, discriminator: 0, inlined: false }] : [];
        },
        [],
      )
    );
  }

  /** What the call returning to `returnAddress` passed, per DWARF register (call-site parameters). */
  callSiteParameters(returnAddress: bigint): Map<number, ExprWithContext> {
    return tolerate(
      this.damage,
      'callSiteParameters',
      () => {
        const hit = this.locateAddress(returnAddress - 1n);
        return hit ? callSiteParameters(this.dieOf(hit), returnAddress) : new Map();
      },
      new Map(),
    );
  }

  /**
   * The functions a call returning to `returnAddress` went through by tail calls before reaching
   * the function containing `calleePc` (gdb's tail-call frames), outermost first, each with the
   * address after its tail call. Where several chains are possible only their common ends are
   * given, as gdb does; none when the call site's callee is the function itself or is unknown.
   */
  tailCallsBetween(returnAddress: bigint, calleePc: bigint): Array<{ name: string; returnPc: bigint }> {
    return tolerate(
      this.damage,
      'tailCallsBetween',
      () => {
        const caller = this.locateAddress(returnAddress - 1n);
        const callee = this.locateAddress(calleePc);
        const first = caller && callSitesOf(this.dieOf(caller)).find((c) => c.returnPc === returnAddress)?.target;
        const goal = callee && callee.fns.name(callee.fns.offset(callee.fn));
        if (!first || !goal || first === goal) return [];
        const sitesOf = (name: string): CallSite[] => {
          const def = this.names.functions(name).find((f) => !f.inlined);
          return def ? callSitesOf(dieAt(def.unit, def.offset)).filter((c) => c.tail && c.target !== undefined) : [];
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
        const same = (a?: { name: string; returnPc: bigint }, b?: { name: string; returnPc: bigint }) =>
          !!a && !!b && a.name === b.name && a.returnPc === b.returnPc;
        let head = 0;
        while (paths.every((p) => same(p[head], paths[0]![head]))) head++;
        let tail = 0;
        while (
          head + tail < Math.min(...paths.map((p) => p.length)) &&
          paths.every((p) => same(p[p.length - 1 - tail], paths[0]![paths[0]!.length - 1 - tail]))
        )
          tail++;
        return [...paths[0]!.slice(0, head), ...paths[0]!.slice(paths[0]!.length - tail)];
      },
      [],
    );
  }

  /** The concrete function containing pc. */
  functionAt(pc: bigint): FunctionInfo | undefined {
    return tolerate(
      this.damage,
      'functionAt',
      () => {
        const hit = this.locateAddress(pc);
        return hit && this.functionInfo(this.dieOf(hit), hit.fns.rangesOf(hit.fn), false);
      },
      undefined,
    );
  }

  /** DW_AT_language of the unit whose function holds pc (or whose ranges do). */
  languageAt(pc: bigint): number | undefined {
    return tolerate(
      this.damage,
      'languageAt',
      () => {
        return (this.locateAddress(pc)?.unit ?? this.index.unitsAt(pc)[0])?.language;
      },
      undefined,
    );
  }

  /** The compilation directory of the unit whose function holds pc, from the unit's own DIE alone. */
  compDirAt(pc: bigint): string | undefined {
    return tolerate(
      this.damage,
      'compDirAt',
      () => {
        return this.locateAddress(pc)?.unit.compDir;
      },
      undefined,
    );
  }

  /** The functions at pc, innermost first: inlined instances, then the concrete function. */
  inlineChainAt(pc: bigint): FunctionInfo[] {
    return tolerate(
      this.damage,
      'inlineChainAt',
      () => {
        const key = this.dwarf.keys.fromBigint(pc);
        const hit = this.locate(key);
        if (!hit) return [];
        const { unit, fns, fn } = hit;
        const body = fns.body(fn);
        const inlined = fns
          .inlineChain(fn, key)
          .reverse()
          .map((e) => this.functionInfo(dieAt(unit, body.offset(e)), fns.bodyRanges(body, e), true));
        return [...inlined, this.functionInfo(this.dieOf(hit), fns.rangesOf(fn), false)];
      },
      [],
    );
  }

  /** The line-table row covering pc. */
  lineAt(pc: bigint, opts: { gdb?: boolean } = {}): LineRow | undefined {
    return tolerate(
      this.damage,
      'lineAt',
      () => {
        const key = this.dwarf.keys.fromBigint(pc);
        return this.rowIn(this.index.unitsAtKey(key), key, opts.gdb);
      },
      undefined,
    );
  }

  /** pc's line as gdb's stepping reads it, with the extent of that line around pc. */
  stepLineAt(pc: bigint): StepLine | undefined {
    return tolerate(
      this.damage,
      'stepLineAt',
      () => {
        const found = this.rowRef(pc);
        return found && stepLineOf(found.prog, found.ref, pc);
      },
      undefined,
    );
  }

  /**
   * The addresses around pc inside which the same inlined calls are in progress: no inlined
   * call's range begins or ends in it (a step must look again at every such boundary).
   */
  inlineExtentAt(pc: bigint): { start: bigint; end: bigint } | undefined {
    return tolerate(
      this.damage,
      'inlineExtentAt',
      () => {
        const key = this.dwarf.keys.fromBigint(pc);
        const hit = this.locate(key);
        const own = hit?.fns.rangesOf(hit.fn).find((r) => pc >= r.start && pc < r.end);
        if (!hit || !own) return undefined;
        const keys = this.dwarf.keys;
        let start = keys.fromBigint(own.start);
        let end = keys.fromBigint(own.end);
        const { body, first, last } = hit.fns.subtree(hit.fn);
        // Every inlined call below the function (not those of functions nested in it).
        for (let e = first; e < last; e = body.inlined(e) ? e + 1 : body.subtreeEnd(e)) {
          if (!body.inlined(e)) continue;
          for (let r = body.rangeFirst(e); r < body.rangeLast(e); r++) {
            const b = body.ranges[r]!;
            if (b <= key && b > start) start = b;
            if (b > key && b < end) end = b;
          }
        }
        return { start: keys.toBigint(start), end: keys.toBigint(end) };
      },
      undefined,
    );
  }

  /**
   * Where gdb's `break NAME` stops. Where gdb trusts the unit's locations (gcc with location lists,
   * as any -O2 build: its skip_prologue_sal then keeps the entry) each copy at its entry: `hbreak
   * __schedule` on vmlinux stops before `push %rbp`. Elsewhere each concrete copy after its
   * prologue, and an inlined copy entered inside the containing function's prologue at its end.
   */
  functionEntries(name: string): bigint[] {
    return tolerate(
      this.damage,
      'functionEntries',
      () => {
        const out = new Set<bigint>();
        for (const f of this.names.functions(name)) {
          const entryPc = f.ranges[0]?.start;
          if (entryPc === undefined) continue;
          if (!f.inlined) out.add(locationsValid(f.unit) ? entryPc : this.bodyStart(f.unit, f.ranges, entryPc));
          else {
            const body = locationsValid(f.unit) ? undefined : this.functionBodyStart(entryPc);
            out.add(body !== undefined && body > entryPc ? body : entryPc);
          }
        }
        if (out.size === 0) for (const s of this.findSymbol(name)) if (s.type === 2) out.add(s.address);
        return [...out].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      },
      [],
    );
  }

  /**
   * gdb's `info functions REGEX`: each function with a concrete (not only inlined) copy whose name
   * matches, with where it is declared, whether it is external, its type and its unit.
   */
  searchFunctions(re: RegExp): SymbolSearchHit[] {
    return tolerate(
      this.damage,
      'searchFunctions',
      () => {
        const out: SymbolSearchHit[] = [];
        for (const name of this.names.functionNames()) {
          if (!re.test(name)) continue;
          for (const f of this.names.functions(name)) {
            if (f.inlined || f.ranges.length === 0) continue;
            const d = dieAt(f.unit, f.offset);
            // The prototype is on the DIE a concrete copy or definition refers back to, if any.
            const declared = d.followOrigin((x) => (x.has(DW_AT.abstract_origin) || x.has(DW_AT.specification) ? undefined : x)) ?? d;
            out.push(this.searchHit(name, f.unit, d, this.types.resolve(declared)));
          }
        }
        return out;
      },
      [],
    );
  }

  /** gdb's `info variables REGEX`: the unit-level variables whose name matches (a definition each). */
  searchVariables(re: RegExp): SymbolSearchHit[] {
    return tolerate(
      this.damage,
      'searchVariables',
      () => {
        const out: SymbolSearchHit[] = [];
        for (const name of this.names.globalNames()) {
          if (!re.test(name)) continue;
          const ref = this.names.global(name);
          const v = this.findGlobal(name);
          // Defined variables only: an `extern` declaration with no definition in the debug info is not one.
          if (ref && v && !dieAt(ref.unit, ref.offset).flag(DW_AT.declaration))
            out.push(this.searchHit(name, ref.unit, dieAt(ref.unit, ref.offset), v.type));
        }
        return out;
      },
      [],
    );
  }

  private searchHit(name: string, unit: Unit, d: Die, type: Type): SymbolSearchHit {
    const file = this.fileName(
      unit,
      d.followOrigin((x) => x.udata(DW_AT.decl_file)),
    );
    const line = d.followOrigin((x) => x.udata(DW_AT.decl_line));
    return {
      name,
      ...(file !== undefined && { file }),
      ...(line !== undefined && { line }),
      external: d.followOrigin((x) => (x.flag(DW_AT.external) ? true : undefined)) ?? false,
      type,
      unit,
    };
  }

  /** A function as a C expression names it: its concrete definition's address and type (`{int (int)} 0x...`). */
  findFunction(name: string): { address: bigint; type: Type } | undefined {
    return tolerate(
      this.damage,
      'findFunction',
      () => {
        const def = this.names.concreteFunction(name);
        if (!def || def.ranges.length === 0) return undefined;
        const d = dieAt(def.unit, def.offset);
        return { address: this.functionInfo(d, def.ranges, false).entryPc, type: this.types.resolve(d) };
      },
      undefined,
    );
  }

  /** The post-prologue address of the concrete function containing pc (where `step` into it stops). */
  functionBodyStart(pc: bigint): bigint | undefined {
    return tolerate(
      this.damage,
      'functionBodyStart',
      () => {
        const hit = this.locateAddress(pc);
        const ranges = hit?.fns.rangesOf(hit.fn);
        return hit && ranges && ranges.length > 0 ? this.bodyStart(hit.unit, ranges, ranges[0]!.start) : undefined;
      },
      undefined,
    );
  }

  /**
   * Where gdb's `break FILE:LINE` goes, among the rows gdb keeps (gdbKept): the first is_stmt row
   * of the line in each distinct block (inlined copies included), moving to the next line with
   * code when the line has none, and past the prologue when the row lies in it. FILE matches a
   * source path by suffix ("app_demo.c").
   */
  lineToAddresses(file: string, line: number): LineMatch[] {
    return tolerate(
      this.damage,
      'lineToAddresses',
      () => {
        type Hit = { address: bigint; file: string; line: number };
        const exact: Hit[] = [];
        let best: Hit[] = [];
        for (const unit of this.dwarf.compileUnits) {
          const table = unit.lineProgram;
          if (!table) continue;
          const matching = new Set<number>();
          for (let i = 0; i < table.fileCount; i++) if (pathMatches(table.filePath(i) ?? '', file)) matching.add(i);
          if (matching.size === 0) continue;
          const prog = this.dwarf.guardUnit(unit, 'line rows', () => table.rows(), undefined);
          if (!prog) continue;
          const kept = gdbKept(prog);
          for (let s = 0; s < prog.sequenceCount; s++) {
            for (let i = prog.seqFirst[s]!; i < prog.seqLast[s]!; i++) {
              if (!kept[i] || !(prog.flags[i]! & ROW_STMT) || !matching.has(prog.file[i]!)) continue;
              const l = prog.line[i]!;
              const hit = { address: prog.address(s, i), file: prog.filePath(prog.file[i]!)!, line: l };
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
          const hit = this.locateAddress(address);
          if (hit && block?.tag !== DW_TAG.inlined_subroutine) {
            const ranges = hit.fns.rangesOf(hit.fn);
            const entryPc = ranges[0]?.start;
            const body = entryPc === undefined ? undefined : this.bodyStart(hit.unit, ranges, entryPc);
            if (entryPc !== undefined && body !== undefined && address >= entryPc && address < body) address = body;
          }
          if (!out.some((m) => m.address === address))
            out.push({ address, file: h.file, line: h.line, ...(address !== h.address && { movedPastPrologue: true as const }) });
        }
        return out;
      },
      [],
    );
  }

  /** Frames in scope at pc, innermost first, with their variables and frame base. */
  scopesAt(pc: bigint): FrameScope[] {
    return tolerate(
      this.damage,
      'scopesAt',
      () => {
        const hit = this.locateAddress(pc);
        return hit ? scopesAt(hit.unit, this.dieOf(hit), pc, this.types, (i) => this.fileName(hit.unit, i)) : [];
      },
      [],
    );
  }

  /**
   * A global variable by name: the definition (with a location or constant) when there is one.
   * A declaration with no definition in the DWARF (`extern` in C; defined in assembly or by the
   * linker script, as vmlinux's `jiffies` and `__initcall_start`) is at its ELF data symbol's
   * address, as gdb resolves it.
   */
  findGlobal(name: string): VariableInfo | undefined {
    return tolerate(
      this.damage,
      'findGlobal',
      () => {
        const ref = this.names.global(name);
        const v = ref && variableInfo(ref.unit, dieAt(ref.unit, ref.offset), undefined, this.types, (i) => this.fileName(ref.unit, i));
        if (!v || v.location.kind !== 'optimized-out' || v.constValue !== undefined || !v.die.flag(DW_AT.declaration)) return v;
        const sym = this.findSymbol(name).find((s) => s.type === STT.OBJECT || s.type === STT.NOTYPE);
        if (!sym) return v;
        const expr = new Uint8Array(9);
        expr[0] = DW_OP_ADDR;
        new DataView(expr.buffer).setBigUint64(1, sym.address, true);
        return { ...v, location: { kind: 'expr', expr: { expr, unit: unitContext(ref.unit) } } };
      },
      undefined,
    );
  }

  /** An enumerator of a top-level enum by name: its enum type and value (`p UKPLAT_CRASH`). */
  findEnumerator(name: string): { type: Type; value: bigint } | undefined {
    return tolerate(
      this.damage,
      'findEnumerator',
      () => {
        const ref = this.names.enumerator(name);
        const type = ref && this.types.resolve(dieAt(ref.unit, ref.offset));
        const e = type?.kind === 'enum' ? type.enumerators.find((x) => x.name === name) : undefined;
        return e && type && { type, value: e.value };
      },
      undefined,
    );
  }

  /** The unit-level variables of the unit containing pc. */
  globalsOfUnitAt(pc: bigint): VariableInfo[] {
    return tolerate(
      this.damage,
      'globalsOfUnitAt',
      () => {
        const unit = this.index.unitsAtKey(this.dwarf.keys.fromBigint(pc))[0];
        if (!unit) return [];
        return unit.root.children.flatMap((d) => {
          const v = d.tag === DW_TAG.variable ? variableInfo(unit, d, undefined, this.types, (i) => this.fileName(unit, i)) : undefined;
          return v ? [v] : [];
        });
      },
      [],
    );
  }

  /** A type by C name: `struct thread`, `union value`, `enum color`, a typedef or base type name; a bare tag name finds the struct/union/enum. Complete definitions win over declarations. */
  findType(name: string): Type | undefined {
    return tolerate(
      this.damage,
      'findType',
      () => {
        const ref = this.names.type(name.trim().replace(/\s+/g, ' '));
        return ref && this.types.resolve(dieAt(ref.unit, ref.offset));
      },
      undefined,
    );
  }

  /** The type of a variable, member or function DIE. */
  typeOf(die: Die): Type {
    return this.types.typeOf(die);
  }

  /** Every source file named in the line tables, sorted. */
  sourceFiles(): string[] {
    return tolerate(
      this.damage,
      'sourceFiles',
      () => {
        const files = new Set<string>();
        for (const unit of this.dwarf.compileUnits) {
          const prog = unit.lineProgram;
          for (let i = 0; prog && i < prog.fileCount; i++) {
            const path = prog.filePath(i);
            if (path) files.add(path);
          }
        }
        return [...files].sort();
      },
      [],
    );
  }

  /** The ELF symbol containing addr (sized symbols first), with the offset into it: addr2line's rule. */
  symbolAt(addr: bigint): SymbolHit | undefined {
    return this.elf.symbols.lookup(addr);
  }

  /**
   * gdb's minimal symbol for addr (info symbol): one of the section holding addr, so none for an
   * address outside every section and never an absolute symbol (see SymbolTable.lookupInSection).
   */
  minimalSymbolAt(addr: bigint): (SymbolHit & { section: ElfSection }) | undefined {
    const section = this.elf.symbolSectionAt(addr);
    const hit = section && this.elf.symbols.lookupInSection(addr, section.index, section.addr);
    return hit && { ...hit, section: section! };
  }

  /** The symbol gdb names an address by (`<sym+off>` after a pointer or in x/i): its minimal symbol, an unsized one only in code. */
  addressSymbol(addr: bigint): SymbolHit | undefined {
    const hit = this.minimalSymbolAt(addr);
    return hit && (hit.symbol.size !== 0n || (hit.section.flags & SHF.EXECINSTR) !== 0n) ? hit : undefined;
  }

  findSymbol(name: string): readonly ElfSymbol[] {
    return this.elf.symbols.find(name);
  }

  close(): void {
    this.nameIndex?.stopPreparing();
    this.elf.close();
  }

  /** The compile unit and concrete function (an entry of its UnitFunctions) covering the address with key `pc`. */
  private locate(pc: number): Hit | undefined {
    return this.locateIn(this.index.unitsAtKey(pc), pc);
  }

  private locateIn(units: readonly Unit[], pc: number): Hit | undefined {
    for (const unit of units) {
      const fns = this.index.functions(unit);
      const fn = this.dwarf.guardUnit(unit, 'functions', () => fns.find(pc), -1);
      if (fn >= 0) return { unit, fns, fn };
    }
    return undefined;
  }

  /** The row covering the address with key `pc` in the first of `units` that has one. */
  private rowIn(units: readonly Unit[], pc: number, gdb = false): LineRow | undefined {
    for (const unit of units) {
      const prog = unit.lineProgram;
      const row = prog && this.dwarf.guardUnit(unit, 'line rows', () => prog.rowAt(pc, gdb), undefined);
      if (prog && row) return lineRow(prog, row);
    }
    return undefined;
  }

  private locateAddress(pc: bigint): Hit | undefined {
    return this.locate(this.dwarf.keys.fromBigint(pc));
  }

  /** The DIE of a located function, from its unit's DIE tree (decoded on first use). */
  private dieOf(hit: Hit): Die {
    return dieAt(hit.unit, hit.fns.offset(hit.fn));
  }

  /** Path of entry `index` of a unit's line-table file list (DW_AT_decl_file / call_file values). */
  fileName(unit: Unit, index: number | undefined): string | undefined {
    if (index === undefined) return undefined;
    return unit.lineProgram?.filePath(index);
  }

  private rowRef(pc: bigint): { prog: LineRows; ref: RowRef } | undefined {
    const key = this.dwarf.keys.fromBigint(pc);
    for (const unit of this.index.unitsAtKey(key)) {
      const prog = this.dwarf.guardUnit(unit, 'line rows', () => unit.lineProgram?.rows(), undefined);
      const ref = prog && rowRefAt(prog, key);
      if (prog && ref) return { prog, ref };
    }
    return undefined;
  }

  /** Where a function whose code is `ranges`, entered at `entryPc`, leaves its prologue. */
  private bodyStart(unit: Unit, ranges: Range[], entryPc: bigint): bigint {
    const range = ranges.find((r) => entryPc >= r.start && entryPc < r.end) ?? ranges[0]!;
    return afterPrologue(unit.lineProgram?.rows(), range, this.codeAt(range.start, 16));
  }

  /** Up to `len` bytes of the image at a virtual address (from the section holding it, read just there). */
  codeAt(addr: bigint, len: number): Uint8Array | undefined {
    const s = this.elf.sectionAt(addr);
    if (!s) return undefined;
    const off = Number(addr - s.addr);
    return this.elf.sectionRange(s, off, Math.min(len, this.elf.sectionSize(s) - off));
  }

  /** The innermost block gdb would make at pc: inlined call, lexical block with variables, or function. */
  private innermostBlock(pc: bigint): Die | undefined {
    const hit = this.locateAddress(pc);
    if (!hit) return undefined;
    let block: Die = this.dieOf(hit);
    for (let node: Die | undefined = block; node;) {
      node = node.children.find(
        (c) =>
          (c.tag === DW_TAG.lexical_block || c.tag === DW_TAG.inlined_subroutine) &&
          hit.unit.ranges(c).some((r) => pc >= r.start && pc < r.end),
      );
      if (node && (node.tag === DW_TAG.inlined_subroutine || node.children.some((c) => c.tag === DW_TAG.variable))) block = node;
    }
    return block;
  }

  private functionInfo(die: Die, ranges: Range[], inlined: boolean): FunctionInfo {
    return { name: die.functionName, entryPc: ranges[0]?.start ?? die.address(DW_AT.low_pc) ?? 0n, ranges, die, inlined };
  }
}

interface Hit {
  unit: Unit;
  fns: UnitFunctions;
  fn: number;
}

/**
 * gdb's "locations valid" for a unit: made by gcc and using location lists. There gdb places a
 * breakpoint on an inlined function at its entry as is (find_function_start_sal).
 */
function locationsValid(unit: Unit): boolean {
  let v = validLocations.get(unit);
  if (v === undefined) {
    v = /^GNU (?!AS)/.test(unit.producer ?? '') && hasLocationList(unit);
    validLocations.set(unit, v);
  }
  return v;
}

const validLocations = new WeakMap<Unit, boolean>();

function dieAt(unit: Unit, offset: number): Die {
  const die = unit.dieAt(offset);
  if (!die) throw new DwarfError(unit.section, offset, 'no DIE where the unit scan found a function');
  return die;
}

/** The base of address keys: the lowest address of code in the image (0 when it has none). */
function codeBase(elf: ElfFile): bigint {
  let base: bigint | undefined;
  for (const s of elf.sections) {
    if ((s.flags & SHF.ALLOC) !== 0n && (s.flags & SHF.EXECINSTR) !== 0n && s.size > 0 && (base === undefined || s.addr < base))
      base = s.addr;
  }
  return base ?? 0n;
}

/** gdb's file matching: the same path, or a path ending in "/" + the name given. */
function pathMatches(path: string, spec: string): boolean {
  return path === spec || path.endsWith('/' + spec.replace(/^\.\//, ''));
}
