// The disassembly view scrolls both ways: DAP asks for N instructions starting K instructions
// before or after an address, and always gets exactly N back (unreadable or undecodable places are
// marked invalid). x86 cannot be decoded backwards, so earlier instructions are found by decoding
// forward from further back until the instruction stream lands exactly on the address.
import path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { DecodedInstruction } from '../../src/engine/disasm.js';
import type { Session } from '../../src/engine/session.js';
import { hexRef } from '../args.js';
import type { LineNumbering } from '../context.js';

/** The longest x86 instruction. */
const MAX_INSN = 15;

export async function disassembleWindow(
  session: Session,
  base: bigint,
  instructionOffset: number,
  count: number,
  resolveSymbols: boolean,
  numbering: LineNumbering,
): Promise<DebugProtocol.DisassembledInstruction[]> {
  if (count === 0) return [];
  const before = instructionOffset < 0 ? await instructionsBefore(session, base, -instructionOffset) : [];
  const wantBefore = Math.max(0, -instructionOffset);
  const skip = Math.max(0, instructionOffset);
  const afterCount = Math.max(0, count - wantBefore) + skip;
  const after = afterCount ? await session.disassembleAt(base, afterCount).catch(() => [] as DecodedInstruction[]) : [];
  const rows: DebugProtocol.DisassembledInstruction[] = [];
  // Places the stream could not reach count down from base (before) or up from the last decoded.
  for (let i = wantBefore - before.length; i > 0; i--) rows.push(invalid(base - BigInt(i)));
  for (const insn of [...before, ...after.slice(skip)]) rows.push(show(session, insn, resolveSymbols, numbering));
  let next = after.length ? after[after.length - 1]!.address + BigInt(after[after.length - 1]!.length) : base;
  while (rows.length < count) rows.push(invalid(next++));
  return rows.slice(0, count);
}

async function instructionsBefore(session: Session, base: bigint, n: number): Promise<DecodedInstruction[]> {
  const span = BigInt(n * MAX_INSN);
  for (let shift = 0n; shift < BigInt(MAX_INSN); shift++) {
    const start = base > span + shift ? base - span - shift : 0n;
    let insns: DecodedInstruction[];
    try {
      insns = await session.disassembleRange(start, base);
    } catch {
      return fromPageStart(session, base, n);
    }
    if (endsAt(insns, base)) return insns.slice(-n);
    if (start === 0n) break;
  }
  return [];
}

/** Memory below base's page does not read: no instruction can start there, so decode from the page. */
async function fromPageStart(session: Session, base: bigint, n: number): Promise<DecodedInstruction[]> {
  const page = base & ~0xfffn;
  if (page === base) return [];
  const insns = await session.disassembleRange(page, base).catch(() => [] as DecodedInstruction[]);
  return endsAt(insns, base) ? insns.slice(-n) : [];
}

function endsAt(insns: DecodedInstruction[], base: bigint): boolean {
  const last = insns[insns.length - 1];
  return last !== undefined && last.address + BigInt(last.length) === base;
}

/** An instruction with its symbol and the source line it was compiled from (the view interleaves those lines). */
function show(session: Session, insn: DecodedInstruction, resolveSymbols: boolean, numbering: LineNumbering): DebugProtocol.DisassembledInstruction {
  const symbol = resolveSymbols ? session.symbolSuffix(insn.address).trim().replace(/^<(.*)>$/, '$1') : '';
  const row = session.program?.symbols.lineAt(insn.address);
  return {
    address: hexRef(insn.address),
    instructionBytes: Buffer.from(insn.bytes).toString('hex').replace(/(..)(?!$)/g, '$1 '),
    instruction: insn.text,
    ...(symbol && { symbol }),
    ...(row && row.line > 0 && {
      location: { name: path.basename(row.file), path: row.file },
      line: numbering.lineToClient(row.line),
      ...(row.column > 0 && { column: numbering.columnToClient(row.column) }),
    }),
    ...(insn.invalid && { presentationHint: 'invalid' as const }),
  };
}

function invalid(address: bigint): DebugProtocol.DisassembledInstruction {
  return { address: hexRef(address), instruction: '??', presentationHint: 'invalid' };
}
