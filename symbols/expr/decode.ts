// Decodes one DW_OP and its operands; truncation becomes an ExpressionError at that op.
import { ByteReader, FormatError } from '../reader.js';
import { ExpressionError } from './errors.js';
import { DW_OP, opInfo, opName, type OperandKind } from './opcodes.js';

export interface Operation {
  code: number;
  /** Byte offsets of the op and of the one after it within the expression. */
  offset: number;
  end: number;
  /** Numeric operands in order (a block's or sized constant's length is not among them). */
  args: bigint[];
  /** DW_OP_implicit_value's bytes, DW_OP_entry_value's sub-expression, DW_OP_const_type's constant. */
  block?: Uint8Array;
}

export interface OperandSizes {
  addressSize: number;
  /** Size of a .debug_info reference (call_ref, implicit_pointer): 4 or 8, the address size in DWARF 2. */
  refSize: number;
}

export function decodeOperation(r: ByteReader, sizes: OperandSizes): Operation {
  const offset = r.pos;
  const code = r.u8();
  const info = opInfo(code);
  if (!info) throw new ExpressionError(`unknown opcode 0x${code.toString(16)}`, offset);
  const args: bigint[] = [];
  let block: Uint8Array | undefined;
  try {
    for (const kind of info.operands) {
      if (kind === 'block') block = r.bytesN(r.uleb128());
      else if (kind === 'sized') block = r.bytesN(r.u8());
      else args.push(readOperand(r, kind, sizes));
    }
  } catch (e) {
    if (e instanceof FormatError) throw new ExpressionError(`truncated ${opName(code)}: ${e.message}`, offset);
    throw e;
  }
  return { code, offset, end: r.pos, args, block };
}

function readOperand(r: ByteReader, kind: Exclude<OperandKind, 'block' | 'sized'>, sizes: OperandSizes): bigint {
  switch (kind) {
    case 'addr':
      return r.addr(sizes.addressSize);
    case 'ref':
      return r.addr(sizes.refSize);
    case 'u8':
      return BigInt(r.u8());
    case 'i8':
      return BigInt(r.i8());
    case 'u16':
      return BigInt(r.u16());
    case 'i16':
      return BigInt(r.i16());
    case 'u32':
      return BigInt(r.u32());
    case 'i32':
      return BigInt(r.i32());
    case 'u64':
      return r.u64();
    case 'i64':
      return r.i64();
    case 'uleb':
      return r.uleb128Big();
    case 'sleb':
      return r.sleb128Big();
  }
}

/**
 * The DWARF registers whose current values an expression reads (DW_OP_regN/regx/bregN/bregx),
 * not those of an entry value; empty for an expression that does not decode.
 */
export function registersRead(expr: Uint8Array, sizes: OperandSizes): number[] {
  const out: number[] = [];
  const r = new ByteReader(expr, 'location expression');
  try {
    while (r.remaining > 0) {
      const op = decodeOperation(r, sizes);
      if (op.code >= DW_OP.reg0 && op.code <= DW_OP.reg31) out.push(op.code - DW_OP.reg0);
      else if (op.code >= DW_OP.breg0 && op.code <= DW_OP.breg31) out.push(op.code - DW_OP.breg0);
      else if (op.code === DW_OP.regx || op.code === DW_OP.bregx) out.push(Number(op.args[0]));
    }
  } catch (e) {
    if (!(e instanceof ExpressionError)) throw e;
    return [];
  }
  return out;
}
