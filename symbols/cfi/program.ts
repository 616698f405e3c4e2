// Executes a CIE's initial instructions and an FDE's instructions to the unwind row for an
// address (DWARF 5 section 6.4.2). Bounded: every instruction consumes bytes, and the
// remember_state stack has a depth limit.
import { ByteReader, FormatError } from '../reader.js';
import { DW_CFA } from './constants.js';
import type { Fde } from './entries.js';
import { CfiError } from './errors.js';
import { readEncodedPointer } from './pointer.js';

export type RegisterRule =
  | { kind: 'undefined' }
  | { kind: 'same-value' }
  /** Saved at CFA + offset. */
  | { kind: 'offset'; offset: number }
  /** The value is CFA + offset. */
  | { kind: 'val-offset'; offset: number }
  | { kind: 'register'; reg: number }
  /** Saved at the address the expression computes (the CFA pushed first). */
  | { kind: 'expression'; expr: Uint8Array }
  | { kind: 'val-expression'; expr: Uint8Array };

export type CfaRule = { kind: 'register'; reg: number; offset: number } | { kind: 'expression'; expr: Uint8Array };

export interface UnwindRow {
  /** Addresses [start, end) this row covers. */
  start: bigint;
  end: bigint;
  /** Undefined when the instructions never defined a CFA (malformed, or before a "simple" FDE sets it). */
  cfa: CfaRule | undefined;
  /** Registers with a rule; a register absent here has no rule (the ABI default applies). */
  registers: Map<number, RegisterRule>;
  /** DW_CFA_GNU_args_size: bytes of outgoing arguments pushed at this point. */
  argsSize: number;
}

const MAX_REMEMBERED = 64;

/** The row in effect at `pc` (which the caller has checked lies in the FDE). */
export function rowAt(fde: Fde, pc: bigint): UnwindRow {
  let found: UnwindRow | undefined;
  execute(fde, (row) => {
    if (pc >= row.start && pc < row.end) found = row;
    return pc < row.end;
  });
  return found ?? emptyRow(fde);
}

/** Every row of the FDE in address order (the table readelf --debug-dump=frames-interp prints). */
export function fdeRows(fde: Fde): UnwindRow[] {
  const rows: UnwindRow[] = [];
  execute(fde, (row) => {
    rows.push(row);
    return false;
  });
  return rows;
}

function emptyRow(fde: Fde): UnwindRow {
  return { start: fde.start, end: fde.end, cfa: undefined, registers: new Map(), argsSize: 0 };
}

interface State {
  cfa: CfaRule | undefined;
  registers: Map<number, RegisterRule>;
  argsSize: number;
}

const copy = (s: State): State => ({ cfa: s.cfa, registers: new Map(s.registers), argsSize: s.argsSize });

/** Runs the instructions, handing each finished row to `emit`; stops early when `emit` returns true. */
function execute(fde: Fde, emit: (row: UnwindRow) => boolean): void {
  const m = new CfaMachine(fde, emit);
  m.run(fde.cie.instructions, undefined);
  m.initial = new Map(m.state.registers);
  if (m.run(fde.instructions, fde.instructionsOffset)) return;
  if (m.loc < fde.end) emit({ start: m.loc, end: fde.end, ...copy(m.state) });
}

class CfaMachine {
  state: State = { cfa: undefined, registers: new Map(), argsSize: 0 };
  /** Register rules after the CIE's initial instructions (what DW_CFA_restore goes back to). */
  initial = new Map<number, RegisterRule>();
  loc: bigint;
  private readonly remembered: State[] = [];
  private readonly name: string;
  /** Section offset of the instructions being run; undefined while running the CIE's. */
  private base: number | undefined;
  private at = 0;

  constructor(
    private readonly fde: Fde,
    private readonly emit: (row: UnwindRow) => boolean,
  ) {
    this.name = `.${fde.cie.section.kind}`;
    this.loc = fde.start;
  }

  /** Returns true when `emit` asked to stop. */
  run(bytes: Uint8Array, base: number | undefined): boolean {
    this.base = base;
    const r = new ByteReader(bytes, this.name);
    while (!r.atEnd) {
      this.at = r.pos;
      try {
        if (this.step(r)) return true;
      } catch (e) {
        if (e instanceof FormatError && !(e instanceof CfiError)) throw this.error(e.message);
        throw e;
      }
    }
    return false;
  }

  private error(message: string): CfiError {
    const where = this.base === undefined ? `CIE instruction at +${this.at}` : `FDE instruction at +${this.at}`;
    const entry = this.base === undefined ? this.fde.cie.offset : this.fde.offset;
    return new CfiError(this.name, entry, `${message} (${where})`);
  }

  private fdeOnly(what: string): void {
    if (this.base === undefined) throw this.error(`${what} in a CIE's initial instructions`);
  }

  private advance(to: bigint): boolean {
    this.fdeOnly('location advance');
    if (to < this.loc) throw this.error(`location moves backwards to 0x${to.toString(16)}`);
    const end = to < this.fde.end ? to : this.fde.end;
    if (end > this.loc && this.emit({ start: this.loc, end, ...copy(this.state) })) return true;
    this.loc = to;
    return false;
  }

  private set(reg: number, rule: RegisterRule): false {
    this.state.registers.set(reg, rule);
    return false;
  }

  private restore(reg: number): false {
    this.fdeOnly('DW_CFA_restore');
    const rule = this.initial.get(reg);
    if (rule) this.state.registers.set(reg, rule);
    else this.state.registers.delete(reg);
    return false;
  }

  private cfaRegister(what: string): Extract<CfaRule, { kind: 'register' }> {
    if (this.state.cfa?.kind !== 'register') throw this.error(`${what} without a register-based CFA rule`);
    return this.state.cfa;
  }

  private defCfa(rule: CfaRule): false {
    this.state.cfa = rule;
    return false;
  }

  private setLoc(r: ByteReader): boolean {
    this.fdeOnly('DW_CFA_set_loc');
    const cie = this.fde.cie;
    if (cie.section.kind !== 'eh_frame') return this.advance(r.addr(cie.addressSize));
    // An .eh_frame address uses the FDE encoding, pcrel to its own place in the section.
    const sectionPos = this.base! + r.pos;
    const reader = new ByteReader(cie.section.bytes.subarray(0, this.base! + r.length), this.name, sectionPos);
    const p = readEncodedPointer(reader, cie.fdeEncoding, {
      addressSize: cie.addressSize,
      section: this.name,
      entry: this.fde.offset,
      sectionAddress: cie.section.address,
      textBase: cie.section.textBase,
      dataBase: cie.section.dataBase,
    });
    r.skip(reader.pos - sectionPos);
    return this.advance(p.value);
  }

  /** One instruction; true when `emit` asked to stop. */
  private step(r: ByteReader): boolean {
    const cie = this.fde.cie;
    const op = r.u8();
    const low = op & 0x3f;
    const daf = cie.dataAlignment;
    const factored = (n: number | bigint) => BigInt(n) * BigInt(cie.codeAlignment);
    switch (op & 0xc0) {
      case DW_CFA.advance_loc:
        return this.advance(this.loc + factored(low));
      case DW_CFA.offset:
        return this.set(low, { kind: 'offset', offset: r.uleb128() * daf });
      case DW_CFA.restore:
        return this.restore(low);
    }
    switch (op) {
      case DW_CFA.nop:
        return false;
      case DW_CFA.set_loc:
        return this.setLoc(r);
      case DW_CFA.advance_loc1:
        return this.advance(this.loc + factored(r.u8()));
      case DW_CFA.advance_loc2:
        return this.advance(this.loc + factored(r.u16()));
      case DW_CFA.advance_loc4:
        return this.advance(this.loc + factored(r.u32()));
      case DW_CFA.MIPS_advance_loc8:
        return this.advance(this.loc + factored(r.u64()));
      case DW_CFA.offset_extended:
        return this.set(r.uleb128(), { kind: 'offset', offset: r.uleb128() * daf });
      case DW_CFA.offset_extended_sf:
        return this.set(r.uleb128(), { kind: 'offset', offset: r.sleb128() * daf });
      case DW_CFA.GNU_negative_offset_extended:
        return this.set(r.uleb128(), { kind: 'offset', offset: -r.uleb128() * daf });
      case DW_CFA.val_offset:
        return this.set(r.uleb128(), { kind: 'val-offset', offset: r.uleb128() * daf });
      case DW_CFA.val_offset_sf:
        return this.set(r.uleb128(), { kind: 'val-offset', offset: r.sleb128() * daf });
      case DW_CFA.restore_extended:
        return this.restore(r.uleb128());
      case DW_CFA.undefined:
        return this.set(r.uleb128(), { kind: 'undefined' });
      case DW_CFA.same_value:
        return this.set(r.uleb128(), { kind: 'same-value' });
      case DW_CFA.register:
        return this.set(r.uleb128(), { kind: 'register', reg: r.uleb128() });
      case DW_CFA.expression:
        return this.set(r.uleb128(), { kind: 'expression', expr: r.bytesN(r.uleb128()) });
      case DW_CFA.val_expression:
        return this.set(r.uleb128(), { kind: 'val-expression', expr: r.bytesN(r.uleb128()) });
      case DW_CFA.remember_state: {
        if (this.remembered.length >= MAX_REMEMBERED) throw this.error(`DW_CFA_remember_state nested deeper than ${MAX_REMEMBERED}`);
        this.remembered.push(copy(this.state));
        return false;
      }
      case DW_CFA.restore_state: {
        const saved = this.remembered.pop();
        if (!saved) throw this.error('DW_CFA_restore_state without a remembered state');
        // The CFA rule is part of the remembered state, as gcc, gdb and libunwind treat it.
        this.state = saved;
        return false;
      }
      case DW_CFA.def_cfa:
        return this.defCfa({ kind: 'register', reg: r.uleb128(), offset: r.uleb128() });
      case DW_CFA.def_cfa_sf:
        return this.defCfa({ kind: 'register', reg: r.uleb128(), offset: r.sleb128() * daf });
      case DW_CFA.def_cfa_register:
        return this.defCfa({ ...this.cfaRegister('DW_CFA_def_cfa_register'), reg: r.uleb128() });
      case DW_CFA.def_cfa_offset:
        return this.defCfa({ ...this.cfaRegister('DW_CFA_def_cfa_offset'), offset: r.uleb128() });
      case DW_CFA.def_cfa_offset_sf:
        return this.defCfa({ ...this.cfaRegister('DW_CFA_def_cfa_offset_sf'), offset: r.sleb128() * daf });
      case DW_CFA.def_cfa_expression:
        return this.defCfa({ kind: 'expression', expr: r.bytesN(r.uleb128()) });
      case DW_CFA.GNU_args_size: {
        this.state.argsSize = r.uleb128();
        return false;
      }
      default:
        throw this.error(`unknown call frame instruction 0x${op.toString(16)}`);
    }
  }
}
