// The disassembly view scrolls both ways: DAP asks for N instructions starting K instructions
// before or after an address, and always gets exactly N back (unreadable or undecodable places are
// marked invalid). The engine decodes; this lays out the window, with each instruction's source line.
import path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { DecodedInstruction } from '../../src/engine/disasm.js';
import type { Session } from '../../src/engine/session.js';
import { hexRef } from '../args.js';
import type { LineNumbering } from '../context.js';

/** Decoded in the mode of `thread`'s vCPU. */
export async function disassembleWindow(
  session: Session,
  thread: number,
  base: bigint,
  instructionOffset: number,
  count: number,
  resolveSymbols: boolean,
  numbering: LineNumbering,
): Promise<DebugProtocol.DisassembledInstruction[]> {
  if (count === 0) return [];
  const code = session.code;
  const before = instructionOffset < 0 ? await code.instructionsBefore(base, -instructionOffset, thread) : [];
  const wantBefore = Math.max(0, -instructionOffset);
  const skip = Math.max(0, instructionOffset);
  const afterCount = Math.max(0, count - wantBefore) + skip;
  const after = afterCount ? await code.disassembleAt(base, afterCount, thread).catch(() => [] as DecodedInstruction[]) : [];
  const rows: DebugProtocol.DisassembledInstruction[] = [];
  // Places the stream could not reach count down from base (before) or up from the last decoded.
  for (let i = wantBefore - before.length; i > 0; i--) rows.push(invalid(base - BigInt(i)));
  for (const insn of [...before, ...after.slice(skip)]) rows.push(show(session, insn, resolveSymbols, numbering));
  let next = after.length ? after[after.length - 1]!.address + BigInt(after[after.length - 1]!.length) : base;
  while (rows.length < count) rows.push(invalid(next++));
  return rows.slice(0, count);
}

/** An instruction with its symbol and the source line it was compiled from (the view interleaves those lines). */
function show(
  session: Session,
  insn: DecodedInstruction,
  resolveSymbols: boolean,
  numbering: LineNumbering,
): DebugProtocol.DisassembledInstruction {
  const symbol = resolveSymbols
    ? session.code
        .symbolSuffix(insn.address)
        .trim()
        .replace(/^<(.*)>$/, '$1')
    : '';
  const row = session.program?.symbols.lineAt(insn.address);
  return {
    address: hexRef(insn.address),
    instructionBytes: Buffer.from(insn.bytes)
      .toString('hex')
      .replace(/(..)(?!$)/g, '$1 '),
    instruction: insn.text,
    ...(symbol && { symbol }),
    ...(row &&
      row.line > 0 && {
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
