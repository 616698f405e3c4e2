// A slightly different build of the reference unikernel (gcc-O0): the fixture's sources copied to
// a directory of the test's, one line of boot.S changed (a nop before the first `movl %eax, %cr4`),
// built with the fixture's Makefile; optionally linked without a build ID note.
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fixtures } from './dump-guest.js';

const LDFLAGS_NO_ID = '-m elf_x86_64 -nostdlib -static -z max-page-size=0x1000 -z noexecstack --build-id=none -T linker.ld';

/** Builds the gcc-O0 kernel from a copy of the fixture in `dir` with `edit` applied to boot.S; returns the ELF. */
export function buildCopy(dir: string, edit: (boot: string) => string, opts: { noBuildId?: boolean } = {}): string {
  cpSync(path.join(fixtures, 'src'), path.join(dir, 'src'), { recursive: true });
  for (const f of ['Makefile', 'linker.ld']) cpSync(path.join(fixtures, f), path.join(dir, f));
  const boot = path.join(dir, 'src/boot.S');
  writeFileSync(boot, edit(readFileSync(boot, 'utf8')));
  execFileSync('make', ['-s', '-C', dir, 'build/gcc-O0/kernel.elf', ...(opts.noBuildId ? [`LDFLAGS=${LDFLAGS_NO_ID}`] : [])]);
  return path.join(dir, 'build/gcc-O0/kernel.elf');
}

/** The one changed line. */
export function changeOneLine(boot: string): string {
  const changed = boot.replace('\tmovl %eax, %cr4\n', '\tnop; movl %eax, %cr4\n');
  if (changed === boot) throw new Error('boot.S no longer has the line the wrong build changes');
  return changed;
}

/** The build ID `readelf -n` prints for an ELF (the oracle), or undefined. */
export function readelfBuildId(elf: string): string | undefined {
  return /Build ID: ([0-9a-f]+)/.exec(execFileSync('readelf', ['-n', elf], { encoding: 'utf8' }))?.[1];
}
