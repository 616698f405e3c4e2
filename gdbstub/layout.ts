import { RspMalformedError } from './errors.js';
import { bigintToLe, leToBigint } from './hex.js';
import { parseXml, type XmlElement } from './xml.js';

export interface RegisterInfo {
  name: string;
  /** The number `p`/`P` take. */
  regnum: number;
  bitsize: number;
  /** Byte offset in the `g` packet's data. */
  offset: number;
  type: string;
  /** target.xml's group, else the one gdb gives the register's type: float, vector or general. */
  group: string;
}

/** The float types gdb predefines for target descriptions. */
const FLOAT_TYPES = new Set(['ieee_half', 'ieee_single', 'ieee_double', 'bfloat16', 'i387_ext', 'arm_fpa_ext']);

/** Where each register lives in `g` and what `p` calls it. */
export class RegisterLayout {
  readonly byName = new Map<string, RegisterInfo>();
  readonly byNum = new Map<number, RegisterInfo>();
  /** Bytes of register data in a `g` reply. */
  readonly gSize: number;

  constructor(readonly registers: readonly RegisterInfo[]) {
    for (const r of registers) {
      this.byName.set(r.name, r);
      this.byNum.set(r.regnum, r);
    }
    this.gSize = registers.reduce((end, r) => Math.max(end, r.offset + r.bitsize / 8), 0);
  }

  get(name: string): RegisterInfo {
    const r = this.byName.get(name);
    if (!r) throw new RspMalformedError(`no register named '${name}' in the target's layout`);
    return r;
  }

  /** Decodes `g` data; registers past the end of a short reply (stubs may truncate) are left out. */
  decode(data: Uint8Array): Map<string, bigint> {
    const out = new Map<string, bigint>();
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    for (const r of this.registers) {
      const end = r.offset + r.bitsize / 8;
      if (end > data.length) continue;
      // The common widths read whole (a byte at a time as bigints costs most of a stop's decode).
      if (r.bitsize === 64) out.set(r.name, view.getBigUint64(r.offset, true));
      else if (r.bitsize === 32) out.set(r.name, BigInt(view.getUint32(r.offset, true)));
      else if (r.bitsize === 128) out.set(r.name, (view.getBigUint64(r.offset + 8, true) << 64n) | view.getBigUint64(r.offset, true));
      else out.set(r.name, leToBigint(data.subarray(r.offset, end)));
    }
    return out;
  }

  /** Writes `value` into a copy of `g` data. */
  encodeInto(data: Uint8Array, name: string, value: bigint): Buffer {
    const r = this.get(name);
    const copy = Buffer.from(data);
    bigintToLe(value, r.bitsize / 8).copy(copy, r.offset);
    return copy;
  }
}

/**
 * Builds a layout from a target description. `fetch` returns the text of an annex (target.xml or an
 * `xi:include`d file); includes are followed depth first, in document order, as gdb does.
 */
export async function layoutFromTargetXml(fetch: (annex: string) => Promise<string>, annex = 'target.xml'): Promise<RegisterLayout> {
  const regs: Array<Omit<RegisterInfo, 'group'> & { group: string | undefined }> = [];
  /** Types the description defines as vectors, or unions of them (x86's vec128). */
  const vectorTypes = new Set<string>();
  let regnum = 0;
  let offset = 0;
  const visit = async (el: XmlElement, group: string | undefined, depth: number): Promise<void> => {
    for (const c of el.children) {
      if (c.name === 'xi:include') {
        if (depth > 8) throw new RspMalformedError(`target description includes nest too deep at '${c.attrs.href}'`);
        const href = c.attrs.href;
        if (!href) throw new RspMalformedError('target description: xi:include without href');
        await visit(parseXml(await fetch(href)), group, depth + 1);
      } else if (c.name === 'reg') {
        const name = c.attrs.name;
        const bitsize = Number(c.attrs.bitsize);
        if (!name || !Number.isInteger(bitsize) || bitsize <= 0 || bitsize % 8 !== 0)
          throw new RspMalformedError(`target description: bad <reg name="${name}" bitsize="${c.attrs.bitsize}">`);
        if (c.attrs.regnum !== undefined) regnum = Number(c.attrs.regnum);
        regs.push({ name, regnum, bitsize, offset, type: c.attrs.type ?? 'int', group: c.attrs.group ?? group });
        regnum++;
        offset += bitsize / 8;
      } else if ((c.name === 'vector' || c.name === 'union') && c.attrs.id) {
        vectorTypes.add(c.attrs.id);
      } else if (c.name === 'target' || c.name === 'feature' || c.name === '#document') {
        await visit(c, c.attrs.group ?? group, depth);
      }
    }
  };
  await visit(parseXml(await fetch(annex)), undefined, 0);
  if (regs.length === 0) throw new RspMalformedError('target description defines no registers');
  return new RegisterLayout(
    regs.map((r) => ({ ...r, group: r.group ?? (FLOAT_TYPES.has(r.type) ? 'float' : vectorTypes.has(r.type) ? 'vector' : 'general') })),
  );
}

/** gdbsx has no target.xml: its fixed x86_64 `g` layout. */
export function gdbsxLayout(): RegisterLayout {
  const names64 = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip'];
  const names32 = ['eflags', 'cs', 'ss', 'ds', 'es', 'fs', 'gs'];
  const regs: RegisterInfo[] = [];
  let offset = 0;
  for (const name of names64) {
    regs.push({
      name,
      regnum: regs.length,
      bitsize: 64,
      offset,
      type: name === 'rip' ? 'code_ptr' : name === 'rsp' || name === 'rbp' ? 'data_ptr' : 'int64',
      group: 'general',
    });
    offset += 8;
  }
  for (const name of names32) {
    regs.push({ name, regnum: regs.length, bitsize: 32, offset, type: 'int32', group: 'general' });
    offset += 4;
  }
  return new RegisterLayout(regs);
}
