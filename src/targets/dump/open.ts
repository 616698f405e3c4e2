// Opening a crash dump: which format a file is (QEMU ELF core, Xen dump-core, or not a dump) and
// one clear line when it is neither or is damaged.
import { closeSync, openSync, readSync } from 'node:fs';
import { ElfFile, ET } from '../../../symbols/elf/index.js';
import { FormatError } from '../../../symbols/reader.js';
import { TargetError } from '../target.js';
import type { DumpTarget } from './dump-target.js';
import { DumpFormatError } from './errors.js';
import { QemuCoreTarget } from './qemu-core.js';
import { XenCoreTarget } from './xen-core.js';

const EM_X86_64 = 62;
const ELF64_HEADER = 64;

export async function openDump(path: string): Promise<DumpTarget> {
  const fail = (why: string): never => {
    throw new DumpFormatError(path, why);
  };
  sniff(path, fail);
  const elf = await ElfFile.open(path).catch((e: unknown) => {
    throw e instanceof FormatError ? new DumpFormatError(path, `damaged or truncated ELF file (${e.message})`) : e;
  });
  try {
    // Xen's section headers are its map of the file: unreadable ones leave nothing to read around.
    // QEMU's cores are read by their program headers (a cut file loses its sections first).
    const damage = elf.damage.found[0];
    if (damage && elf.programHeaders.length === 0) fail(`damaged or truncated ELF file (${damage.message})`);
    if (elf.type !== ET.CORE) fail(`an ELF file but not a core dump (e_type ${elf.type})`);
    if (elf.machine !== EM_X86_64) fail(`a core dump for machine ${elf.machine}, not x86_64`);
    // Xen's dump-core has sections and no program headers; QEMU's has PT_LOADs.
    if (elf.programHeaders.length === 0 && elf.section('.note.Xen')) return XenCoreTarget.fromElf(elf, fail);
    return QemuCoreTarget.fromElf(elf, fail);
  } catch (e) {
    elf.close();
    throw e instanceof FormatError ? new DumpFormatError(path, e.message) : e;
  }
}

/** Tells "not a dump at all" apart from a damaged one before the ELF reader has its say. */
function sniff(path: string, fail: (why: string) => never): void {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new TargetError(`cannot open ${path}: ${(e as Error).message}`);
  }
  const head = new Uint8Array(ELF64_HEADER);
  let n: number;
  try {
    n = readSync(fd, head, 0, ELF64_HEADER, 0);
  } finally {
    closeSync(fd);
  }
  if (n < 4 || head[0] !== 0x7f || head[1] !== 0x45 || head[2] !== 0x4c || head[3] !== 0x46) fail('not a crash dump (not an ELF file)');
  if (head[4] !== 2) fail('not a crash dump (a 32-bit ELF file; QEMU and Xen write ELF64 cores)');
  if (n < ELF64_HEADER) fail(`truncated: ${n} bytes, shorter than an ELF64 header`);
}
