// A DWARF expression as the symbols side hands it to the evaluator (symbols/expr): the bytes plus
// the unit facts decoding needs. Spread `unit` into an ExpressionContext and add target callbacks.
import { DW_AT, DW_TAG } from './dwarf/constants.js';
import type { Unit } from './dwarf/unit.js';
import type { BaseType } from './expr/location.js';

export interface UnitContext {
  addressSize: number;
  version: number;
  offsetSize: number;
  /** .debug_info offset of the unit (DW_OP_call2/call4 and typed ops use unit-relative DIE offsets). */
  unitOffset: number;
  /** Entry `index` of the unit's .debug_addr table (DW_OP_addrx, DW_OP_constx). */
  resolveAddrIndex(index: bigint): bigint;
  /** The base type DIE at unit offset `die`, for typed ops (gcc's xmm values: DW_OP_regval_type). */
  baseType(die: bigint): BaseType | undefined;
}

export interface ExprWithContext {
  expr: Uint8Array;
  unit: UnitContext;
}

export function unitContext(unit: Unit): UnitContext {
  return {
    addressSize: unit.addressSize,
    version: unit.version,
    offsetSize: unit.offsetSize,
    unitOffset: unit.offset,
    resolveAddrIndex: (index) => unit.indexedAddress(Number(index)),
    baseType: (die) => {
      const d = unit.dieHeader(unit.offset + Number(die));
      if (d?.tag !== DW_TAG.base_type) return undefined;
      const size = d.udata(DW_AT.byte_size);
      const encoding = d.udata(DW_AT.encoding);
      return size === undefined || encoding === undefined ? undefined : { size, encoding };
    },
  };
}
