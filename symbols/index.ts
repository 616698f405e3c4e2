// Symbols for one image: ELF, DWARF 2-5, symbolization, line tables, types and variables.
//
//   SymbolFile.open(path): Promise<SymbolFile>      ELF headers only; everything else on first use
//   All queries below are synchronous (positioned reads, sections and units cached):
//     .symbolize(addr): SourceFrame[]              inline chain innermost first (addr2line -f -i)
//     .functionAt(pc) / .inlineChainAt(pc)         concrete function / inlined instances + function
//     .lineAt(pc): LineRow, .stepLineAt(pc): StepLine (gdb's reading: stepping, info line, frame pcs)
//     .inlineExtentAt(pc), .tailCallsBetween(ret, pc)  inline boundaries; gdb's tail-call frames
//     .lineToAddresses(file, line): LineMatch[]     gdb's `break FILE:LINE` placement
//     .functionEntries(name): bigint[]             gdb's `break NAME` placement (after the prologue)
//     .scopesAt(pc): FrameScope[]                  per inline frame: function, blocks, variables, frame base
//     .findGlobal(name), .globalsOfUnitAt(pc), .findType(name), .types (TypeResolver)
//     .symbolAt(addr) / .findSymbol(name)          ELF symbols
//     .sourceFiles(), .close()
//   Types: typeName(type) is gdb's `whatis`, ptype(type) its `ptype`.
//   Expressions handed to the evaluator come as ExprWithContext (expr-context.ts).
// Malformed input throws FormatError subclasses: ElfError, DwarfError.
export { DwarfError } from './dwarf/errors.js';
export { ElfError, ElfFile, type ElfNote, type ElfSection, type ElfSymbol, type ProgramHeader, type SymbolHit } from './elf/index.js';
export { FormatError } from './reader.js';
export type { LineRow, StepLine } from './lines.js';
export { SymbolFile, type FunctionInfo, type SourceFrame, type SymbolSearchHit } from './symbol-file.js';
export {
  NODEBUG_TEXT,
  nodebugData,
  sizeOf,
  stripQualifiers,
  stripTypedefs,
  typeName,
  type EnumType,
  type Member,
  type StructType,
  type Type,
} from './types.js';
export { ptype, ptypeOffsets } from './ptype.js';
export { dwarfRegisterName, dwarfRegisterNumber, dwarfRegisterSize, x86_64RegisterName, X86_64 } from './x86_64-registers.js';
export type { FrameScope, VariableInfo, VariableLocation } from './scopes.js';
export type { ExprWithContext, UnitContext } from './expr-context.js';
export type { LineMatch } from './symbol-file.js';
export { TypeResolver } from './types.js';
