// "Stop on entry" for a guest QEMU holds at the reset vector: what a user means is the image's own
// first instruction (where the boot protocol enters the kernel), not the firmware's. A temporary
// hardware breakpoint there, then continue: a hardware one because the firmware writes the image
// into memory only after the breakpoint is set.
import { bootEntry, ElfFile, type BootEntry } from '../../symbols/elf/index.js';
import type { Session } from './session.js';
import type { StopEvent } from './stop-event.js';

/** Where the boot loader enters the ELF kernel `image` (see symbols/elf/boot-entry.ts). */
async function imageEntry(image: string): Promise<BootEntry> {
  const elf = await ElfFile.open(image);
  try {
    return bootEntry(elf);
  } finally {
    elf.close();
  }
}

/** Runs the guest to the entry point of the image it boots; the stop is reported as an entry stop there. */
export async function runToImageEntry(session: Session, image: string): Promise<StopEvent> {
  return session.runToEntry((await imageEntry(image)).address);
}
