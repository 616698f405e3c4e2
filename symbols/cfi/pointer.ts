// DW_EH_PE-encoded pointers as .eh_frame stores them (LSB "Exception Frames").
import type { ByteReader } from '../reader.js';
import { DW_EH_PE } from './constants.js';
import { CfiError } from './errors.js';

export interface PointerBases {
  addressSize: number;
  /** Section name and entry offset, for errors. */
  section: string;
  entry: number;
  /** Address of the reader's byte 0 (pcrel adds it to the field's offset). */
  sectionAddress: bigint;
  textBase?: bigint;
  dataBase?: bigint;
  funcBase?: bigint;
}

export interface EncodedPointer {
  value: bigint;
  /** DW_EH_PE_indirect: `value` is where the pointer is stored, not the pointer. */
  indirect: boolean;
}

/** Reads a pointer in encoding `enc`. */
export function readEncodedPointer(r: ByteReader, enc: number, bases: PointerBases): EncodedPointer {
  if (enc === DW_EH_PE.omit) throw new CfiError(bases.section, bases.entry, 'pointer encoding DW_EH_PE_omit where a pointer is required');
  const app = enc & 0x70;
  if (app === DW_EH_PE.aligned) r.seek(Math.min(r.length, Math.ceil(r.pos / bases.addressSize) * bases.addressSize));
  const fieldAddress = bases.sectionAddress + BigInt(r.pos);
  const raw = readFormat(r, enc & 0x0f, bases);
  let base: bigint;
  switch (app) {
    case DW_EH_PE.absptr:
    case DW_EH_PE.aligned:
      base = 0n;
      break;
    case DW_EH_PE.pcrel:
      base = fieldAddress;
      break;
    case DW_EH_PE.textrel:
      base = need(bases.textBase, 'textrel', bases);
      break;
    case DW_EH_PE.datarel:
      base = need(bases.dataBase, 'datarel', bases);
      break;
    case DW_EH_PE.funcrel:
      base = need(bases.funcBase, 'funcrel', bases);
      break;
    default:
      throw new CfiError(bases.section, bases.entry, `unknown pointer application 0x${app.toString(16)}`);
  }
  return { value: BigInt.asUintN(bases.addressSize * 8, base + raw), indirect: (enc & DW_EH_PE.indirect) !== 0 };
}

/** The value part only (an FDE's address range uses the encoding's format without its base). */
export function readFormat(r: ByteReader, format: number, bases: PointerBases): bigint {
  const { addressSize } = bases;
  switch (format) {
    case DW_EH_PE.absptr:
      return r.addr(addressSize);
    case DW_EH_PE.uleb128:
      return r.uleb128Big();
    case DW_EH_PE.udata2:
      return BigInt(r.u16());
    case DW_EH_PE.udata4:
      return BigInt(r.u32());
    case DW_EH_PE.udata8:
      return r.u64();
    case DW_EH_PE.signed:
      return addressSize === 8 ? r.i64() : BigInt(r.i32());
    case DW_EH_PE.sleb128:
      return r.sleb128Big();
    case DW_EH_PE.sdata2:
      return BigInt(r.i16());
    case DW_EH_PE.sdata4:
      return BigInt(r.i32());
    case DW_EH_PE.sdata8:
      return r.i64();
    default:
      throw new CfiError(bases.section, bases.entry, `unknown pointer format 0x${format.toString(16)}`);
  }
}

function need(base: bigint | undefined, what: string, bases: PointerBases): bigint {
  if (base === undefined) throw new CfiError(bases.section, bases.entry, `DW_EH_PE_${what} pointer but no ${what} base is known`);
  return base;
}
