// Growable columns of numbers for the table builders (line rows, a unit's functions, abbreviation
// tables): typed arrays that double as they fill. Builders keep one set and reset it per table
// (parsing is synchronous), so building thousands of tables allocates only their final copies.

type Typed = Float64Array | Uint32Array | Uint16Array | Uint8Array | Int32Array;

export class Column<T extends Typed> {
  values: T;
  length = 0;

  constructor(private readonly make: (n: number) => T) {
    this.values = make(256);
  }

  push(v: number): void {
    if (this.length === this.values.length) this.grow();
    this.values[this.length++] = v;
  }

  private grow(): void {
    const more = this.make(this.values.length * 2);
    more.set(this.values);
    this.values = more;
  }

  /** A copy of the values, exactly `length` long. */
  take(): T {
    return this.values.slice(0, this.length) as T;
  }
}

export const float64 = (n: number) => new Float64Array(n);
export const uint32 = (n: number) => new Uint32Array(n);
export const uint8 = (n: number) => new Uint8Array(n);

/**
 * Records of `stride` numbers in one Float64Array (record i's field f at values[i * stride + f]):
 * one allocation for a table that would take a typed array per field.
 */
export class Records {
  values = new Float64Array(256);
  /** Records appended. */
  length = 0;

  constructor(readonly stride: number) {}

  /** Appends a record (fields 0) and returns where its fields start. */
  append(): number {
    const at = this.length * this.stride;
    if (at + this.stride > this.values.length) {
      const more = new Float64Array(this.values.length * 2 + this.stride);
      more.set(this.values);
      this.values = more;
    }
    this.values.fill(0, at, at + this.stride);
    this.length++;
    return at;
  }

  /** A copy of the records, exactly `length` long. */
  take(): Float64Array {
    return this.values.slice(0, this.length * this.stride);
  }
}
