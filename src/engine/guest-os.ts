// What the engine asks of the operating system inside the guest (the unikernel), as an interface an
// OS-awareness plugin implements (src/os does, from descriptions), and what the engine gives such a
// plugin to read the guest with. The engine never knows which unikernel it debugs.
import type { MemoryRange } from '../targets/index.js';
import type { Program } from './program.js';
import type { GuestPanic } from './stop-event.js';
import type { Value, ValueReader } from './values.js';

/** One of the guest's own threads. */
export interface GuestThread {
  /** The thread's own address (what the current-thread pointer holds): its identity. */
  address: bigint;
  id: number;
  /** True when the unikernel has no thread ids: `id` is duster's, and the address is how the guest names it. */
  addressed?: boolean;
  name: string;
  state: string;
  /** The vCPU (target thread id) running it now; undefined when it is switched out. */
  vcpu?: number;
  /** The registers it resumes with, when it is switched out and saved them. */
  saved?: Map<string, bigint>;
}

export interface GuestThreadList {
  threads: GuestThread[];
  /** Why the walk ended early (a cycle, an unreadable thread): what was read is still listed. */
  error?: string;
  /**
   * The model's expressions do not fit this image (another version of the unikernel: a member or
   * symbol it names is not there), as opposed to memory that cannot be read now.
   */
  unfit?: boolean;
}

/** A thread's name as shown: with its address when that is how the unikernel names threads. */
export function guestThreadTitle(t: { name: string; address: bigint; addressed?: boolean }): string {
  return t.addressed ? `${t.name} 0x${t.address.toString(16)}` : t.name;
}

/** The guest's thread model. */
export interface GuestThreadModel {
  /** Walks the thread list; a cycle or an unreadable pointer ends the walk with an error naming it. */
  list(): Promise<GuestThreadList>;
  /** The guest thread a vCPU runs now (its address), or undefined when it runs none (early boot, garbage). */
  currentOn(vcpu: number): Promise<bigint | undefined>;
  /** Where a vCPU's current-thread pointer is in memory (read along with a stop's registers). */
  currentLocation(vcpu: number): Promise<MemoryRange | undefined>;
  /** True for a function of the scheduler's switch path (where every switched-out thread waits). */
  inScheduler(fn: string | undefined): boolean;
}

/** A function the guest calls only when it crashes: duster stops there as at a guest panic. */
export interface CrashSite {
  function: string;
  /** Where duster stops in it: past its prologue, with the arguments still in their registers. */
  address: bigint;
  /** C expression over the vCPU's registers there: the call is a crash only when it is true. */
  when?: string;
  /** What the call means, for the panic message ("ukplat_terminate(UKPLAT_CRASH)"). */
  meaning: string;
}

export interface GuestOs {
  /** The unikernel's name ("duster reference unikernel", "Unikraft"). */
  readonly name: string;
  readonly threads?: GuestThreadModel;
  /** Where the guest goes when it crashes, for guests that have no pvpanic device to say so. */
  readonly crashSites?: readonly CrashSite[];
  /** The guest's record of its panic, when it panicked and keeps one. */
  panic(): Promise<GuestPanic | undefined>;
  /** The last `max` bytes of the guest's in-memory kernel log, when it keeps one. */
  kernelLog(max?: number): Promise<string | undefined>;
}

/** What a plugin reads the guest with: expressions over the image's globals, memory, vCPUs, code. */
export interface GuestAccess {
  readonly program: Program;
  readonly reader: ValueReader;
  /** A C expression over globals, with a vCPU's registers for `$reg` and `$name` variables. */
  evaluate(expression: string, opts?: { vcpu?: number; vars?: Map<string, Value> }): Promise<Value>;
  vcpus(): Promise<readonly number[]>;
  readCString(address: bigint, max: number): Promise<string>;
  /** The instruction at an address as gdb prints it, when it can be read. */
  instructionAt(address: bigint): Promise<string | undefined>;
}

/** Turns a loaded image into its OS plugin, when the plugin recognises the image. */
export type GuestOsDetector = (access: GuestAccess) => GuestOs | undefined;
