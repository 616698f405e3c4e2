// What gdb's `info source` and `info sources` say about the image's compile units and their files.
import path from 'node:path';
import type { Program } from './program.js';

type Unit = NonNullable<ReturnType<Program['symbols']['index']['unitsAt']>[number]>;

/** `info source` for the unit holding `pc`, whose line there is in `file` (the line table's path). */
interface SourceInfo {
  /** The file as gdb names it: relative to the compilation directory when inside it. */
  file: string;
  compDir?: string;
  /** Where the file was found here, and its line count (gdb's: a last line without newline counts). */
  located?: { path: string; lines: number };
  language: string;
  producer?: string;
  dwarfVersion: number;
  macros: boolean;
}

export function sourceInfo(program: Program, pc: bigint, file: string): SourceInfo | undefined {
  const unit = unitAt(program, pc);
  if (!unit) return undefined;
  const found = program.sourceFile(file);
  const lines = found && found.lines.length - (found.lines.at(-1) === '' ? 1 : 0);
  return {
    file: program.displayFile(file, pc),
    ...(unit.compDir !== undefined && { compDir: unit.compDir }),
    ...(found && { located: { path: found.path, lines: lines! } }),
    language: languageName(unit.language),
    ...(unit.producer !== undefined && { producer: unit.producer }),
    dwarfVersion: unit.version,
    macros: unit.hasMacros,
  };
}

/**
 * The full names of the image's source files as gdb 13's `info sources` lists them: unit by unit
 * (the one holding `pc` first, as gdb lists the units it has read before the others), each its
 * primary file and then its line table's files, a name once. A name is where the file was found
 * here, else the recorded path (substitute-path applied) under the compilation directory.
 */
export function sourceFileNames(program: Program, pc?: bigint): string[] {
  const units = program.symbols.dwarf.compileUnits;
  const first = pc !== undefined ? unitAt(program, pc) : undefined;
  const names = new Set<string>();
  const add = (file: string) => {
    if (file) names.add(program.locateSource(file) ?? program.sourcePaths.rewritten(file));
  };
  for (const unit of first ? [first, ...units.filter((u) => u !== first)] : units) {
    const name = unit.name;
    if (name) add(path.posix.isAbsolute(name) || !unit.compDir ? name : path.posix.join(unit.compDir, name));
    const prog = unit.lineProgram;
    for (let i = 0; prog && i < prog.fileCount; i++) add(prog.filePath(i) ?? '');
  }
  return [...names];
}

function unitAt(program: Program, pc: bigint): Unit | undefined {
  return program.symbols.functionAt(pc)?.die.unit ?? program.symbols.index.unitsAt(pc)[0];
}

/** gdb's name of a DW_LANG_* code (`Source language is c.`). */
function languageName(lang: number | undefined): string {
  switch (lang) {
    case 0x01: // C89
    case 0x02: // C
    case 0x0c: // C99
    case 0x1d: // C11
    case 0x2c: // C17
      return 'c';
    case 0x04: // C++
    case 0x1a: // C++03
    case 0x1b: // C++11
    case 0x21: // C++14
      return 'c++';
    case 0x1c:
      return 'rust';
    case 0x16:
      return 'go';
    case 0x8001: // gas's vendor code
      return 'asm';
    default:
      return 'unknown';
  }
}
