// Call-site parameters (DW_TAG_call_site_parameter, DWARF 5 and the GNU extension gcc emits with
// -O1 and up): what the caller passed in each argument register, as an expression evaluated in the
// caller's frame. They give DW_OP_entry_value, and gdb's `x=x@entry=1`, their meaning. Call sites
// marked as tail calls let a backtrace show the functions that jumped away (gdb's tail-call frames).
import { DW_AT } from './dwarf/constants.js';
import type { Die } from './dwarf/die.js';
import { unitContext, type ExprWithContext } from './expr-context.js';

const TAG_CALL_SITE = 0x48;
const TAG_CALL_SITE_PARAMETER = 0x49;
const TAG_GNU_CALL_SITE = 0x4109;
const TAG_GNU_CALL_SITE_PARAMETER = 0x410a;
const AT_CALL_RETURN_PC = 0x7d;
const AT_CALL_VALUE = 0x7e;
const AT_GNU_CALL_SITE_VALUE = 0x2111;
const AT_CALL_ORIGIN = 0x7f;
const AT_CALL_TAIL_CALL = 0x82;
const AT_GNU_TAIL_CALL = 0x2115;
const DW_OP_REG0 = 0x50;
const DW_OP_REGX = 0x90;

/** DWARF register -> the value expression the call at `returnAddress` in `fn` passed in it. */
export function callSiteParameters(fn: Die, returnAddress: bigint): Map<number, ExprWithContext> {
  const out = new Map<number, ExprWithContext>();
  const site = findCallSite(fn, returnAddress, 0);
  if (!site) return out;
  for (const p of site.children) {
    if (p.tag !== TAG_CALL_SITE_PARAMETER && p.tag !== TAG_GNU_CALL_SITE_PARAMETER) continue;
    const loc = p.attr(DW_AT.location)?.value;
    const value = (p.attr(AT_CALL_VALUE) ?? p.attr(AT_GNU_CALL_SITE_VALUE))?.value;
    if (!(loc instanceof Uint8Array) || !(value instanceof Uint8Array) || loc.length === 0) continue;
    const reg =
      loc[0]! >= DW_OP_REG0 && loc[0]! < DW_OP_REG0 + 32 && loc.length === 1
        ? loc[0]! - DW_OP_REG0
        : loc[0] === DW_OP_REGX && loc.length === 2 && loc[1]! < 0x80
          ? loc[1]!
          : undefined;
    if (reg !== undefined) out.set(reg, { expr: value, unit: unitContext(p.unit) });
  }
  return out;
}

function findCallSite(d: Die, returnAddress: bigint, depth: number): Die | undefined {
  if (depth > 64) return undefined;
  for (const c of d.children) {
    if (c.tag === TAG_CALL_SITE && c.address(AT_CALL_RETURN_PC) === returnAddress) return c;
    // GNU call sites record the return address as their low_pc.
    if (c.tag === TAG_GNU_CALL_SITE && c.address(DW_AT.low_pc) === returnAddress) return c;
    const inner = c.children.length ? findCallSite(c, returnAddress, depth + 1) : undefined;
    if (inner) return inner;
  }
  return undefined;
}

/** A call a function makes: where it returns to, whether it is a tail call (a jump), and the callee's name. */
export interface CallSite {
  returnPc: bigint;
  tail: boolean;
  target?: string;
}

/** Every call site in a function (lexical blocks and inlined calls included). */
export function callSitesOf(fn: Die): CallSite[] {
  const out: CallSite[] = [];
  const visit = (d: Die, depth: number) => {
    if (depth > 64) return;
    for (const c of d.children) {
      if (c.tag === TAG_CALL_SITE || c.tag === TAG_GNU_CALL_SITE) {
        const returnPc = c.tag === TAG_CALL_SITE ? c.address(AT_CALL_RETURN_PC) : c.address(DW_AT.low_pc);
        const callee = c.ref(AT_CALL_ORIGIN) ?? c.ref(DW_AT.abstract_origin);
        const target = callee?.functionName;
        if (returnPc !== undefined)
          out.push({ returnPc, tail: c.flag(AT_CALL_TAIL_CALL) || c.flag(AT_GNU_TAIL_CALL), ...(target !== undefined && { target }) });
      } else if (c.children.length) visit(c, depth + 1);
    }
  };
  visit(fn, 0);
  return out;
}
