// x86 disassembly with iced-x86, in the AT&T syntax gdb and objdump print. The bitness comes from
// the CPU mode at the stop (a PVH kernel starts in 32-bit protected mode), not from the ELF class.
import { createRequire } from 'node:module';
// iced-x86 is WebAssembly behind a large CommonJS wrapper: loaded on the first disassembly, and
// with require(), which skips the export scan an ESM import of CommonJS costs (~0.1 s).
type Iced = typeof import('iced-x86');
let iced: Iced | undefined;
async function loadIced(): Promise<Iced> {
  iced ??= createRequire(import.meta.url)('iced-x86') as Iced;
  return iced;
}

export type Bitness = 16 | 32 | 64;

export type FlowKind = 'next' | 'branch' | 'conditionalBranch' | 'indirectBranch' | 'call' | 'indirectCall' | 'return' | 'interrupt' | 'other';

export interface DecodedInstruction {
  address: bigint;
  length: number;
  bytes: Uint8Array;
  /** AT&T text, e.g. `mov %rsp,%rbp`, with branch targets annotated by `symbolize`. */
  text: string;
  flow: FlowKind;
  /** Direct branch or call target. */
  target?: bigint;
  invalid: boolean;
}

function flowKinds({ FlowControl }: Iced): Record<number, FlowKind> {
  return {
    [FlowControl.Next]: 'next',
    [FlowControl.UnconditionalBranch]: 'branch',
    [FlowControl.ConditionalBranch]: 'conditionalBranch',
    [FlowControl.IndirectBranch]: 'indirectBranch',
    [FlowControl.Call]: 'call',
    [FlowControl.IndirectCall]: 'indirectCall',
    [FlowControl.Return]: 'return',
    [FlowControl.Interrupt]: 'interrupt',
  };
}

let formatter: InstanceType<Iced['Formatter']> | undefined;

function gasFormatter({ Formatter, FormatterSyntax }: Iced): InstanceType<Iced['Formatter']> {
  if (!formatter) {
    formatter = new Formatter(FormatterSyntax.Gas);
    formatter.uppercaseHex = false;
    formatter.branchLeadingZeros = false;
  }
  return formatter;
}

/**
 * Decodes up to `maxCount` instructions from `bytes`, which start at `address`. A truncated last
 * instruction is dropped, not shown as garbage. `symbolize` turns a direct target into `<func+off>`.
 */
export async function disassemble(
  bytes: Uint8Array,
  address: bigint,
  bitness: Bitness,
  opts: { maxCount?: number; symbolize?: (addr: bigint) => string | undefined } = {},
): Promise<DecodedInstruction[]> {
  const lib = await loadIced();
  const { Decoder, DecoderOptions, Instruction } = lib;
  const FLOW = flowKinds(lib);
  const decoder = new Decoder(bitness, bytes, DecoderOptions.None);
  const insn = new Instruction();
  const out: DecodedInstruction[] = [];
  const max = opts.maxCount ?? Infinity;
  try {
    decoder.ip = address;
    let offset = 0;
    while (decoder.canDecode && out.length < max) {
      decoder.decodeOut(insn);
      const length = insn.length;
      if (insn.isInvalid && offset + 15 > bytes.length && offset + length >= bytes.length) break;
      const flow = FLOW[insn.flowControl] ?? 'other';
      const direct = flow === 'call' || flow === 'branch' || flow === 'conditionalBranch';
      const target = direct ? insn.nearBranchTarget : undefined;
      let text = insn.isInvalid ? '(bad)' : gasFormatter(lib).format(insn);
      if (target !== undefined) {
        const sym = opts.symbolize?.(target);
        if (sym) text += ` <${sym}>`;
      }
      out.push({ address: insn.ip, length, bytes: bytes.subarray(offset, offset + length), text, flow, target, invalid: insn.isInvalid });
      offset += length;
    }
  } finally {
    insn.free();
    decoder.free();
  }
  return out;
}

/** CPU mode from control registers and the code segment: long mode needs EFER.LMA and CS.L. */
export function bitnessFromCpuState(state: { cr0: bigint; efer: bigint; csLong?: boolean; csDefault32?: boolean }): Bitness {
  const protectedMode = (state.cr0 & 1n) !== 0n;
  if (!protectedMode) return 16;
  const lma = (state.efer & (1n << 10n)) !== 0n;
  if (lma && state.csLong !== false) return 64;
  return state.csDefault32 === false ? 16 : 32;
}

/** Reads and decodes the one instruction at `address` (undefined when its bytes are unreadable). */
export async function decodeAt(mem: { readMemory(address: bigint, size: number): Promise<Uint8Array> }, address: bigint, bitness: Bitness): Promise<DecodedInstruction | undefined> {
  // 15 bytes is the longest x86 instruction; near a page end read only what that page holds.
  const toPageEnd = Number(0x1000n - (address & 0xfffn));
  for (const size of toPageEnd < 15 ? [15, toPageEnd] : [15]) {
    try {
      const [insn] = await disassemble(await mem.readMemory(address, size), address, bitness, { maxCount: 1 });
      if (insn) return insn;
    } catch {
      // try the shorter read
    }
  }
  return undefined;
}
