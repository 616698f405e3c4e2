// Crash dumps as read-only Targets.
//
//   openDump(path): Promise<DumpTarget>    QEMU dump-guest-memory ELF core or Xen `xl dump-core`, detected
//   DumpTarget                              Target + readPhysical(addr, size), translate(vaddr), paging, stop
//     QemuCoreTarget, XenCoreTarget (.pv, .xenVersion)
// Unreadable memory throws DumpMemoryError (a TargetError naming the address); a file that is not a
// dump or is damaged throws DumpFormatError; running or writing throws ReadOnlyTargetError.
export { DumpTarget } from './dump-target.js';
export { DumpFormatError, DumpMemoryError } from './errors.js';
export { openDump } from './open.js';
export type { Paging } from './paging.js';
export { QemuCoreTarget } from './qemu-core.js';
export { XenCoreTarget } from './xen-core.js';
