import { TargetError } from '../target.js';

/** The file is not a dump duster reads, or it is damaged; the message names the file and the fault. */
export class DumpFormatError extends TargetError {
  override name = 'DumpFormatError';
  constructor(
    readonly path: string,
    why: string,
  ) {
    super(`${path}: ${why}`);
  }
}

/** A guest address the dump cannot supply: unmapped by the guest's page tables, or absent from the file. */
export class DumpMemoryError extends TargetError {
  override name = 'DumpMemoryError';
  constructor(
    readonly address: bigint,
    why: string,
  ) {
    super(`cannot read 0x${address.toString(16)}: ${why}`);
  }
}
