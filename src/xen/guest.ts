// What the domain's own image tells: the word size gdbsx must be given and the default symbols.
import { closeSync, openSync, readSync } from 'node:fs';
import { XenError } from './errors.js';
import type { DomainConfig } from './xl.js';

/** ELF class of `file` (1: 32-bit, 2: 64-bit), or undefined when it is unreadable or not an ELF. */
function elfClass(file: string): number | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const head = Buffer.alloc(5);
    if (readSync(fd, head, 0, 5, 0) < 5 || head.readUInt32BE(0) !== 0x7f454c46) return undefined;
    return head[4];
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * The bitness for `gdbsx -a`. Xen hands gdbsx a 64-bit vCPU context for HVM and PVH guests whatever
 * mode they run in; only a PV guest's context is as wide as its kernel.
 */
export function gdbsxBitness(config: DomainConfig): 64 {
  if (config.type === 'pv' && config.kernel && elfClass(config.kernel) === 1) {
    throw new XenError(`${config.kernel} is a 32-bit PV kernel: duster reads gdbsx's x86_64 register layout only`);
  }
  return 64;
}

/** The kernel image xl booted, when it is an ELF readable here (symbols default to it). */
export function kernelSymbols(config: DomainConfig): string | undefined {
  return config.kernel && elfClass(config.kernel) !== undefined ? config.kernel : undefined;
}
