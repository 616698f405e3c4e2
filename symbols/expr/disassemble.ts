// Text of a DWARF expression in readelf's notation ("DW_OP_breg7 (rsp): 8; DW_OP_stack_value"),
// for `info address` and debug output. Tolerant: undecodable bytes end the text with a note.
import { ByteReader } from '../reader.js';
import { decodeOperation, type Operation } from './decode.js';
import { ExpressionError } from './errors.js';
import { DW_OP, opName } from './opcodes.js';
import { x86_64RegisterName } from '../x86_64-registers.js';

export interface DisassembleOptions {
  addressSize?: number;
  /** Size of .debug_info references (call_ref, implicit_pointer); default 4. */
  refSize?: number;
  registerName?: (reg: number) => string;
  /** .debug_info offset of the expression's unit: readelf shows typed ops' DIEs from the section's start. */
  unitOffset?: bigint;
}

export function disassembleExpression(bytes: Uint8Array, opts: DisassembleOptions = {}): string {
  const sizes = { addressSize: opts.addressSize ?? 8, refSize: opts.refSize ?? 4 };
  const r = new ByteReader(bytes, 'DWARF expression');
  const parts: string[] = [];
  while (!r.atEnd) {
    try {
      parts.push(formatOperation(decodeOperation(r, sizes), opts));
    } catch (e) {
      if (!(e instanceof ExpressionError)) throw e;
      parts.push(`<${e.message}>`);
      break;
    }
  }
  return parts.join('; ');
}

const hex = (v: bigint) => v.toString(16);
/** printf's %#x: no prefix for zero. */
const altHex = (v: bigint) => (v === 0n ? '0' : `0x${hex(v)}`);
const block = (b: Uint8Array) => `${b.length} byte block: ${Array.from(b, (x) => `${x.toString(16)} `).join('')}`;

function formatOperation(op: Operation, opts: DisassembleOptions): string {
  const c = op.code;
  const name = opName(c);
  const reg = (n: bigint) => (opts.registerName ?? x86_64RegisterName)(Number(n));
  const [a, b] = op.args;
  const die = (offset: bigint) => offset + (opts.unitOffset ?? 0n);
  if (c >= DW_OP.reg0 && c <= DW_OP.reg31) return `${name} (${reg(BigInt(c - DW_OP.reg0))})`;
  if (c >= DW_OP.breg0 && c <= DW_OP.breg31) return `${name} (${reg(BigInt(c - DW_OP.breg0))}): ${a}`;
  switch (c) {
    case DW_OP.addr:
      return `${name}: ${hex(a!)}`;
    case DW_OP.regx:
      return `${name}: ${a} (${reg(a!)})`;
    case DW_OP.bregx:
      return `${name}: ${a} (${reg(a!)}) ${b}`;
    case DW_OP.bit_piece:
      return `${name}: size: ${a} offset: ${b} `;
    case DW_OP.call2:
    case DW_OP.call4:
    case DW_OP.call_ref:
    case DW_OP.GNU_parameter_ref:
    case DW_OP.GNU_variable_value:
      return `${name}: <0x${hex(a!)}>`;
    case DW_OP.implicit_pointer:
    case DW_OP.GNU_implicit_pointer:
      return `${name}: <0x${hex(a!)}> ${b}`;
    case DW_OP.implicit_value:
      return `${name} ${block(op.block!)}`;
    case DW_OP.entry_value:
    case DW_OP.GNU_entry_value:
      return `${name}: (${disassembleExpression(op.block!, opts)})`;
    case DW_OP.const_type:
    case DW_OP.GNU_const_type:
      return `${name}: <0x${hex(die(a!))}>  ${block(op.block!)}`;
    case DW_OP.regval_type:
    case DW_OP.GNU_regval_type:
      return `${name}: ${a} (${reg(a!)}) <0x${hex(die(b!))}>`;
    case DW_OP.deref_type:
    case DW_OP.GNU_deref_type:
    case DW_OP.xderef_type:
      return `${name}: ${a} <0x${hex(die(b!))}>`;
    case DW_OP.convert:
    case DW_OP.GNU_convert:
    case DW_OP.reinterpret:
    case DW_OP.GNU_reinterpret:
      return `${name} <${altHex(a ? die(a) : a!)}>`;
    case DW_OP.addrx:
    case DW_OP.constx:
    case DW_OP.GNU_addr_index:
    case DW_OP.GNU_const_index:
      return `${name} <${altHex(a!)}>`;
  }
  return a === undefined ? name : `${name}: ${a}`;
}
