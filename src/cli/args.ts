// A small argv parser: `--name value`, `--name=value`, repeatable options, boolean flags, positionals.
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface OptionSpec {
  /** Takes a value (default) or is a flag. */
  flag?: boolean;
  repeat?: boolean;
  short?: string;
}

export interface Parsed {
  positionals: string[];
  options: Map<string, string[]>;
  flags: Set<string>;
}

export function parseArgs(argv: string[], spec: Record<string, OptionSpec>): Parsed {
  const out: Parsed = { positionals: [], options: new Map(), flags: new Set() };
  const byShort = new Map(
    Object.entries(spec)
      .filter(([, s]) => s.short)
      .map(([n, s]) => [s.short!, n]),
  );
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    let name: string | undefined;
    let value: string | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      if (eq >= 0) value = a.slice(eq + 1);
    } else if (a.startsWith('-') && a.length > 1 && byShort.has(a.slice(1))) {
      name = byShort.get(a.slice(1));
    } else {
      out.positionals.push(a);
      continue;
    }
    const s = spec[name!];
    if (!s) throw new UsageError(`unknown option '${a}'`);
    if (s.flag) {
      if (value !== undefined) throw new UsageError(`option --${name} takes no value`);
      out.flags.add(name!);
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`option --${name} needs a value`);
      value = argv[++i]!;
    }
    const list = out.options.get(name!) ?? [];
    if (list.length && !s.repeat) throw new UsageError(`option --${name} given twice`);
    list.push(value);
    out.options.set(name!, list);
  }
  return out;
}

export function intOption(p: Parsed, name: string, min: number, max: number): number | undefined {
  const v = p.options.get(name)?.[0];
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max)
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got '${v}'`);
  return Number(v);
}
