import { FormatError } from '../reader.js';

/** A malformed or truncated ELF file; the message names the structure and its file offset. */
export class ElfError extends FormatError {
  constructor(what: string, message: string) {
    super(what, message);
    this.name = 'ElfError';
  }
}
