// Number and value text as gdb prints it.
import { flagsValueText, registerFlags } from '../engine/register-flags.js';

export function hex(v: bigint | number): string {
  return `0x${v.toString(16)}`;
}

/** `0x0000000000001234` for addresses in listings. */
export function hex64(v: bigint): string {
  return `0x${v.toString(16).padStart(16, '0')}`;
}

/** A flags register as gdb shows it (`[ IOPL=0 IF ZF PF ]`); undefined for a register that has no flags type. */
export function flagsText(register: string, v: bigint): string | undefined {
  const fields = registerFlags(register);
  return fields && flagsValueText(fields, v);
}
