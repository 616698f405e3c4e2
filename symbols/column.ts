// A growable column of numbers for the table builders (line rows, a unit's functions, abbreviation
// tables): a typed array that doubles as it fills. Builders keep one set and reset it per table
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
export const uint16 = (n: number) => new Uint16Array(n);
export const uint8 = (n: number) => new Uint8Array(n);
