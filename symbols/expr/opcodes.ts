// DW_OP_* codes (DWARF 2-5 plus the GNU extensions gcc and clang emit), their names and the
// layout of their operands, shared by the decoder, the evaluator and the disassembler.

export const DW_OP = {
  addr: 0x03,
  deref: 0x06,
  const1u: 0x08,
  const1s: 0x09,
  const2u: 0x0a,
  const2s: 0x0b,
  const4u: 0x0c,
  const4s: 0x0d,
  const8u: 0x0e,
  const8s: 0x0f,
  constu: 0x10,
  consts: 0x11,
  dup: 0x12,
  drop: 0x13,
  over: 0x14,
  pick: 0x15,
  swap: 0x16,
  rot: 0x17,
  xderef: 0x18,
  abs: 0x19,
  and: 0x1a,
  div: 0x1b,
  minus: 0x1c,
  mod: 0x1d,
  mul: 0x1e,
  neg: 0x1f,
  not: 0x20,
  or: 0x21,
  plus: 0x22,
  plus_uconst: 0x23,
  shl: 0x24,
  shr: 0x25,
  shra: 0x26,
  xor: 0x27,
  bra: 0x28,
  eq: 0x29,
  ge: 0x2a,
  gt: 0x2b,
  le: 0x2c,
  lt: 0x2d,
  ne: 0x2e,
  skip: 0x2f,
  lit0: 0x30,
  lit31: 0x4f,
  reg0: 0x50,
  reg31: 0x6f,
  breg0: 0x70,
  breg31: 0x8f,
  regx: 0x90,
  fbreg: 0x91,
  bregx: 0x92,
  piece: 0x93,
  deref_size: 0x94,
  xderef_size: 0x95,
  nop: 0x96,
  push_object_address: 0x97,
  call2: 0x98,
  call4: 0x99,
  call_ref: 0x9a,
  form_tls_address: 0x9b,
  call_frame_cfa: 0x9c,
  bit_piece: 0x9d,
  implicit_value: 0x9e,
  stack_value: 0x9f,
  implicit_pointer: 0xa0,
  addrx: 0xa1,
  constx: 0xa2,
  entry_value: 0xa3,
  const_type: 0xa4,
  regval_type: 0xa5,
  deref_type: 0xa6,
  xderef_type: 0xa7,
  convert: 0xa8,
  reinterpret: 0xa9,
  GNU_push_tls_address: 0xe0,
  GNU_uninit: 0xf0,
  GNU_implicit_pointer: 0xf2,
  GNU_entry_value: 0xf3,
  GNU_const_type: 0xf4,
  GNU_regval_type: 0xf5,
  GNU_deref_type: 0xf6,
  GNU_convert: 0xf7,
  GNU_reinterpret: 0xf9,
  GNU_parameter_ref: 0xfa,
  GNU_addr_index: 0xfb,
  GNU_const_index: 0xfc,
  GNU_variable_value: 0xfd,
} as const;

/**
 * Operand kinds: fixed-size integers, LEB128s, `addr` (address size), `ref` (a .debug_info offset:
 * offset size, address size in DWARF 2), `block` (ULEB length then bytes), `sized` (u8 length then
 * bytes, DW_OP_const_type's constant).
 */
export type OperandKind =
  'addr' | 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'u64' | 'i64' | 'uleb' | 'sleb' | 'ref' | 'block' | 'sized';

interface OpInfo {
  name: string;
  operands: readonly OperandKind[];
}

const table = new Map<number, OpInfo>();

function def(code: number, name: string, ...operands: OperandKind[]): void {
  table.set(code, { name: `DW_OP_${name}`, operands });
}

for (const [name, code] of Object.entries(DW_OP)) {
  if (!/^(lit|reg|breg)\d+$/.test(name)) def(code, name);
}
for (let i = 0; i < 32; i++) {
  def(DW_OP.lit0 + i, `lit${i}`);
  def(DW_OP.reg0 + i, `reg${i}`);
  def(DW_OP.breg0 + i, `breg${i}`, 'sleb');
}
def(DW_OP.addr, 'addr', 'addr');
def(DW_OP.const1u, 'const1u', 'u8');
def(DW_OP.const1s, 'const1s', 'i8');
def(DW_OP.const2u, 'const2u', 'u16');
def(DW_OP.const2s, 'const2s', 'i16');
def(DW_OP.const4u, 'const4u', 'u32');
def(DW_OP.const4s, 'const4s', 'i32');
def(DW_OP.const8u, 'const8u', 'u64');
def(DW_OP.const8s, 'const8s', 'i64');
def(DW_OP.constu, 'constu', 'uleb');
def(DW_OP.consts, 'consts', 'sleb');
def(DW_OP.pick, 'pick', 'u8');
def(DW_OP.plus_uconst, 'plus_uconst', 'uleb');
def(DW_OP.bra, 'bra', 'i16');
def(DW_OP.skip, 'skip', 'i16');
def(DW_OP.regx, 'regx', 'uleb');
def(DW_OP.fbreg, 'fbreg', 'sleb');
def(DW_OP.bregx, 'bregx', 'uleb', 'sleb');
def(DW_OP.piece, 'piece', 'uleb');
def(DW_OP.deref_size, 'deref_size', 'u8');
def(DW_OP.xderef_size, 'xderef_size', 'u8');
def(DW_OP.call2, 'call2', 'u16');
def(DW_OP.call4, 'call4', 'u32');
def(DW_OP.call_ref, 'call_ref', 'ref');
def(DW_OP.bit_piece, 'bit_piece', 'uleb', 'uleb');
def(DW_OP.implicit_value, 'implicit_value', 'block');
def(DW_OP.implicit_pointer, 'implicit_pointer', 'ref', 'sleb');
def(DW_OP.GNU_implicit_pointer, 'GNU_implicit_pointer', 'ref', 'sleb');
def(DW_OP.addrx, 'addrx', 'uleb');
def(DW_OP.constx, 'constx', 'uleb');
def(DW_OP.GNU_addr_index, 'GNU_addr_index', 'uleb');
def(DW_OP.GNU_const_index, 'GNU_const_index', 'uleb');
def(DW_OP.entry_value, 'entry_value', 'block');
def(DW_OP.GNU_entry_value, 'GNU_entry_value', 'block');
def(DW_OP.const_type, 'const_type', 'uleb', 'sized');
def(DW_OP.GNU_const_type, 'GNU_const_type', 'uleb', 'sized');
def(DW_OP.regval_type, 'regval_type', 'uleb', 'uleb');
def(DW_OP.GNU_regval_type, 'GNU_regval_type', 'uleb', 'uleb');
def(DW_OP.deref_type, 'deref_type', 'u8', 'uleb');
def(DW_OP.GNU_deref_type, 'GNU_deref_type', 'u8', 'uleb');
def(DW_OP.xderef_type, 'xderef_type', 'u8', 'uleb');
def(DW_OP.convert, 'convert', 'uleb');
def(DW_OP.GNU_convert, 'GNU_convert', 'uleb');
def(DW_OP.reinterpret, 'reinterpret', 'uleb');
def(DW_OP.GNU_reinterpret, 'GNU_reinterpret', 'uleb');
def(DW_OP.GNU_parameter_ref, 'GNU_parameter_ref', 'u32');
def(DW_OP.GNU_variable_value, 'GNU_variable_value', 'ref');

export function opInfo(code: number): OpInfo | undefined {
  return table.get(code);
}

export function opName(code: number): string {
  return table.get(code)?.name ?? `DW_OP_<0x${code.toString(16)}>`;
}
