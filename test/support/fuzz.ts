// Fuzzing plumbing shared by the fuzz suites: how long to run (a bounded slice in `npm test`;
// FUZZ_RUNS inputs per target or FUZZ_SECONDS per target under `npm run fuzz`), a seeded PRNG so a
// failure names what reproduces it, byte mutations, and one check per input: it ends within a time
// bound with a result or a typed error, and the process's peak virtual memory (VmPeak, which a
// large allocation raises even if its pages are never touched) grows by no more than a bound.
import { readFileSync } from 'node:fs';

const RUNS = process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) : undefined;
const SECONDS = Number(process.env.FUZZ_SECONDS ?? 0);
/** True under `npm run fuzz` (long runs; targets that need local files not in CI may run). */
export const LONG = RUNS !== undefined || SECONDS > 0;

/** Deterministic xorshift PRNG in [0, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

export const pick = <T>(random: () => number, xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
export const below = (random: () => number, n: number): number => Math.floor(random() * n);

/**
 * How many inputs a target gets: `ci` in `npm test`; FUZZ_RUNS scaled by `share` (the target's
 * weight against the cheapest targets) under `npm run fuzz`; and with FUZZ_SECONDS, as many as
 * fit in that many seconds from the first input on (at least the count).
 */
export class Budget {
  readonly count: number;
  private until: number | undefined;

  constructor(
    ci: number,
    share = 1,
    /** What one input may take, for the test's timeout. */
    private readonly msPerInput = 10,
  ) {
    this.count = RUNS === undefined ? ci : Math.max(ci, Math.round(RUNS * share));
  }

  /** fast-check parameters for this budget (FUZZ_SECONDS: run until the time is up). */
  get fastCheck(): { numRuns: number; interruptAfterTimeLimit?: number; markInterruptAsFailure?: boolean } {
    return SECONDS > 0
      ? { numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: SECONDS * 1000, markInterruptAsFailure: false }
      : { numRuns: this.count };
  }

  more(done: number): boolean {
    this.until ??= Date.now() + SECONDS * 1000;
    return done < this.count || Date.now() < this.until;
  }

  /** A vitest timeout for this budget, with room to spare. */
  get timeout(): number {
    return 60_000 + this.count * this.msPerInput * 4 + SECONDS * 1000;
  }
}

/** VmPeak of this process in bytes. */
export function vmPeak(): number {
  const m = /^VmPeak:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

export interface Outcome {
  ok: boolean;
  /** Error class name when the input was refused. */
  error?: string;
  ms: number;
  /** VmPeak growth during this input, bytes. */
  peakGrowth: number;
}

/** Counts per target, printed once at the end for the closing note. */
export class Tally {
  inputs = 0;
  ok = 0;
  readonly errors = new Map<string, number>();
  slowestMs = 0;
  peakGrowth = 0;

  constructor(readonly target: string) {}

  add(o: Outcome): void {
    this.inputs++;
    if (o.ok) this.ok++;
    else this.errors.set(o.error!, (this.errors.get(o.error!) ?? 0) + 1);
    this.slowestMs = Math.max(this.slowestMs, o.ms);
    this.peakGrowth = Math.max(this.peakGrowth, o.peakGrowth);
  }

  /** An input checked by the caller's own assertions (a property that held). */
  passed(): void {
    this.add({ ok: true, ms: 0, peakGrowth: 0 });
  }

  get refused(): number {
    return this.inputs - this.ok;
  }

  report(): void {
    const errors = [...this.errors].map(([k, v]) => `${k} ${v}`).join(', ');
    console.info(
      `fuzz: ${this.target}: ${this.inputs} inputs, ${this.ok} ok, ${this.refused} typed errors${errors ? ` (${errors})` : ''}; slowest ${this.slowestMs.toFixed(0)} ms; VmPeak +${(this.peakGrowth / 2 ** 20).toFixed(0)} MiB at most`,
    );
  }
}

export interface Limits {
  /** Errors that count as a clean refusal. */
  typed: ReadonlyArray<abstract new (...args: never[]) => Error>;
  ms: number;
  /** Largest VmPeak growth allowed for this input, bytes. */
  peakBytes: number;
}

/**
 * Runs one input; throws a message naming `label` if it fails the time, memory or error contract.
 * `run` must be repeatable: an input over the time limit is timed once more.
 */
export async function fuzzInput(tally: Tally, label: string, limits: Limits, run: () => unknown): Promise<Outcome> {
  const peak = vmPeak();
  const t = performance.now();
  let error: string | undefined;
  try {
    await run();
  } catch (e) {
    if (!limits.typed.some((T) => e instanceof T))
      throw new Error(`${tally.target}: ${label} threw ${(e as Error)?.name}: ${(e as Error)?.stack ?? e}`);
    if (/\n/.test((e as Error).message))
      throw new Error(`${tally.target}: ${label}: a typed error of more than one line: ${(e as Error).message}`);
    error = (e as Error).name;
  }
  const o: Outcome = { ok: error === undefined, error, ms: performance.now() - t, peakGrowth: vmPeak() - peak };
  tally.add(o);
  if (o.ms > limits.ms) {
    // On a shared machine a GC or scheduling pause can stall any input: a slow input must be slow twice.
    const t2 = performance.now();
    await Promise.resolve()
      .then(run)
      .catch(() => undefined);
    const again = performance.now() - t2;
    if (again > limits.ms)
      throw new Error(`${tally.target}: ${label} took ${o.ms.toFixed(0)} ms, then ${again.toFixed(0)} ms (limit ${limits.ms})`);
  }
  if (o.peakGrowth > limits.peakBytes)
    throw new Error(
      `${tally.target}: ${label} raised VmPeak by ${(o.peakGrowth / 2 ** 20).toFixed(0)} MiB (limit ${(limits.peakBytes / 2 ** 20).toFixed(0)})`,
    );
  return o;
}

/** Values that break length and count fields: 0, -1 in every width, 2^31, 4 GiB, odd sizes. */
const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0xffff_fff0];

/**
 * A mutation of `bytes` inside [from, to): random bytes, an interesting 8/16/32/64-bit value, a bit
 * flip, or an over-long LEB128 (all in place, same length). Returns what it did.
 */
export function mutateInPlace(bytes: Uint8Array, from: number, to: number, random: () => number): string {
  const span = Math.max(1, to - from);
  const at = from + below(random, span);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kind = below(random, 5);
  if (kind === 0) {
    const n = 1 + below(random, 8);
    for (let k = 0; k < n; k++) bytes[from + below(random, span)] = below(random, 256);
    return `${n} random bytes in [0x${from.toString(16)}, 0x${to.toString(16)})`;
  }
  if (kind === 1) {
    const v = pick(random, INTERESTING);
    const width = pick(random, [1, 2, 4, 8]);
    if (at + width > bytes.length) return mutateInPlace(bytes, from, to, random);
    if (width === 1) dv.setUint8(at, v & 0xff);
    else if (width === 2) dv.setUint16(at, v & 0xffff, true);
    else if (width === 4) dv.setUint32(at, v >>> 0, true);
    else dv.setBigUint64(at, v === 0xffff_ffff ? 0xffff_ffff_ffff_ffffn : BigInt(v) << 32n, true);
    return `u${width * 8} 0x${v.toString(16)} at 0x${at.toString(16)}`;
  }
  if (kind === 2) {
    bytes[at] = bytes[at]! ^ (1 << below(random, 8));
    return `bit flip at 0x${at.toString(16)}`;
  }
  if (kind === 3) {
    const n = Math.min(2 + below(random, 12), bytes.length - at);
    for (let k = 0; k < n - 1; k++) bytes[at + k] = 0x80 | below(random, 128);
    bytes[at + n - 1] = below(random, 128);
    return `${n}-byte LEB128 at 0x${at.toString(16)}`;
  }
  // A byte set to 0 or 0xff: end-of-list markers, terminators, and "all ones" in a field.
  bytes[at] = random() < 0.5 ? 0 : 0xff;
  return `byte 0x${bytes[at]!.toString(16)} at 0x${at.toString(16)}`;
}
