// The image being debugged: its symbols and call frame information, plus source text for listings.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { CfiTable } from '../../symbols/cfi/index.js';
import { PT } from '../../symbols/elf/index.js';
import { SymbolFile, type ElfSection, type FunctionInfo } from '../../symbols/index.js';
import { registersWritten } from './disasm.js';
import { SourcePaths } from './source-paths.js';

export class Program {
  private cfiTable: CfiTable | undefined;
  private readonly sources = new Map<string, { path: string; lines: string[] } | null>();
  private readonly written = new Map<bigint, Promise<Set<string> | undefined>>();
  /** Where the sources the debug info names are here (substitute-path, directory, sourceMap). */
  readonly sourcePaths = new SourcePaths();

  private constructor(readonly symbols: SymbolFile) {}

  /** Call frame information, its sections read on first use (a stop, or the guest's run before it). */
  get cfi(): CfiTable {
    if (!this.cfiTable) {
      const elf = this.symbols.elf;
      const input = (s: ElfSection | undefined) => {
        const bytes = s && elf.sectionData(s);
        return s && bytes ? { bytes, address: s.addr } : undefined;
      };
      const ehFrame = input(elf.section('.eh_frame'));
      const debugFrame = input(elf.section('.debug_frame'));
      // A damaged entry is named once and left out: unwinding falls back to frame pointers there.
      this.cfiTable = new CfiTable({ ...(ehFrame && { ehFrame }), ...(debugFrame && { debugFrame }) }, (section, offset, message) =>
        this.symbols.damage.record(section, offset, message),
      );
    }
    return this.cfiTable;
  }

  static async load(path: string): Promise<Program> {
    return new Program(await SymbolFile.open(path));
  }

  /**
   * Builds what showing a stop needs from the image and costs most the first time (vmlinux: the
   * CFI lookup table, the ELF address index, ~200 ms): called while the guest runs. A malformed
   * section is left to report its error where it is used. Then, in slices that let a stop be
   * handled in between, the index of global variable and type names the first `print` needs.
   */
  prepareForStops(): void {
    try {
      this.cfi.prepare();
      this.symbols.elf.symbols.prepare();
    } catch {
      // Reported by the lookup that needs it.
    }
    this.symbols.names.prepare().catch(() => undefined);
  }

  get path(): string {
    return this.symbols.elf.path;
  }

  /** The virtual addresses the image's loadable segments cover (undefined: it has none). */
  get loadedRange(): { start: bigint; end: bigint } | undefined {
    const loads = this.symbols.elf.programHeaders.filter((p) => p.type === PT.LOAD && p.memsz > 0n);
    if (!loads.length) return undefined;
    return {
      start: loads.reduce((m, p) => (p.vaddr < m ? p.vaddr : m), loads[0]!.vaddr),
      end: loads.reduce((m, p) => (p.vaddr + p.memsz > m ? p.vaddr + p.memsz : m), 0n),
    };
  }

  get hasDebugInfo(): boolean {
    return this.symbols.elf.section('.debug_info') !== undefined;
  }

  /** A source path as gdb shows it: relative to the compilation directory of pc's unit when inside it. */
  displayFile(file: string, pc?: bigint): string {
    // The unit covering pc, also for code without a function DIE (top-level asm in a C file).
    const compDir = pc !== undefined ? (this.symbols.functionAt(pc)?.die.unit ?? this.symbols.index.unitsAt(pc)[0])?.compDir : undefined;
    return underCompDir(file, compDir);
  }

  /** Line `line` (1-based) of a source file, or undefined when the file cannot be read (see hasSource). */
  sourceLine(file: string, line: number): string | undefined {
    return this.sourceFile(file)?.lines[line - 1];
  }

  /** The source file can be found (where gdb looks: see sourceFile). */
  hasSource(file: string): boolean {
    return this.sourceFile(file) !== null;
  }

  /**
   * A source file as found here: its absolute path and lines, looked for where gdb looks by
   * default ($cdir:$cwd): the path the line table gives (under the compilation directory), then
   * in the current directory by each tail of that path, `init/main.c` and `main.c` among them
   * (Debian's vmlinux was built in a directory that is not on this machine: gdb finds its
   * sources from the top of the kernel tree). Null when it is nowhere.
   */
  sourceFile(file: string): { path: string; lines: string[] } | null {
    const local = this.sourcePaths.local(file);
    let found = this.sources.get(local);
    if (found === undefined) {
      const at = this.locateSource(file);
      found = null;
      try {
        if (at) found = { path: at, lines: readFileSync(at, 'utf8').split('\n') };
      } catch {
        // unreadable: as not found
      }
      this.sources.set(local, found);
    }
    return found;
  }

  /** The absolute path of a source file here (see sourceFile), undefined when it is nowhere; nothing is read. */
  locateSource(file: string): string | undefined {
    const local = this.sourcePaths.local(file);
    const parts = local.split('/').filter((p) => p !== '' && p !== '.');
    const hit = [local, ...parts.map((_p, i) => parts.slice(i).join('/'))].find((c) => existsSync(c) && statSync(c).isFile());
    return hit && path.resolve(hit);
  }

  /**
   * The general registers some instruction of a concrete function writes (calls count as writing
   * the call-clobbered ones), from the image's code; undefined when that code is not in the image.
   */
  registersWrittenBy(fn: FunctionInfo): Promise<Set<string> | undefined> {
    let p = this.written.get(fn.entryPc);
    if (!p) {
      p = (async () => {
        const all = new Set<string>();
        for (const r of fn.ranges) {
          const size = r.end - r.start;
          const bytes = size > 0n && size <= 0x10000n ? this.symbols.codeAt(r.start, Number(size)) : undefined;
          if (!bytes || bytes.length !== Number(size)) return undefined;
          for (const reg of await registersWritten(bytes, r.start, 64)) all.add(reg);
        }
        return all;
      })();
      this.written.set(fn.entryPc, p);
    }
    return p;
  }

  close(): void {
    this.symbols.close();
  }
}

/** `file` relative to `compDir` when it is inside it. */
export function underCompDir(file: string, compDir: string | undefined): string {
  const dir = compDir?.replace(/\/$/, '');
  return dir && file.startsWith(dir + '/') ? file.slice(dir.length + 1) : file;
}
