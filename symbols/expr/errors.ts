import { FormatError } from '../reader.js';

/** A malformed or unevaluable DWARF expression; `offset` is the offending op's byte offset in it. */
export class ExpressionError extends FormatError {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super('DWARF expression', `${message} (op at offset ${offset})`);
    this.name = 'ExpressionError';
  }
}
