// QEMU's monitor (through qRcmd) tells what its gdbstub does not: the hidden part of the segment
// registers. `info registers -a` prints every vCPU as a `CPU#INDEX` block in which
// `CS =SELECTOR BASE LIMIT FLAGS` gives the code segment's base (0xffff0000 at reset, where the
// selector alone would say 0xf0000).
import { RspMalformedError } from './errors.js';

export const QEMU_ALL_REGISTERS = 'info registers -a';

/** The code segment base of each vCPU, by QEMU's cpu_index. */
export function parseCodeSegmentBases(text: string): Map<number, bigint> {
  const out = new Map<number, bigint>();
  for (const block of text.split(/^(?=CPU#\d+\s*$)/m)) {
    const cpu = /^CPU#(\d+)/.exec(block)?.[1];
    const cs = /^CS\s*=[0-9a-f]{4} ([0-9a-f]{8,16}) /m.exec(block)?.[1];
    if (cpu !== undefined && cs !== undefined) out.set(Number(cpu), BigInt(`0x${cs}`));
  }
  if (!out.size) throw new RspMalformedError(`'${QEMU_ALL_REGISTERS}' printed no CPU#N block with a CS line`);
  return out;
}
