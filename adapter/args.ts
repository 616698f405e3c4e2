// Reading DAP request arguments, which arrive as untyped JSON: every accessor checks the type and
// range and throws an ArgumentError whose one-line message names the argument that was wrong.

export class ArgumentError extends Error {
  override name = 'ArgumentError';
}

/** The largest readMemory/writeMemory a client may ask for in one request. */
export const MAX_MEMORY_BYTES = 16 * 1024 * 1024;

type Raw = Record<string, unknown>;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `'${v.length > 40 ? v.slice(0, 40) + '…' : v}'`;
  if (typeof v === 'object') return 'an object';
  return String(v);
}

export class Args {
  private constructor(
    readonly raw: Raw,
    /** Prefix for messages about nested arguments (`breakpoints[2].`). */
    private readonly path: string,
  ) {}

  static of(raw: unknown, path = ''): Args {
    if (raw === undefined || raw === null) return new Args({}, path);
    if (typeof raw !== 'object' || Array.isArray(raw))
      throw new ArgumentError(`${path ? path.replace(/\.$/, '') : 'arguments'} must be an object, got ${describe(raw)}`);
    return new Args(raw as Raw, path);
  }

  name(key: string): string {
    return this.path + key;
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined && this.raw[key] !== null;
  }

  int(key: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.raw[key];
    if (v === undefined || v === null) throw new ArgumentError(`${this.name(key)} is missing`);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      const range =
        min === Number.MIN_SAFE_INTEGER
          ? 'an integer'
          : max === Number.MAX_SAFE_INTEGER
            ? `an integer >= ${min}`
            : `an integer from ${min} to ${max}`;
      throw new ArgumentError(`${this.name(key)} must be ${range}, got ${describe(v)}`);
    }
    return v;
  }

  optInt(key: string, min?: number, max?: number): number | undefined {
    return this.has(key) ? this.int(key, min, max) : undefined;
  }

  str(key: string): string {
    const v = this.raw[key];
    if (v === undefined || v === null) throw new ArgumentError(`${this.name(key)} is missing`);
    if (typeof v !== 'string') throw new ArgumentError(`${this.name(key)} must be a string, got ${describe(v)}`);
    return v;
  }

  optStr(key: string): string | undefined {
    return this.has(key) ? this.str(key) : undefined;
  }

  optBool(key: string): boolean | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') throw new ArgumentError(`${this.name(key)} must be true or false, got ${describe(v)}`);
    return v;
  }

  array(key: string): unknown[] {
    const v = this.raw[key];
    if (v === undefined || v === null) throw new ArgumentError(`${this.name(key)} is missing`);
    if (!Array.isArray(v)) throw new ArgumentError(`${this.name(key)} must be an array, got ${describe(v)}`);
    return v;
  }

  /** Each element of an array of objects, with messages naming `key[i].field`. */
  objects(key: string): Args[] {
    return this.array(key).map((v, i) => Args.of(v, `${this.name(key)}[${i}].`));
  }

  strings(key: string): string[] {
    return this.array(key).map((v, i) => {
      if (typeof v !== 'string') throw new ArgumentError(`${this.name(key)}[${i}] must be a string, got ${describe(v)}`);
      return v;
    });
  }

  optObj(key: string): Args | undefined {
    return this.has(key) ? Args.of(this.raw[key], `${this.name(key)}.`) : undefined;
  }

  /** A memory or instruction reference: `0x` hex or decimal, within 64 bits. */
  address(key: string): bigint {
    const v = this.str(key).trim();
    if (!/^(0[xX][0-9a-fA-F]+|\d+)$/.test(v) || BigInt(v) >= 1n << 64n) {
      throw new ArgumentError(`${this.name(key)} '${v}' is not an address (want 0x-prefixed hex or decimal, within 64 bits)`);
    }
    return BigInt(v);
  }
}

/** `0x…` as DAP memory references are written. */
export function hexRef(v: bigint): string {
  return `0x${v.toString(16)}`;
}

/** An address plus a signed byte offset, kept within 64 bits. */
export function offsetAddress(base: bigint, offset: number, what: string): bigint {
  const at = base + BigInt(offset);
  if (at < 0n || at >= 1n << 64n) throw new ArgumentError(`${what}: ${hexRef(base)} + ${offset} is outside the 64-bit address space`);
  return at;
}
