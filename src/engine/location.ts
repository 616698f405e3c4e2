// Where a breakpoint goes, as the user writes it: `file.c:42`, `func`, `file.c:func`, `*0xADDR`.

export type LocationSpec =
  { kind: 'line'; file: string; line: number } | { kind: 'function'; name: string; file?: string } | { kind: 'address'; address: bigint };

class LocationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocationError';
  }
}

export function parseLocation(text: string): LocationSpec {
  const s = text.trim();
  if (!s) throw new LocationError('empty location');
  if (s.startsWith('*')) {
    const a = s.slice(1).trim();
    if (!/^(0[xX][0-9a-fA-F]+|[0-9]+)$/.test(a)) throw new LocationError(`bad address '${a}' (want *0xHEX or *DECIMAL)`);
    const address = BigInt(a);
    if (address >= 1n << 64n) throw new LocationError(`address ${a} does not fit 64 bits`);
    return { kind: 'address', address };
  }
  const colon = s.lastIndexOf(':');
  if (colon > 0) {
    const file = s.slice(0, colon);
    const rest = s.slice(colon + 1);
    if (/^\d+$/.test(rest)) {
      const line = Number(rest);
      if (line < 1 || line > 10_000_000) throw new LocationError(`line ${rest} out of range`);
      return { kind: 'line', file, line };
    }
    if (/^[A-Za-z_][A-Za-z0-9_.]*$/.test(rest)) return { kind: 'function', name: rest, file };
    throw new LocationError(`bad location '${s}' (want FILE:LINE, FUNCTION, FILE:FUNCTION or *ADDRESS)`);
  }
  if (/^[A-Za-z_][A-Za-z0-9_.]*$/.test(s)) return { kind: 'function', name: s };
  throw new LocationError(`bad location '${s}' (want FILE:LINE, FUNCTION, FILE:FUNCTION or *ADDRESS)`);
}

export function formatLocation(spec: LocationSpec): string {
  switch (spec.kind) {
    case 'line':
      return `${spec.file}:${spec.line}`;
    case 'function':
      return spec.file ? `${spec.file}:${spec.name}` : spec.name;
    case 'address':
      return `*0x${spec.address.toString(16)}`;
  }
}
