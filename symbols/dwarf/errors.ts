import { FormatError } from '../reader.js';

/** Malformed DWARF: names the section and the offset in it where decoding failed. */
export class DwarfError extends FormatError {
  constructor(
    readonly section: string,
    readonly offset: number,
    message: string,
  ) {
    super(section, `${message} (at offset 0x${offset.toString(16)})`, offset);
    this.name = 'DwarfError';
  }
}
