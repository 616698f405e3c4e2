// DWARF expressions (DWARF 2-5 and the GNU extensions gcc 12 and clang emit).
//
//   evaluateLocation(bytes, ctx): Promise<Location>
//     Runs a location description. `ctx` supplies target state through async callbacks
//     (readRegister, readMemory, frameBase, cfa, entryValue, ...) and unit facts (address size,
//     version, .debug_addr via resolveAddrIndex, base types for typed ops). Results: memory,
//     register, value (DW_OP_stack_value), implicit bytes, implicit pointer, pieces, or
//     unavailable with a reason (unknown register, missing entry value, optimized out).
//     Malformed input, step/stack limits and unsupported ops (TLS) throw ExpressionError.
//   disassembleExpression(bytes, opts?): string — readelf's notation, never throws on bad input.
//   decodeOperation(reader, sizes): Operation — one op and its operands; registersRead(bytes, sizes).
//   DW_OP, DW_ATE, opName, x86_64RegisterName — constants and names.
export { decodeOperation, registersRead, type Operation, type OperandSizes } from './decode.js';
export { disassembleExpression, type DisassembleOptions } from './disassemble.js';
export { ExpressionError } from './errors.js';
export { evaluateLocation, type ExpressionContext } from './evaluate.js';
export { DW_ATE, type BaseType, type Location, type Piece } from './location.js';
export { DW_OP, opName } from './opcodes.js';
export { x86_64RegisterName } from '../x86_64-registers.js';
