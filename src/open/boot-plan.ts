// Which file QEMU boots and which one gives the symbols, from what the user named: Unikraft (like
// other unikernels built with objcopy) ships a bootable stripped image `APP` (multiboot ELF32) with
// its symbols beside it in `APP.dbg` (ELF64, no PVH note, which QEMU's -kernel refuses). So the
// `.dbg` beside an image is its symbols, an image named by its `.dbg` boots the file beside it,
// and `--symbols` always wins. A symbol file that does not match the image is refused: its
// addresses would describe some other program.
import { existsSync } from 'node:fs';
import { bootEntry, ElfFile } from '../../symbols/elf/index.js';
import type { SessionWarning } from '../engine/warnings.js';

interface BootPlan {
  /** The file QEMU's -kernel gets. */
  boot: string;
  /** The ELF symbols are read from, when there is one worth reading. */
  symbols?: string;
  /** What the user should know (no debug info anywhere: instruction-level debugging only). */
  warnings: SessionWarning[];
}

const PT_LOAD = 1;
const PF_W = 2;
const DEBUG_SUFFIX = '.dbg';

export async function planBoot(image: string, symbols?: string): Promise<BootPlan> {
  const warnings: SessionWarning[] = [];
  let boot = image;
  if (symbols === undefined) {
    if (existsSync(image + DEBUG_SUFFIX)) symbols = image + DEBUG_SUFFIX;
    else if (image.endsWith(DEBUG_SUFFIX) && existsSync(image.slice(0, -DEBUG_SUFFIX.length)) && !(await qemuBoots(image))) {
      boot = image.slice(0, -DEBUG_SUFFIX.length);
      symbols = image;
    } else symbols = image;
    // Only a pair found by name is compared: a --symbols file may legitimately hold no code
    // (objcopy --only-keep-debug), and the user named it.
    if (symbols !== boot) await checkMatch(boot, symbols);
  }
  if (!(await hasDebugInfo(symbols))) {
    warnings.push({
      kind: 'no-debug-info',
      symbols,
      message: `${symbols} has no debug info and no ${image}${DEBUG_SUFFIX} is beside it: debugging at the instruction level (give the ELF with debug info with --symbols, or the DAP launch's "symbols")`,
    });
  }
  return { boot, symbols, warnings };
}

/** QEMU's -kernel boots a multiboot or PVH ELF; an ELF64 with neither is refused ("no PVH ELF Note"). */
async function qemuBoots(file: string): Promise<boolean> {
  return withElf(file, (elf) => !elf.is64 || bootEntry(elf).protocol !== 'elf');
}

async function hasDebugInfo(file: string): Promise<boolean> {
  return withElf(file, (elf) => elf.section('.debug_info') !== undefined || elf.section('.symtab') !== undefined).catch(() => false);
}

/**
 * Refuses a symbol file whose loaded contents differ from the image's: every byte a read-only
 * loadable segment (code, constants) of the image puts in memory must be the same in the symbol
 * file at the same address. Writable data is left out: build steps patch it after linking
 * (Unikraft fills `.uk_bootinfo` in the image only).
 */
async function checkMatch(image: string, symbols: string): Promise<void> {
  const img = await ElfFile.open(image);
  try {
    const sym = await ElfFile.open(symbols);
    try {
      for (const seg of img.programHeaders.filter((p) => p.type === PT_LOAD && !(p.flags & PF_W) && p.filesz > 0)) {
        const other = sym.programHeaders.find(
          (p) => p.type === PT_LOAD && p.vaddr <= seg.vaddr && seg.vaddr + BigInt(seg.filesz) <= p.vaddr + BigInt(p.filesz),
        );
        const same =
          other &&
          Buffer.from(img.readAt(seg.offset, seg.filesz)).equals(
            Buffer.from(sym.readAt(other.offset + Number(seg.vaddr - other.vaddr), seg.filesz)),
          );
        if (!same)
          throw new Error(
            `${symbols} does not match ${image}: their contents at 0x${seg.vaddr.toString(16)} differ (give the symbols this image was built with)`,
          );
      }
    } finally {
      sym.close();
    }
  } finally {
    img.close();
  }
}

async function withElf<T>(file: string, use: (elf: ElfFile) => T): Promise<T> {
  const elf = await ElfFile.open(file);
  try {
    return use(elf);
  } finally {
    elf.close();
  }
}
