// What evaluating a DWARF location description yields.

/** A DW_TAG_base_type as typed DWARF ops need it: byte size and DW_ATE_* encoding. */
export interface BaseType {
  size: number;
  encoding: number;
}

export type Location =
  | { kind: 'memory'; address: bigint }
  | { kind: 'register'; reg: number }
  /** DW_OP_stack_value: the value itself. A typed op sets `type`, and `value` is then normalized to it
   * (negative for a signed type); otherwise it is the unsigned address-sized stack word. */
  | { kind: 'value'; value: bigint; type?: BaseType }
  | { kind: 'implicit'; bytes: Uint8Array }
  /** The object is a pointer to (part of) the variable at .debug_info offset `die`, which has no address. */
  | { kind: 'implicit-pointer'; die: bigint; offset: bigint }
  | { kind: 'pieces'; pieces: Piece[] }
  | { kind: 'unavailable'; reason: string };

/** One part of a composite location; `offsetBits` is DW_OP_bit_piece's offset within `location`. */
export interface Piece {
  location: Location;
  sizeBits: number;
  offsetBits: number;
}

export const DW_ATE = {
  address: 0x01,
  boolean: 0x02,
  float: 0x04,
  signed: 0x05,
  signed_char: 0x06,
  unsigned: 0x07,
  unsigned_char: 0x08,
  UTF: 0x10,
} as const;
