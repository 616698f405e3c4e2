// Benchmark plumbing: repeated timing with min/median, gdb batch runs timed from inside gdb (so
// its startup is not counted against it where the row measures one command), peak RSS of child
// processes, and the result table.
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ProxyPacket } from '../support/rsp-proxy.js';

const run = promisify(execFile);

export interface Sample {
  min: number;
  median: number;
  runs: number;
}

export async function repeat(times: number, fn: () => Promise<number>): Promise<Sample> {
  const xs: number[] = [];
  for (let i = 0; i < times; i++) xs.push(await fn());
  return sample(xs);
}

/**
 * Runs `a` and `b` in turn, `times` each: on a shared machine whose load comes and goes, neither
 * gets the quiet minutes alone.
 */
export async function alternate(times: number, a: () => Promise<number>, b: () => Promise<number>): Promise<[Sample, Sample]> {
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < times; i++) {
    xs.push(await a());
    ys.push(await b());
  }
  return [sample(xs), sample(ys)];
}

function sample(xs: number[]): Sample {
  xs.sort((a, b) => a - b);
  return { min: xs[0]!, median: xs[Math.floor(xs.length / 2)]!, runs: xs.length };
}

/** Milliseconds `fn` takes. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/**
 * Runs gdb in batch mode and returns the time of the `measured` commands by gdb's own Python clock
 * (so gdb's startup is not counted where a row measures one command) and the process's wall time.
 */
export async function gdbTimed(args: {
  elf?: string;
  before: string[];
  measured: string[];
  after?: string[];
}): Promise<{ ms: number; wallMs: number; stdout: string }> {
  const ex = (c: string) => ['-ex', c];
  const argv = [
    '-nx',
    '-batch',
    ...ex('set pagination off'),
    ...ex('set confirm off'),
    ...ex('set width 0'),
    ...args.before.flatMap(ex),
    ...ex('python import time; __t0 = time.perf_counter()'),
    ...args.measured.flatMap(ex),
    ...ex('python print("DUSTER-BENCH-MS %.3f" % ((time.perf_counter() - __t0) * 1000))'),
    ...(args.after ?? []).flatMap(ex),
    ...(args.elf ? [args.elf] : []),
  ];
  const t = performance.now();
  const { stdout } = await run('gdb', argv, { maxBuffer: 256 * 1024 * 1024, timeout: 600_000 });
  const wallMs = performance.now() - t;
  const m = /DUSTER-BENCH-MS ([\d.]+)/.exec(stdout);
  if (!m) throw new Error(`gdb did not finish the measured commands:\n${stdout.slice(-2000)}`);
  return { ms: Number(m[1]), wallMs, stdout };
}

/**
 * Runs duster in a process of its own (test/bench/duster-timed.ts), attached to `address`, and
 * returns the time of the `measured` commands by its own clock, as gdbTimed does for gdb.
 */
export async function dusterTimed(args: {
  address: string;
  elf: string;
  before: string[];
  measured: string[];
  after?: string[];
  profile?: string;
}): Promise<{ ms: number; stdout: string }> {
  const { profile, ...rest } = args;
  const job = JSON.stringify({ ...rest, after: args.after ?? [] });
  const env = profile ? { ...process.env, DUSTER_BENCH_PROFILE: profile } : process.env;
  const { stdout } = await run(viteNode, [path.join(import.meta.dirname, 'duster-timed.ts'), job], {
    maxBuffer: 256 * 1024 * 1024,
    timeout: 600_000,
    env,
  });
  const m = /DUSTER-BENCH-MS ([\d.]+)/.exec(stdout);
  if (!m) throw new Error(`duster did not finish the measured commands:\n${stdout.slice(-2000)}`);
  return { ms: Number(m[1]), stdout };
}

const viteNode = path.resolve(import.meta.dirname, '../../node_modules/.bin/vite-node');

/** Requests a debugger sent between its first and last `qC` (the markers both timed runs send around what they measure). */
export function requestsBetweenMarkers(packets: readonly ProxyPacket[]): number {
  return measuredRequests(packets).length;
}

/** The single-step requests (`s`, `vCont;s`) of what a run measured. */
export function stepRequestsBetweenMarkers(packets: readonly ProxyPacket[]): number {
  return measuredRequests(packets).filter((p) => /^\$(s|vCont;s)/.test(p.data)).length;
}

function measuredRequests(packets: readonly ProxyPacket[]): ProxyPacket[] {
  const requests = packets.filter((p) => p.dir === 'c2s' && (p.data.startsWith('$') || p.data === '\x03'));
  const first = requests.findIndex((p) => p.data === '$qC#b4');
  const last = requests.findLastIndex((p) => p.data === '$qC#b4');
  if (first < 0 || last <= first) throw new Error('the run sent no qC markers around what it measured');
  return requests.slice(first + 1, last);
}

/**
 * Where each debugger's runs of the same work ended ("pc ..." texts, one per run): the usual end
 * of both must be the same, or they did not do the same work. QEMU now and then ends a single
 * step without executing the instruction, so a run may end one instruction early: that is noted,
 * not taken for different work.
 */
export function sameWork(ends: { gdb: string[]; duster: string[] }): string {
  const usual = (xs: string[]) => [...new Set(xs)].sort((a, b) => xs.filter((x) => x === b).length - xs.filter((x) => x === a).length)[0];
  if (usual(ends.gdb) !== usual(ends.duster))
    throw new Error(`gdb and duster did not do the same work: gdb ended at ${ends.gdb.join(', ')}; duster at ${ends.duster.join(', ')}`);
  const odd = [...ends.gdb.map((e) => `gdb ${e}`), ...ends.duster.map((e) => `duster ${e}`)].filter(
    (e) => !e.endsWith(` ${usual(ends.gdb)}`),
  );
  return `both end at ${usual(ends.gdb)}${odd.length ? ` (but ${odd.join(', ')})` : ''}`;
}

export interface ProcessRun {
  ms: number;
  /** Peak resident set of the process (GNU time's %M). */
  rssKiB: number;
  stdout: string;
  stderr: string;
  /** Exit status 0 within the time limit. */
  ok: boolean;
}

/** Runs argv under /usr/bin/time without a shell: wall ms, peak RSS and output; a failure is returned, not thrown. */
export function measureProcess(argv: string[], timeoutMs = 300_000): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const child = spawn('/usr/bin/time', ['-f', 'DUSTER-RSS %M', ...argv], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const rss = /DUSTER-RSS (\d+)/.exec(stderr);
      resolve({
        ms: performance.now() - t,
        rssKiB: rss ? Number(rss[1]) : 0,
        stdout,
        stderr: stderr.replace(/^DUSTER-RSS \d+\n?/m, ''),
        ok: code === 0,
      });
    });
  });
}

/** The process's own last words on failure, for a note. */
export function failureLine(r: ProcessRun): string {
  const lines = `${r.stderr}\n${r.stdout}`
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.find((l) => /FATAL ERROR|error|Error/.test(l)) ?? lines.at(-1) ?? 'no output';
}

export interface Row {
  name: string;
  unit: string;
  duster: number;
  reference: number;
  referenceName: string;
  /** duster / reference, or reference / duster for "higher is better" units. */
  ratio: number;
  goal: string;
  notes?: string;
}

export function printTable(rows: Row[]): string {
  const head = ['benchmark', 'duster', 'reference', 'ratio', 'goal'];
  const body = rows.map((r) => [
    r.name,
    `${fmt(r.duster)} ${r.unit}`,
    `${fmt(r.reference)} ${r.unit} (${r.referenceName})`,
    Number.isFinite(r.ratio) ? `${r.ratio.toFixed(2)}x` : '-',
    r.goal,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
    ...rows.filter((r) => r.notes).map((r) => `  ${r.name}: ${r.notes}`),
  ].join('\n');
}

function fmt(n: number): string {
  if (Number.isNaN(n)) return 'failed';
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}
