// Row 1: symbolize 10,000 code addresses of Debian's vmlinux (linux-image-amd64-dbg), duster beside
// addr2line and llvm-symbolizer: time (wall and CPU), peak RSS and agreement with llvm-symbolizer on
// the innermost function and file:line. vmlinux comes from the cache test/support/vmlinux.ts keeps;
// it is read once before the timed runs so that none of them pays for the disk.
import { execFileSync, spawn } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import path from 'node:path';
import { vmlinux } from '../../support/vmlinux.js';
import type { Row } from '../harness.js';

const duster = path.resolve(import.meta.dirname, '../../../bin/duster.js');
const COUNT = Number(process.env.DUSTER_BENCH_ADDRESSES ?? 10_000);

/** The image's code symbols: name -> their addresses (several names may share one: aliases). */
function codeSymbols(elf: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const f of execFileSync('nm', ['--defined-only', elf], { encoding: 'utf8', maxBuffer: 256 << 20 })
    .split('\n')
    .map((l) => l.split(' '))) {
    if (f.length !== 3 || !/^[TtWw]$/.test(f[1]!)) continue;
    const at = out.get(f[2]!) ?? new Set<string>();
    at.add(f[0]!);
    out.set(f[2]!, at);
  }
  return out;
}

/** Deterministic random addresses inside sized function symbols. */
function addresses(elf: string): string[] {
  const funcs = execFileSync('nm', ['-S', '--defined-only', elf], { encoding: 'utf8', maxBuffer: 256 << 20 })
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f.length === 4 && /^[Tt]$/.test(f[2]!))
    .map((f) => [BigInt(`0x${f[0]}`), BigInt(`0x${f[1]}`)] as const)
    .filter(([, size]) => size > 0n);
  let s = 0x9e3779b9;
  const next = () => ((s = (s * 1103515245 + 12345) >>> 0), s);
  return Array.from({ length: COUNT }, () => {
    const [a, size] = funcs[next() % funcs.length]!;
    return `0x${(a + (BigInt(next()) % size)).toString(16)}`;
  });
}

/** Innermost "function file:line" per address from `-a -f -i` output (GNU style). */
function innermost(text: string): Map<string, { fn: string; where: string }> {
  const out = new Map<string, { fn: string; where: string }>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/^0x[0-9a-f]+$/.test(lines[i]!)) continue;
    const addr = `0x${BigInt(lines[i]!).toString(16)}`;
    // llvm-symbolizer names GCC's clones by their ELF symbol (`f.cold`, `f.isra.0`) where addr2line,
    // gdb and duster print the DWARF name `f`; and it writes an unknown line as `??:0`, not `??:?`.
    const fn = (lines[i + 1] ?? '').replace(/\.(cold|isra\.\d+|part\.\d+|constprop\.\d+)(\.\w+)*$/, '');
    const where = (lines[i + 2] ?? '')
      .replace(/ \(discriminator \d+\)$/, '')
      .replace(/:(\d+):\d+$/, ':$1')
      .replace(/^\?\?:0$/, '??:?');
    out.set(addr, { fn, where });
  }
  return out;
}

/**
 * The same frame, or the same place named by another ELF symbol at the same address: llvm-symbolizer
 * names the outermost frame from the symbol table, and where aliases share an address (the
 * kernel's __x64_sys_X for __do_sys_X, functions gcc's identical-code folding merged) it may take
 * another one than the DWARF name addr2line and duster print.
 */
function sameFrame(
  a: { fn: string; where: string } | undefined,
  b: { fn: string; where: string },
  symbols: Map<string, Set<string>>,
  aliases: boolean,
): boolean {
  if (!a || a.where !== b.where) return false;
  if (a.fn === b.fn) return true;
  const at = symbols.get(a.fn);
  return aliases && at !== undefined && [...(symbols.get(b.fn) ?? [])].some((x) => at.has(x));
}

/** Reads the whole file once, so that the first tool timed does not pay for the disk. */
async function warm(file: string): Promise<void> {
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) void chunk;
}

/** Runs argv under GNU time with `input` on stdin (no shell): wall ms, CPU (user + system) ms, peak RSS, stdout. */
function measured(argv: string[], input: string): Promise<{ ms: number; cpuMs: number; rssKiB: number; out: string }> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const child = spawn('/usr/bin/time', ['-f', 'DUSTER-RSS %M %U %S', ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${argv[0]} exited ${code}: ${err.slice(-300)}`));
      const [, rss, user, sys] = /DUSTER-RSS (\d+) ([\d.]+) ([\d.]+)/.exec(err) ?? [];
      resolve({
        ms: performance.now() - t,
        cpuMs: 1000 * (Number(user) + Number(sys)),
        rssKiB: Number(rss ?? 0),
        out: Buffer.concat(out).toString(),
      });
    });
    child.stdin.end(input);
  });
}

export async function vmlinuxRows(): Promise<Row[]> {
  if (!existsSync('/usr/bin/time')) throw new Error('/usr/bin/time is needed for peak RSS');
  const elf = vmlinux();
  const input = addresses(elf).join('\n') + '\n';
  const symbols = codeSymbols(elf);
  await warm(elf);
  const d = await measured(['node', duster, 'symbolize', '-e', elf, '-a', '-f', '-i'], input);
  const a = await measured(['addr2line', '-e', elf, '-a', '-f', '-i'], input);
  const l = await measured(['llvm-symbolizer', `--obj=${elf}`, '--output-style=GNU', '-a', '-f', '-i'], input);
  const ref = innermost(l.out);
  const mine = innermost(d.out);
  let same = 0;
  let exact = 0;
  for (const [addr, v] of ref) {
    if (sameFrame(mine.get(addr), v, symbols, true)) same++;
    if (sameFrame(mine.get(addr), v, symbols, false)) exact++;
  }
  const pct = (n: number) => `${((100 * n) / ref.size).toFixed(2)}%`;
  return [
    {
      name: `symbolize ${COUNT} vmlinux addresses`,
      unit: 'ms',
      duster: d.ms,
      reference: l.ms,
      referenceName: 'llvm-symbolizer',
      ratio: d.ms / l.ms,
      goal: 'faster than llvm-symbolizer, >= 99.9% agreement',
      notes:
        `addr2line ${a.ms.toFixed(0)} ms; CPU duster ${d.cpuMs.toFixed(0)} ms, llvm-symbolizer ${l.cpuMs.toFixed(0)} ms, addr2line ${a.cpuMs.toFixed(0)} ms; ` +
        `peak RSS duster ${(d.rssKiB / 1024).toFixed(0)} MiB, llvm-symbolizer ${(l.rssKiB / 1024).toFixed(0)} MiB, addr2line ${(a.rssKiB / 1024).toFixed(0)} MiB; ` +
        `innermost frame agrees with llvm-symbolizer on ${same}/${ref.size} (${pct(same)}; ${pct(exact)} without counting symbol aliases)`,
    },
  ];
}
