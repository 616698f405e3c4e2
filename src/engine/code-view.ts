// Guest code and data as a debugger reads them: instructions decoded in the vCPU's mode (forwards,
// and backwards by re-decoding from further back), the symbol an address belongs to, C strings.
import type { Target } from '../targets/index.js';
import { bitnessFromCpuState, decodeAt, disassemble, type Bitness, type DecodedInstruction } from './disasm.js';
import { EngineError } from './errors.js';
import type { Program } from './program.js';

/** The longest x86 instruction. */
const MAX_INSN = 15;

/** Step ranges whose decoded instructions flowRange keeps. */
const FLOW_CACHE_RANGES = 256;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class CodeView {
  private readonly flowCache = new Map<string, { bytes: Uint8Array; insns: DecodedInstruction[] }>();

  constructor(
    private readonly target: Target,
    /** The innermost registers of a vCPU or of a guest thread's saved context. */
    private readonly registersOf: (thread: number) => Promise<Map<string, bigint>>,
    private readonly program: () => Program | undefined,
  ) {}

  /** The CPU mode of a vCPU decides 16/32/64-bit decoding (a PVH guest starts in 32-bit). */
  async bitness(thread: number): Promise<Bitness> {
    const regs = await this.registersOf(thread);
    const cr0 = regs.get('cr0');
    const efer = regs.get('efer');
    if (cr0 === undefined || efer === undefined) return 64;
    return bitnessFromCpuState({ cr0, efer });
  }

  /** The instructions that start in [start, end), the last one read whole as gdb shows it. */
  async disassembleRange(start: bigint, end: bigint, thread: number): Promise<DecodedInstruction[]> {
    const size = Number(end - start);
    const bytes = await this.target.readMemory(start, size + MAX_INSN, thread).catch(() => this.target.readMemory(start, size, thread));
    return (await disassemble(bytes, start, await this.bitness(thread), { symbolize: this.targetName })).filter((i) => i.address < end);
  }

  /**
   * The instructions that start in [start, end), without their text: what stepping needs (lengths,
   * control flow, direct targets). Decoded once per range and contents: consecutive steps through
   * a loop read the same few ranges again (the read is cheap, with the stop's registers).
   */
  async flowRange(start: bigint, end: bigint, thread: number): Promise<DecodedInstruction[]> {
    const size = Number(end - start);
    const bytes = await this.target.readMemory(start, size + MAX_INSN).catch(() => this.target.readMemory(start, size));
    const bitness = await this.bitness(thread);
    const key = `${start}:${end}:${bitness}`;
    const known = this.flowCache.get(key);
    if (known && sameBytes(known.bytes, bytes)) return known.insns;
    const insns = (await disassemble(bytes, start, bitness, { text: false })).filter((i) => i.address < end);
    if (this.flowCache.size >= FLOW_CACHE_RANGES) this.flowCache.clear();
    this.flowCache.set(key, { bytes, insns });
    return insns;
  }

  /** `count` instructions from `address`; fewer when the code ends in unreadable memory. */
  async disassembleAt(address: bigint, count: number, thread: number): Promise<DecodedInstruction[]> {
    const bitness = await this.bitness(thread);
    const out: DecodedInstruction[] = [];
    let at = address;
    while (out.length < count) {
      const insn = await decodeAt({ readMemory: (a, n) => this.target.readMemory(a, n, thread) }, at, bitness, this.targetName);
      if (!insn) {
        if (out.length === 0) throw new EngineError(`cannot read code at 0x${at.toString(16)}`);
        break;
      }
      out.push(insn);
      at += BigInt(insn.length);
    }
    return out;
  }

  /** The one instruction at `address` decoded in a given mode, when its bytes can be read. */
  instructionAt(address: bigint, bitness: Bitness): Promise<DecodedInstruction | undefined> {
    return decodeAt(this.target, address, bitness, this.targetName);
  }

  /**
   * Up to `n` instructions that end exactly at `base`. x86 cannot be decoded backwards: decode
   * forward from further back until the stream lands on `base` (empty when none does).
   */
  async instructionsBefore(base: bigint, n: number, thread: number): Promise<DecodedInstruction[]> {
    const span = BigInt(n * MAX_INSN);
    for (let shift = 0n; shift < BigInt(MAX_INSN); shift++) {
      const start = base > span + shift ? base - span - shift : 0n;
      let insns: DecodedInstruction[];
      try {
        insns = await this.disassembleRange(start, base, thread);
      } catch {
        // Memory below base's page does not read: no instruction can start there, so decode from the page.
        const page = base & ~0xfffn;
        if (page === base) return [];
        const fromPage = await this.disassembleRange(page, base, thread).catch(() => [] as DecodedInstruction[]);
        return endsAt(fromPage, base) ? fromPage.slice(-n) : [];
      }
      if (endsAt(insns, base)) return insns.slice(-n);
      if (start === 0n) break;
    }
    return [];
  }

  /** ` <func+off>` (or ` <+off>` with `offsetOnly`) for an address gdb names by a symbol, else ''. */
  symbolSuffix(address: bigint, offsetOnly = false): string {
    return symbolSuffix(this.program(), address, offsetOnly);
  }

  /** The ELF function symbol containing an address, with its extent. */
  functionRange(address: bigint): { name: string; low: bigint; high: bigint } | undefined {
    const hit = this.program()?.symbols.symbolAt(address);
    return hit && hit.symbol.size > 0n
      ? { name: hit.symbol.name, low: hit.symbol.address, high: hit.symbol.address + hit.symbol.size }
      : undefined;
  }

  /** A NUL-terminated string of at most `max` bytes as vCPU `thread` sees it, read in small pieces (it may end near a page end). */
  async readCString(address: bigint, max: number, thread?: number): Promise<{ value: string; length: number; truncated: boolean }> {
    const bytes: number[] = [];
    let at = address;
    while (bytes.length < max) {
      const chunk = await this.target.readMemory(at, Math.min(64, max - bytes.length, Number(0x1000n - (at & 0xfffn))), thread);
      const nul = chunk.indexOf(0);
      bytes.push(...(nul < 0 ? chunk : chunk.subarray(0, nul)));
      if (nul >= 0) return { value: Buffer.from(bytes).toString('latin1'), length: bytes.length, truncated: false };
      at += BigInt(chunk.length);
    }
    return { value: Buffer.from(bytes).toString('latin1'), length: bytes.length, truncated: true };
  }

  /** `func+off` for a branch target or RIP-relative operand in disassembly, as gdb annotates it. */
  private readonly targetName = (address: bigint): string | undefined => this.symbolSuffix(address).slice(2, -1) || undefined;
}

function endsAt(insns: DecodedInstruction[], base: bigint): boolean {
  const last = insns.at(-1);
  return last !== undefined && last.address + BigInt(last.length) === base;
}

/** ` <sym+off>` (` <+off>` with `offsetOnly`) for an address gdb names by a symbol (SymbolFile.addressSymbol), else ''. */
function symbolSuffix(program: Program | undefined, address: bigint, offsetOnly = false): string {
  const hit = program?.symbols.addressSymbol(address);
  if (!hit) return '';
  if (offsetOnly) return ` <+${hit.offset}>`;
  return hit.offset ? ` <${hit.symbol.name}+${hit.offset}>` : ` <${hit.symbol.name}>`;
}
