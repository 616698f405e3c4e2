// x86 disassembly with iced-x86, in the AT&T syntax gdb and objdump print. The bitness comes from
// the CPU mode at the stop (a PVH kernel starts in 32-bit protected mode), not from the ELF class.
import { createRequire } from 'node:module';
// iced-x86 is WebAssembly behind a large CommonJS wrapper: loaded on the first disassembly, and
// with require(), which skips the export scan an ESM import of CommonJS costs (~0.1 s). In the
// CLI's CommonJS bundle (scripts/bundle.mjs) `require` is defined and the bundler takes the
// wrapper in, so it comes from the bundle's code cache instead of being compiled (~15 ms).
type Iced = typeof import('iced-x86');
let iced: Iced | undefined;
async function loadIced(): Promise<Iced> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the CommonJS bundle has require, the ES build createRequire
  iced ??= (typeof require === 'function' ? require('iced-x86') : createRequire(import.meta.url)('iced-x86')) as Iced;
  return iced;
}

export type Bitness = 16 | 32 | 64;

type FlowKind = 'next' | 'branch' | 'conditionalBranch' | 'indirectBranch' | 'call' | 'indirectCall' | 'return' | 'interrupt' | 'other';

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
    // As gdb and objdump print: every number in hex, RIP-relative operands as written (the target
    // follows as a comment), encoded zero displacements shown (`nopw 0x0(%rax,%rax,1)`).
    formatter.smallHexNumbersInDecimal = false;
    formatter.ripRelativeAddresses = true;
    formatter.showZeroDisplacements = true;
  }
  return formatter;
}

const SEGMENT_PREFIXES: Record<number, string> = { 0x26: 'es', 0x2e: 'cs', 0x36: 'ss', 0x3e: 'ds' };
const LEGACY_PREFIXES = new Set([0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3]);

/**
 * The instruction as GNU's libopcodes (gdb, objdump) prints it, from iced's GAS mnemonic and
 * operands: prefixes and mnemonic padded to six columns then one space; prefixes the instruction
 * ignores named (`cs nopw`, `data16 cs nopw`: 64-bit code ignores cs/ds/es/ss, and only the last
 * 0x66 counts); `repz`/`repnz`; scaled indexes `(%rsi,%rcx,1)`; string operands with their
 * segments (not SSE's movsd); `lgdtl` in 32-bit code; x87 pops' implied `%st,%st(1)`; no `$0x1` for shifts by one; `(%dx)` for port I/O; no size suffix on indirect branches.
 */
function gnuText(
  f: InstanceType<Iced['Formatter']>,
  insn: InstanceType<Iced['Instruction']>,
  code: string,
  bytes: Uint8Array,
  bitness: Bitness,
): string {
  let mnemonic = f
    .formatMnemonic(insn)
    .replace(/\b(call|jmp)q$/, '$1')
    .replace(/^rep ret$/, 'repz ret')
    .replace(/^rep(n?)e /, 'rep$1z ');
  // Descriptor-table loads and stores name their operand size outside 64-bit code (`lgdtl`).
  if (bitness === 32 && /^[ls][gi]dt$/.test(mnemonic)) mnemonic += 'l';
  let ops = f.formatAllOperands(insn).replace(/\(([^(),]*),(%\w+)\)/g, '($1,$2,1)');
  if (/_1$/.test(code)) ops = ops.replace('$0x1,', '');
  if (/^(In|Out)/.test(code)) ops = ops.replace(/%dx(?=,|$)/, '(%dx)');
  if (/^(Movs|Cmps|Lods|Stos|Scas|Ins|Outs)[bwdq]_/.test(code) && !/xmm/i.test(code))
    ops = ops.replace(/(^|,)\((%[er]?si)\)/, '$1%ds:($2)').replace(/(^|,)\((%[er]?di)\)/, '$1%es:($2)');
  // The x87 pop forms with implied operands (DE C1, DE C9): libopcodes names them.
  if (!ops && /^f(add|mul)p$/.test(mnemonic)) ops = '%st,%st(1)';
  const ignored: string[] = [];
  const hinted = /,p[nt]$|notrack/.test(mnemonic) || /%[cdes]s:/.test(ops);
  let n = 0;
  while (n < bytes.length && LEGACY_PREFIXES.has(bytes[n]!)) n++;
  const prefixes = [...bytes.subarray(0, n)];
  const last66 = prefixes.lastIndexOf(0x66);
  for (const [i, b] of prefixes.entries()) {
    if (b === 0x66 && i !== last66) ignored.push('data16');
    else if (SEGMENT_PREFIXES[b] && bitness === 64 && !hinted) ignored.push(SEGMENT_PREFIXES[b]);
  }
  if (ignored.length) mnemonic = `${ignored.join(' ')} ${mnemonic}`;
  return ops ? `${mnemonic.padEnd(6)} ${ops}` : mnemonic;
}

/** An instruction's text with the symbols of the addresses it names (`# 0x... <sym>`, ` <func+off>`). */
function instructionText(
  lib: Iced,
  insn: InstanceType<Iced['Instruction']>,
  bytes: Uint8Array,
  bitness: Bitness,
  target: bigint | undefined,
  symbolize?: (addr: bigint) => string | undefined,
): string {
  let text = insn.isInvalid ? '(bad)' : gnuText(gasFormatter(lib), insn, lib.Code[insn.code] ?? '', bytes, bitness);
  if (insn.isIpRelMemoryOperand) {
    const sym = symbolize?.(insn.ipRelMemoryAddress);
    text += `        # 0x${insn.ipRelMemoryAddress.toString(16)}${sym ? ` <${sym}>` : ''}`;
  }
  if (target !== undefined) {
    const sym = symbolize?.(target);
    if (sym) text += ` <${sym}>`;
  }
  return text;
}

/**
 * Decodes up to `maxCount` instructions from `bytes`, which start at `address`. A truncated last
 * instruction is dropped, not shown as garbage. `symbolize` turns a direct target into `<func+off>`.
 */
export async function disassemble(
  bytes: Uint8Array,
  address: bigint,
  bitness: Bitness,
  opts: { maxCount?: number; symbolize?: (addr: bigint) => string | undefined; text?: boolean } = {},
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
      if (insn.isInvalid && offset + 15 > bytes.length && offset + insn.length >= bytes.length) break;
      // Bytes that decode to nothing are one `(bad)` byte each, as in GNU's output, and decoding
      // goes on from the next byte (iced would skip what it took for prefixes too).
      const length = insn.isInvalid ? 1 : insn.length;
      if (insn.isInvalid) {
        decoder.position = offset + 1;
        decoder.ip = insn.ip + 1n;
      }
      const flow = FLOW[insn.flowControl] ?? 'other';
      const direct = flow === 'call' || flow === 'branch' || flow === 'conditionalBranch';
      const target = direct ? insn.nearBranchTarget : undefined;
      // Without text (stepping wants the control flow only), formatting, most of the work, is skipped.
      const text =
        opts.text === false ? '' : instructionText(lib, insn, bytes.subarray(offset, offset + length), bitness, target, opts.symbolize);
      out.push({ address: insn.ip, length, bytes: bytes.subarray(offset, offset + length), text, flow, target, invalid: insn.isInvalid });
      offset += length;
    }
  } finally {
    insn.free();
    decoder.free();
  }
  return out;
}

/** A memory location an instruction accessed. */
interface MemoryAccess {
  address: bigint;
  size: number;
}

/** How far from the new stack pointer a push, pop, call, ret or leave touched the stack. */
const STACK_REACH = 64n;

/**
 * What memory the instruction in `bytes` at `address` accessed, worked out from the registers as
 * they are after it ran: for push, pop, call, ret and leave, the stack around the new stack
 * pointer; 'unknown' when it changed another register its addresses are made of (`mov
 * (%rax),%rax`, string instructions) or uses one the target does not report.
 */
export async function accessedMemory(
  bytes: Uint8Array,
  address: bigint,
  bitness: Bitness,
  registers: Map<string, bigint>,
): Promise<MemoryAccess[] | 'unknown'> {
  const lib = await loadIced();
  const { Decoder, DecoderOptions, InstructionInfoFactory, MemorySizeExt, OpAccess, Register, RegisterExt } = lib;
  const decoder = new Decoder(bitness, bytes, DecoderOptions.None);
  const factory = new InstructionInfoFactory();
  decoder.ip = address;
  const insn = decoder.decode();
  try {
    const info = factory.info(insn);
    const written = new Set<number>();
    for (const r of info.usedRegisters()) {
      if (r.access !== OpAccess.Read && r.access !== OpAccess.CondRead) written.add(RegisterExt.fullRegister(r.register));
      r.free();
    }
    const value = (reg: number): bigint | undefined => {
      if (reg === Register.None) return 0n;
      if (written.has(RegisterExt.fullRegister(reg))) return undefined;
      return registers.get(String(Register[RegisterExt.fullRegister(reg)]).toLowerCase());
    };
    const out: MemoryAccess[] = [];
    let unknown = false;
    for (const m of info.usedMemory()) {
      // lea computes an address without touching memory.
      if (m.access === OpAccess.NoMemAccess) {
        m.free();
        continue;
      }
      const rsp = registers.get('rsp');
      if (m.base === Register.RSP && written.has(Register.RSP) && rsp !== undefined) {
        out.push({ address: BigInt.asUintN(64, rsp - STACK_REACH), size: Number(2n * STACK_REACH) });
        m.free();
        continue;
      }
      const segment = m.segment === Register.FS ? registers.get('fs_base') : m.segment === Register.GS ? registers.get('gs_base') : 0n;
      const base = value(m.base);
      const index = value(m.index);
      if (segment === undefined || base === undefined || index === undefined) unknown = true;
      else
        out.push({
          address: BigInt.asUintN(64, segment + base + index * BigInt(m.scale) + m.displacement),
          size: MemorySizeExt.size(m.memorySize),
        });
      m.free();
    }
    return unknown ? 'unknown' : out;
  } finally {
    insn.free();
    factory.free();
    decoder.free();
  }
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
export async function decodeAt(
  mem: { readMemory(address: bigint, size: number): Promise<Uint8Array> },
  address: bigint,
  bitness: Bitness,
  symbolize?: (addr: bigint) => string | undefined,
): Promise<DecodedInstruction | undefined> {
  // 15 bytes is the longest x86 instruction; near a page end read only what that page holds.
  const toPageEnd = Number(0x1000n - (address & 0xfffn));
  for (const size of toPageEnd < 15 ? [15, toPageEnd] : [15]) {
    try {
      const [insn] = await disassemble(await mem.readMemory(address, size), address, bitness, { maxCount: 1, symbolize });
      if (insn) return insn;
    } catch {
      // try the shorter read
    }
  }
  return undefined;
}

/** The registers a call may change under the SysV x86-64 ABI (besides flags and vector registers). */
const CALL_CLOBBERED = ['rax', 'rcx', 'rdx', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11'];

/**
 * The general registers (full 64-bit names) some instruction in `bytes` writes; a call or software
 * interrupt counts as writing every call-clobbered register. Undecodable bytes count as writing all.
 */
export async function registersWritten(bytes: Uint8Array, address: bigint, bitness: Bitness): Promise<Set<string>> {
  const lib = await loadIced();
  const { Decoder, DecoderOptions, FlowControl, InstructionInfoFactory, OpAccess, Register, RegisterExt } = lib;
  const decoder = new Decoder(bitness, bytes, DecoderOptions.None);
  const factory = new InstructionInfoFactory();
  const insn = new lib.Instruction();
  const out = new Set<string>();
  decoder.ip = address;
  try {
    while (decoder.canDecode) {
      decoder.decodeOut(insn);
      if (insn.isInvalid) {
        for (const r of [...CALL_CLOBBERED, 'rbx', 'rbp', 'rsp', 'r12', 'r13', 'r14', 'r15']) out.add(r);
        break;
      }
      const flow = insn.flowControl;
      if (flow === FlowControl.Call || flow === FlowControl.IndirectCall || flow === FlowControl.Interrupt)
        for (const r of CALL_CLOBBERED) out.add(r);
      const info = factory.info(insn);
      for (const r of info.usedRegisters()) {
        if (r.access !== OpAccess.Read && r.access !== OpAccess.CondRead && r.access !== OpAccess.NoMemAccess)
          out.add(String(Register[RegisterExt.fullRegister(r.register)]).toLowerCase());
        r.free();
      }
      info.free();
    }
  } finally {
    insn.free();
    factory.free();
    decoder.free();
  }
  return out;
}
