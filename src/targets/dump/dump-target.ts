// The Target interface over a crash dump: registers as the dump recorded them, memory translated
// through the guest's own page tables, and every attempt to run or write refused.
import { EventEmitter } from 'node:events';
import {
  cpuLabel,
  ReadOnlyTargetError,
  TargetError,
  type RegisterInfo,
  type ResumeAction,
  type StopReason,
  type Target,
  type TargetEvents,
  type TargetThread,
} from '../target.js';
import { DumpMemoryError } from './errors.js';
import { PageWalker, type Paging } from './paging.js';
import type { PhysicalMemory } from './physical.js';
import { DUMP_REGISTERS, type VcpuState } from './vcpu.js';

const PAGE = 4096;
const TOP = 1n << 64n;

export interface DumpParts {
  path: string;
  vcpus: readonly VcpuState[];
  /** Guest-physical memory (pseudo-physical for a Xen PV guest). */
  physical: PhysicalMemory;
  /** The address space page-table entries point into: `physical`, or machine memory for Xen PV. */
  tables: PhysicalMemory;
  /** Names the `tables` space in errors. */
  tableSpace: string;
  /** The file is shorter than its headers say: its size and the size they need. */
  truncation?: { size: number; expected: number };
  close(): void;
}

export abstract class DumpTarget extends EventEmitter<TargetEvents> implements Target {
  readonly kind = 'dump';
  readonly running = false;
  readonly registers: readonly RegisterInfo[] = DUMP_REGISTERS;
  readonly path: string;
  /** The paging readMemory translates with: that of the first vCPU with paging on. */
  readonly paging: Paging;
  private readonly vcpus: ReadonlyMap<number, VcpuState>;
  private readonly walker: PageWalker;
  /** Each vCPU's own page tables, for reads that name it (made when first asked). */
  private readonly walkers = new Map<number, PageWalker>();
  private closed = false;

  protected constructor(private readonly parts: DumpParts) {
    super();
    this.path = parts.path;
    this.vcpus = new Map(parts.vcpus.map((v) => [v.id, v]));
    this.paging = parts.vcpus.find((v) => v.paging.kind !== 'off')?.paging ?? { kind: 'off' };
    this.walker = new PageWalker(parts.tables, this.paging, parts.tableSpace);
  }

  /** Set when the file is shorter than its headers say (memory past its end reads as unavailable). */
  get truncation(): { size: number; expected: number } | undefined {
    return this.parts.truncation;
  }

  /** The stop a dump is frozen in, reported on the first vCPU. */
  get stop(): StopReason {
    return { kind: 'dump', thread: this.parts.vcpus[0]!.id };
  }

  async threadIds(): Promise<readonly number[]> {
    return this.parts.vcpus.map((v) => v.id);
  }

  async threads(): Promise<TargetThread[]> {
    // Both formats number vCPUs from 1 in cpu_index order (QEMU's NT_PRSTATUS pid, Xen's context index + 1).
    return this.parts.vcpus.map((v) => ({ id: v.id, cpu: v.id - 1, description: cpuLabel(v.id - 1) }));
  }

  /** In `registers` order, like the live target's. */
  async readRegisters(thread: number): Promise<Map<string, bigint>> {
    const v = this.vcpus.get(thread);
    if (!v) throw new TargetError(`no vCPU with thread id ${thread} in ${this.path}`);
    const out = new Map<string, bigint>();
    for (const { name } of this.registers) {
      const value = v.registers.get(name);
      if (value !== undefined) out.set(name, value);
    }
    return out;
  }

  /** The address `address` maps to in the page tables' address space (machine memory for Xen PV). */
  translate(address: bigint): bigint {
    this.checkOpen();
    return this.walker.translate(address);
  }

  /** The walker of vCPU `thread`'s page tables; the default one for no vCPU, or one with paging off. */
  private walkerOf(thread: number | undefined): PageWalker {
    const paging = thread === undefined ? undefined : this.vcpus.get(thread)?.paging;
    if (!paging || paging.kind === 'off') return this.walker;
    let w = this.walkers.get(thread!);
    if (!w) this.walkers.set(thread!, (w = new PageWalker(this.parts.tables, paging, this.parts.tableSpace)));
    return w;
  }

  async readMemory(address: bigint, size: number, thread?: number): Promise<Uint8Array> {
    this.checkOpen();
    const walker = this.walkerOf(thread);
    if (size <= 0) return new Uint8Array(0);
    if (address < 0n || address + BigInt(size) > TOP)
      throw new DumpMemoryError(address, `${size} bytes run past the top of the address space`);
    const out = new Uint8Array(size);
    for (let done = 0; done < size;) {
      const at = address + BigInt(done);
      const n = Math.min(size - done, PAGE - Number(at & 0xfffn));
      const to = walker.translate(at);
      try {
        out.set(this.parts.tables.read(to, n), done);
      } catch (e) {
        if (!(e instanceof DumpMemoryError)) throw e;
        throw new DumpMemoryError(
          at,
          `it maps to ${this.parts.tableSpace} address 0x${to.toString(16)}, which is not in the dump${this.parts.truncation ? ' (the dump is truncated)' : ''}`,
        );
      }
      done += n;
    }
    return out;
  }

  /** Guest-physical memory, no translation. */
  async readPhysical(address: bigint, size: number): Promise<Uint8Array> {
    this.checkOpen();
    return size <= 0 ? new Uint8Array(0) : this.parts.physical.read(address, size);
  }

  async writeRegister(_thread: number, name: string): Promise<void> {
    throw new ReadOnlyTargetError(`write register ${name}`);
  }

  async writeMemory(address: bigint): Promise<void> {
    throw new ReadOnlyTargetError(`write memory at 0x${address.toString(16)}`);
  }

  async insertBreakpoint(): Promise<void> {
    throw new ReadOnlyTargetError('insert breakpoint');
  }

  async removeBreakpoint(): Promise<void> {
    throw new ReadOnlyTargetError('remove breakpoint');
  }

  async resume(action: ResumeAction): Promise<StopReason> {
    throw new ReadOnlyTargetError(action.kind);
  }

  async interrupt(): Promise<void> {
    throw new ReadOnlyTargetError('interrupt');
  }

  /** Nothing runs on after a dump: detaching just lets go of the file. */
  detach(): Promise<void> {
    return this.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.parts.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new TargetError(`${this.path} is closed`);
  }
}
