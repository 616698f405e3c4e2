// A unikernel recognised from its symbols and read through its description: the OS plugin the
// engine calls for the guest's threads, its kernel log and its panic record.
import type { CrashSite, GuestAccess, GuestOs } from '../engine/guest-os.js';
import type { GuestPanic } from '../engine/stop-event.js';
import { asInteger, formatValue, load } from '../engine/values.js';
import { DESCRIPTIONS, type UnikernelDescription } from './description.js';
import { DescribedThreads } from './threads.js';

/** The OS plugin for the first description whose symbols the image has (the engine's GuestOsDetector). */
export function detectGuestOs(access: GuestAccess): GuestOs | undefined {
  const d = DESCRIPTIONS.find((x) => x.detect.every((s) => access.program.symbols.findSymbol(s).length > 0));
  return d && new DescribedOs(access, d);
}

class DescribedOs implements GuestOs {
  readonly name: string;
  readonly threads: DescribedThreads | undefined;
  readonly crashSites: CrashSite[];

  constructor(
    private readonly access: GuestAccess,
    private readonly d: UnikernelDescription,
  ) {
    this.name = d.name;
    this.threads = d.threads && new DescribedThreads(access, d.threads);
    this.crashSites = (d.crash ?? []).flatMap((c) => {
      // Past the prologue, where gdb's `break` stops and the arguments show (still in registers).
      const address = access.program.symbols.functionEntries(c.function)[0] ?? access.program.symbols.findSymbol(c.function)[0]?.address;
      return address === undefined
        ? []
        : [{ function: c.function, address, meaning: c.meaning, ...(c.when !== undefined && { when: c.when }) }];
    });
  }

  private value(expression: string) {
    return this.access.evaluate(expression);
  }

  /** The last `max` bytes the kernel logged (the ring holds at most its own size). */
  async kernelLog(max = 4096): Promise<string | undefined> {
    if (!this.d.kernelLog) return undefined;
    const { reader } = this.access;
    const buf = await this.value(this.d.kernelLog.buffer);
    const head = await asInteger(reader, await this.value(this.d.kernelLog.head));
    if (buf.place.kind !== 'memory') return undefined;
    const all = await load(reader, buf);
    const size = BigInt(all.length);
    const n = head < size ? head : size;
    const want = n < BigInt(max) ? n : BigInt(max);
    const bytes = new Uint8Array(Number(want));
    for (let i = 0n; i < want; i++) bytes[Number(i)] = all[Number((head - want + i) % size)]!;
    return Buffer.from(bytes).toString('latin1').replace(/\r/g, '');
  }

  async panic(): Promise<GuestPanic | undefined> {
    const p = this.d.panic;
    if (!p) return undefined;
    const { reader, program } = this.access;
    if ((await asInteger(reader, await this.value(p.when))) === 0n) return undefined;
    const cpu = Number(await asInteger(reader, await this.value(p.cpu)));
    const pc = await asInteger(reader, await this.value(p.pc));
    const reason = p.reason ? await formatValue(reader, await this.value(p.reason), {}, false) : undefined;
    const [inner] = program.symbols.symbolize(pc, { gdb: true });
    const instruction = await this.access.instructionAt(pc);
    const log = await this.kernelLog().catch(() => undefined);
    const message = log
      ?.split('\n')
      .filter((l) => l.startsWith('PANIC'))
      .at(-1);
    return {
      cpu,
      pc,
      ...(reason !== undefined && { reason }),
      ...(inner?.function && {
        location: `${inner.function}${inner.file ? ` at ${program.displayFile(inner.file, pc)}:${inner.line}` : ''}`,
      }),
      ...(instruction && { instruction }),
      ...(message && { message }),
    };
  }
}
