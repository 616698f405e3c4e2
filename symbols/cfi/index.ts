// Call frame information (.eh_frame and .debug_frame) and x86_64 unwinding.
//
//   new CfiTable({ ehFrame?, debugFrame?, addressSize? })
//     Sections are raw bytes plus their load address (pcrel base) and optional textrel/datarel
//     bases. FDEs of both are indexed lazily on first lookup into one sorted array, merged as gdb
//     does (.debug_frame wins at equal start addresses). findFde(pc) is a binary search.
//     Malformed sections throw CfiError.
//   rowAt(fde, pc) / fdeRows(fde): the unwind row (CFA rule + register rules) at pc / all rows.
//   unwindStep(table, pc, regs, mem, { pcIsReturnAddress }) -> UnwindResult | null
//     One frame: CFA, the caller's known registers (rsp = CFA, rip = return address, callee-saved
//     rbx/rbp/r12-r15 keep their value when CFI says nothing, caller-saved become unknown),
//     returnAddressUndefined (DW_CFA_undefined rip: the stack ends), isSignalFrame ('S': the
//     caller's pc is exact). null when no FDE covers pc. Missing target state: UnwindError.
//   unwindFramePointer(regs, mem) -> UnwindResult | null: the rbp chain, sanity checked.
//   unwindStack(table, pc, regs, mem, opts) -> { frames, end }: CFI with frame-pointer fallback.
//   parseFrameSection(section): every CIE and FDE of one section, for tools and tests.
export { DW_CFA, DW_EH_PE } from './constants.js';
export { parseFrameSection, type Cie, type Fde, type FrameSection, type FrameSectionInput, type FrameSectionKind } from './entries.js';
export { CfiError } from './errors.js';
export { unwindFramePointer, type FramePointerOptions } from './frame-pointer.js';
export { fdeRows, rowAt, type CfaRule, type RegisterRule, type UnwindRow } from './program.js';
export { CfiTable, type CfiSections } from './table.js';
export { unwindStep, UnwindError, type MemoryReader, type RegisterReader, type UnwindResult, type UnwindStepOptions } from './unwind.js';
export { unwindStack, type StackFrame, type StackWalk, type WalkEnd, type WalkOptions } from './walk.js';
export { CALLEE_SAVED, X86_64 } from '../x86_64-registers.js';
