/**
 * Everything that differs between the stubs we talk to, in one place. The engine reads these flags
 * instead of asking which stub it is talking to.
 */
export type StubDialect = 'qemu' | 'gdbsx' | 'generic';

export interface StubQuirks {
  dialect: StubDialect;
  /**
   * Continuing from a PC where a breakpoint is inserted reports that breakpoint again at once
   * (QEMU): the engine must single-step the vCPU off it (breakpoint removed) before continuing.
   */
  rereportsBreakpointOnContinue: boolean;
  /** After a software breakpoint trap the stub reports PC = breakpoint + this (gdbsx: 1). */
  swBreakpointPcOffset: bigint;
  /** 0x03 stops a running target (gdbsx cannot: the domain must be paused from dom0). */
  canInterrupt: boolean;
  /** Largest `m` the stub serves in one packet. */
  maxMemoryRead: number;
  /** Thread id of the first vCPU (QEMU: cpu_index + 1; gdbsx: vCPU id). */
  firstThreadId: number;
  /** Acknowledges `D`, then closes the connection without answering it (gdbsx). */
  hangsUpOnDetach: boolean;
  /** Answers `qC` (the resync probe): true, false, or undefined when negotiation must ask. */
  answersCurrentThread: boolean | undefined;
  /** `D` removes every breakpoint and watchpoint it holds (QEMU), so none need removing first. */
  detachRemovesBreakpoints: boolean;
  /**
   * Takes the next packet without waiting for the ack of its last reply (QEMU: a new packet drops
   * that reply), so acks can wait until the guest stops: requests may then go out just ahead of a
   * resume, whose run an ack arriving would end (any byte stops a running QEMU).
   */
  acksMayWait: boolean;
  /** Takes requests sent back to back (gdbsx does not: one request at a time). */
  pipelines: boolean;
  /**
   * Sends the x87 registers R0-R7 in physical order as st0-st7 (QEMU 7.2), where the protocol, and
   * gdb, mean the stack ST(0)-ST(7): ST(i) is R((TOP + i) mod 8), TOP in bits 11-13 of fstat.
   */
  x87PhysicalOrder: boolean;
}

export function quirksFor(dialect: StubDialect): StubQuirks {
  switch (dialect) {
    case 'qemu':
      return {
        dialect,
        rereportsBreakpointOnContinue: true,
        swBreakpointPcOffset: 0n,
        canInterrupt: true,
        maxMemoryRead: 2048,
        firstThreadId: 1,
        hangsUpOnDetach: false,
        answersCurrentThread: true,
        detachRemovesBreakpoints: true,
        acksMayWait: true,
        pipelines: true,
        x87PhysicalOrder: true,
      };
    case 'gdbsx':
      return {
        dialect,
        rereportsBreakpointOnContinue: false,
        swBreakpointPcOffset: 1n,
        canInterrupt: false,
        maxMemoryRead: 2047,
        firstThreadId: 0,
        hangsUpOnDetach: true,
        answersCurrentThread: false,
        detachRemovesBreakpoints: false,
        acksMayWait: false,
        pipelines: false,
        x87PhysicalOrder: false,
      };
    case 'generic':
      return {
        dialect,
        rereportsBreakpointOnContinue: true,
        swBreakpointPcOffset: 0n,
        canInterrupt: true,
        maxMemoryRead: 2047,
        firstThreadId: 1,
        hangsUpOnDetach: false,
        answersCurrentThread: undefined,
        detachRemovesBreakpoints: false,
        acksMayWait: false,
        pipelines: true,
        x87PhysicalOrder: false,
      };
  }
}

/**
 * Picks the dialect from what negotiation saw: gdbsx answers qSupported with nothing, QEMU answers
 * its own `qqemu.sstep` query.
 */
export function detectDialect(qSupportedReply: string, qemuSstepReply: string): StubDialect {
  if (qSupportedReply === '') return 'gdbsx';
  if (qemuSstepReply !== '') return 'qemu';
  return 'generic';
}

/** The breakpoint address a reported PC stands for after a software breakpoint trap. */
export function breakpointAddressForPc(quirks: StubQuirks, pc: bigint): bigint {
  return pc - quirks.swBreakpointPcOffset;
}

/** x87 stack slot of register `name` (st0-st7), with the TOP of `fstat`: the physical register name. */
export function x87PhysicalName(name: string, fstat: bigint): string {
  const m = /^st([0-7])$/.exec(name);
  if (!m) return name;
  const top = Number((fstat >> 11n) & 7n);
  return `st${(top + Number(m[1])) & 7}`;
}

/** Registers as the protocol means them: ST(i) in st<i>, from a stub that sends R0-R7. */
export function x87StackOrder(values: Map<string, bigint>): Map<string, bigint> {
  const fstat = values.get('fstat');
  if (fstat === undefined || ((fstat >> 11n) & 7n) === 0n) return values;
  const physical = Array.from({ length: 8 }, (_, i) => values.get(`st${i}`));
  const out = new Map(values);
  for (let i = 0; i < 8; i++) {
    const v = physical[Number(x87PhysicalName(`st${i}`, fstat).slice(2))];
    if (v !== undefined) out.set(`st${i}`, v);
  }
  return out;
}
