import { FormatError } from '../reader.js';

/** Malformed call frame information; names the section and the entry's offset in it. */
export class CfiError extends FormatError {
  constructor(
    section: string,
    readonly offset: number,
    message: string,
  ) {
    super(section, `${message} (entry at offset 0x${offset.toString(16)})`, offset);
    this.name = 'CfiError';
  }
}
