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
}

export function quirksFor(dialect: StubDialect): StubQuirks {
  switch (dialect) {
    case 'qemu':
      return { dialect, rereportsBreakpointOnContinue: true, swBreakpointPcOffset: 0n, canInterrupt: true, maxMemoryRead: 2048, firstThreadId: 1, hangsUpOnDetach: false, answersCurrentThread: true, detachRemovesBreakpoints: true, acksMayWait: true, pipelines: true };
    case 'gdbsx':
      return { dialect, rereportsBreakpointOnContinue: false, swBreakpointPcOffset: 1n, canInterrupt: false, maxMemoryRead: 2047, firstThreadId: 0, hangsUpOnDetach: true, answersCurrentThread: false, detachRemovesBreakpoints: false, acksMayWait: false, pipelines: false };
    case 'generic':
      return { dialect, rereportsBreakpointOnContinue: true, swBreakpointPcOffset: 0n, canInterrupt: true, maxMemoryRead: 2047, firstThreadId: 1, hangsUpOnDetach: false, answersCurrentThread: undefined, detachRemovesBreakpoints: false, acksMayWait: false, pipelines: true };
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
