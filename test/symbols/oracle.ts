// Shared by the symbols tests: the fixture builds and the reference tools' answers.
import { execFile, execFileSync } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { SourceFrame, SymbolFile } from '../../symbols/index.js';

export const root = path.resolve(import.meta.dirname, '../..');
export const build = (variant: string) => path.join(root, 'fixtures/unikernel/build', variant, 'kernel.elf');

export function buildFixtures(): void {
  execFileSync('make', ['-s', '-C', path.join(root, 'fixtures/unikernel')], { stdio: 'ignore' });
}

export function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * gdb -batch with each command's output separated (by an echoed marker). Asynchronous: gdb takes
 * tens of seconds on vmlinux, and a test worker blocked that long misses vitest's own RPC deadline.
 */
export async function gdbEach(elf: string, commands: string[]): Promise<string[]> {
  const args = ['-batch', '-nx', elf];
  for (const c of commands) args.push('-ex', c, '-ex', 'echo @@\\n');
  const { stdout } = await promisify(execFile)('gdb', args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  return stdout.split('@@\n').slice(0, commands.length);
}

/** Frames as `addr2line -f -i` prints them (the innermost row's discriminator on every frame). */
export function addr2lineText(frames: SourceFrame[]): string {
  if (frames.length === 0) return '??\n??:0';
  const disc = frames[0]!.discriminator;
  return frames
    .map((f) => `${f.function ?? '??'}\n${f.file ?? '??'}:${f.line || '?'}${f.line && disc ? ` (discriminator ${disc})` : ''}`)
    .join('\n');
}

/**
 * Every `step`-th .text address that has a DWARF function (only code compiled by the test: for crt
 * code addr2line names files from STT_FILE symbols), as duster and `addr2line -f -i` print it.
 */
export function againstAddr2line(sf: SymbolFile, elf: string, step: bigint): { count: number; mine: string; theirs: string } {
  const text = sf.elf.section('.text')!;
  const addrs: string[] = [];
  for (let a = text.addr; a < text.addr + BigInt(text.size); a += step) if (sf.functionAt(a)) addrs.push('0x' + a.toString(16));
  const theirs = run('addr2line', ['-f', '-i', '-e', elf, ...addrs]).trimEnd();
  return { count: addrs.length, mine: addrs.map((a) => addr2lineText(sf.symbolize(BigInt(a)))).join('\n'), theirs };
}
