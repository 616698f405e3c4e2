// DWARF expression evaluator. Target state comes through async callbacks (a register or memory
// read may be a round trip to a gdbstub), so evaluation suspends at each read and resumes, like
// gimli's Evaluator. Anything the target cannot tell us ends as an 'unavailable' location rather
// than an error; malformed input is an ExpressionError naming the op's offset.
import { ByteReader } from '../reader.js';
import { decodeOperation, type Operation, type OperandSizes } from './decode.js';
import { ExpressionError } from './errors.js';
import type { BaseType, Location, Piece } from './location.js';
import { DW_OP, opName } from './opcodes.js';
import { x86_64RegisterName } from '../x86_64-registers.js';
import { binary, convert, fromBytes, normalize, reinterpret, unary, type StackValue } from './stack.js';

export interface ExpressionContext {
  /** Bytes in an address and a generic stack value (default 8). */
  addressSize?: number;
  /** DWARF version of the unit (default 5): DWARF 2 references are address-sized. */
  version?: number;
  /** 4 for 32-bit DWARF, 8 for 64-bit (default 4). */
  offsetSize?: number;
  /** A register's value in this frame (DWARF number); undefined when the frame does not know it. */
  readRegister(reg: number): Promise<bigint | undefined>;
  /** Target memory; a short result means the bytes are not readable. */
  readMemory(address: bigint, size: number): Promise<Uint8Array>;
  /** DW_AT_frame_base of the current function, evaluated (usually DW_OP_call_frame_cfa). */
  frameBase?(): Promise<bigint | undefined>;
  /** The current frame's canonical frame address from CFI. */
  cfa?(): Promise<bigint | undefined>;
  /** Entry `index` of the unit's .debug_addr table (DW_OP_addrx/constx, GNU_addr_index/const_index). */
  resolveAddrIndex?(index: bigint): bigint;
  /** Value `expr` had on entry to the current function (DW_OP_entry_value), from call-site info. */
  entryValue?(expr: Uint8Array): Promise<bigint | undefined>;
  /** Value passed at the call site for the parameter DIE at unit offset `die` (DW_OP_GNU_parameter_ref). */
  parameterRef?(die: bigint): Promise<bigint | undefined>;
  /** DW_AT_location bytes of the DIE at `die` (unit offset for call2/call4, .debug_info offset for call_ref). */
  call?(die: bigint, op: 'call2' | 'call4' | 'call_ref'): Promise<Uint8Array | undefined>;
  /** The base type DIE at unit offset `die` (typed ops; offset 0 means the generic type). */
  baseType?(die: bigint): BaseType | undefined;
  /** DW_OP_push_object_address's value (the object being described, e.g. for DW_AT_data_location). */
  objectAddress?: bigint;
  /** Values pushed before evaluation (DW_CFA_expression pushes the CFA). */
  initialStack?: bigint[];
  /** Ops executed before giving up (default 10,000): a DW_OP_bra loop must end. */
  maxSteps?: number;
}

const MAX_STACK = 1024;
const MAX_CALL_DEPTH = 16;

/** Evaluates a location description (DW_AT_location, a location list entry, DW_AT_frame_base). */
export async function evaluateLocation(expr: Uint8Array, ctx: ExpressionContext): Promise<Location> {
  const m = new Machine(ctx);
  try {
    await m.run(expr, 0);
    return m.result(expr.length);
  } catch (e) {
    if (e instanceof Unavailable) return { kind: 'unavailable', reason: e.reason };
    throw e;
  }
}

/** Thrown inside the machine when the target cannot supply something; becomes an 'unavailable' result. */
class Unavailable {
  constructor(readonly reason: string) {}
}

/** Location-producing ops that must end the expression or be followed by a piece. */
type Pending = Exclude<Location, { kind: 'memory' } | { kind: 'pieces' } | { kind: 'unavailable' }>;

class Machine {
  private readonly stack: StackValue[] = [];
  private readonly pieces: Piece[] = [];
  private pending: Pending | undefined;
  /** Stack height when the last piece was taken. */
  private pieceBase = 0;
  private steps = 0;
  private readonly bits: number;
  private readonly sizes: OperandSizes;
  private readonly maxSteps: number;

  constructor(private readonly ctx: ExpressionContext) {
    const addressSize = ctx.addressSize ?? 8;
    this.bits = addressSize * 8;
    this.sizes = { addressSize, refSize: (ctx.version ?? 5) <= 2 ? addressSize : (ctx.offsetSize ?? 4) };
    this.maxSteps = ctx.maxSteps ?? 10_000;
    for (const v of ctx.initialStack ?? []) this.stack.push({ value: BigInt.asUintN(this.bits, v) });
  }

  async run(expr: Uint8Array, depth: number): Promise<void> {
    const r = new ByteReader(expr, 'DWARF expression');
    while (!r.atEnd) {
      const op = decodeOperation(r, this.sizes);
      if (++this.steps > this.maxSteps) throw new ExpressionError(`more than ${this.maxSteps} ops executed (a branch loop?)`, op.offset);
      // DW_OP_GNU_uninit may follow a register or value: it only marks it as not yet initialized.
      if (this.pending && op.code !== DW_OP.piece && op.code !== DW_OP.bit_piece && op.code !== DW_OP.GNU_uninit) {
        throw new ExpressionError(`${opName(op.code)} after a location that must end the expression or a piece`, op.offset);
      }
      const target = await this.execute(op, depth);
      if (target !== undefined) {
        if (target < 0 || target > expr.length)
          throw new ExpressionError(`branch to offset ${target} outside the expression (length ${expr.length})`, op.offset);
        r.seek(target);
      }
    }
  }

  /** The final location once all ops ran. */
  result(length: number): Location {
    if (this.pieces.length > 0) {
      if (this.pending) throw new ExpressionError('composite location does not end with a piece', length);
      return { kind: 'pieces', pieces: this.pieces };
    }
    if (this.pending) return this.pending;
    const top = this.stack.at(-1);
    if (!top) return { kind: 'unavailable', reason: 'optimized out' };
    return { kind: 'memory', address: BigInt.asUintN(this.bits, top.value) };
  }

  /** Runs one op; returns a branch target offset when control moves. */
  private async execute(op: Operation, depth: number): Promise<number | undefined> {
    const c = op.code;
    const at = op.offset;
    const a0 = op.args[0]!;
    if (c >= DW_OP.lit0 && c <= DW_OP.lit31) return this.push(BigInt(c - DW_OP.lit0), at);
    if (c >= DW_OP.reg0 && c <= DW_OP.reg31) return this.setPending({ kind: 'register', reg: c - DW_OP.reg0 });
    if (c >= DW_OP.breg0 && c <= DW_OP.breg31) return this.push((await this.register(c - DW_OP.breg0)) + a0, at);
    switch (c) {
      case DW_OP.addr:
      case DW_OP.const1u:
      case DW_OP.const1s:
      case DW_OP.const2u:
      case DW_OP.const2s:
      case DW_OP.const4u:
      case DW_OP.const4s:
      case DW_OP.const8u:
      case DW_OP.const8s:
      case DW_OP.constu:
      case DW_OP.consts:
        return this.push(a0, at);
      case DW_OP.addrx:
      case DW_OP.constx:
      case DW_OP.GNU_addr_index:
      case DW_OP.GNU_const_index: {
        if (!this.ctx.resolveAddrIndex) throw new ExpressionError(`${opName(c)} needs the unit's .debug_addr`, at);
        return this.push(this.ctx.resolveAddrIndex(a0), at);
      }
      case DW_OP.regx:
        return this.setPending({ kind: 'register', reg: this.regNumber(a0, at) });
      case DW_OP.bregx:
        return this.push((await this.register(this.regNumber(a0, at))) + op.args[1]!, at);
      case DW_OP.fbreg: {
        if (!this.ctx.frameBase) throw new ExpressionError('DW_OP_fbreg needs a frame base', at);
        const base = await this.ctx.frameBase();
        if (base === undefined) throw new Unavailable('frame base unavailable');
        return this.push(base + a0, at);
      }
      case DW_OP.call_frame_cfa: {
        if (!this.ctx.cfa) throw new ExpressionError('DW_OP_call_frame_cfa needs call frame information', at);
        const cfa = await this.ctx.cfa();
        if (cfa === undefined) throw new Unavailable('no call frame information for this frame');
        return this.push(cfa, at);
      }
      case DW_OP.push_object_address: {
        if (this.ctx.objectAddress === undefined) throw new ExpressionError('DW_OP_push_object_address without an object', at);
        return this.push(this.ctx.objectAddress, at);
      }
      case DW_OP.dup:
        return this.pushValue(this.peek(0, at), at);
      case DW_OP.drop:
        this.pop(at);
        return;
      case DW_OP.over:
        return this.pushValue(this.peek(1, at), at);
      case DW_OP.pick:
        return this.pushValue(this.peek(Number(a0), at), at);
      case DW_OP.swap: {
        const b = this.pop(at);
        const a = this.pop(at);
        this.stack.push(b, a);
        return;
      }
      case DW_OP.rot: {
        const top = this.pop(at);
        const second = this.pop(at);
        const third = this.pop(at);
        this.stack.push(top, third, second);
        return;
      }
      case DW_OP.deref:
        return this.push(await this.load(this.popAddress(at), this.sizes.addressSize), at);
      case DW_OP.deref_size:
        return this.push(await this.load(this.popAddress(at), this.derefSize(a0, at)), at);
      case DW_OP.deref_type:
      case DW_OP.GNU_deref_type: {
        const type = this.type(op.args[1]!, at);
        const v = await this.load(this.popAddress(at), Number(a0));
        return this.pushValue({ value: normalize(v, type, this.bits), type }, at);
      }
      case DW_OP.xderef:
      case DW_OP.xderef_size:
      case DW_OP.xderef_type: {
        const address = this.popAddress(at);
        if (this.pop(at).value !== 0n) throw new ExpressionError(`${opName(c)}: address spaces other than 0 are not supported`, at);
        const size = c === DW_OP.xderef ? this.sizes.addressSize : this.derefSize(a0, at);
        const type = c === DW_OP.xderef_type ? this.type(op.args[1]!, at) : undefined;
        const v = await this.load(address, size);
        return this.pushValue({ value: normalize(v, type, this.bits), type }, at);
      }
      case DW_OP.abs:
      case DW_OP.neg:
      case DW_OP.not:
        return this.pushValue(unary(c, this.pop(at), this.bits, at), at);
      case DW_OP.plus_uconst: {
        const a = this.pop(at);
        return this.pushValue({ value: normalize(a.value + a0, a.type, this.bits), type: a.type }, at);
      }
      case DW_OP.and:
      case DW_OP.or:
      case DW_OP.xor:
      case DW_OP.plus:
      case DW_OP.minus:
      case DW_OP.mul:
      case DW_OP.div:
      case DW_OP.mod:
      case DW_OP.shl:
      case DW_OP.shr:
      case DW_OP.shra:
      case DW_OP.eq:
      case DW_OP.ne:
      case DW_OP.lt:
      case DW_OP.le:
      case DW_OP.gt:
      case DW_OP.ge: {
        const b = this.pop(at);
        const a = this.pop(at);
        return this.pushValue(binary(c, a, b, this.bits, at), at);
      }
      case DW_OP.skip:
        return op.end + Number(a0);
      case DW_OP.bra:
        return this.pop(at).value !== 0n ? op.end + Number(a0) : undefined;
      case DW_OP.nop:
      case DW_OP.GNU_uninit:
        return;
      case DW_OP.piece:
        return this.addPiece(Number(a0) * 8, 0, at);
      case DW_OP.bit_piece:
        return this.addPiece(Number(a0), Number(op.args[1]!), at);
      case DW_OP.implicit_value:
        return this.setPending({ kind: 'implicit', bytes: op.block! });
      case DW_OP.stack_value: {
        const v = this.peek(0, at);
        return this.setPending({ kind: 'value', value: v.value, ...(v.type ? { type: v.type } : {}) });
      }
      case DW_OP.implicit_pointer:
      case DW_OP.GNU_implicit_pointer:
        return this.setPending({ kind: 'implicit-pointer', die: a0, offset: op.args[1]! });
      case DW_OP.entry_value:
      case DW_OP.GNU_entry_value: {
        const v = this.ctx.entryValue ? await this.ctx.entryValue(op.block!) : undefined;
        if (v === undefined) throw new Unavailable('<entry value unavailable>');
        // DW_OP_entry_value(DW_OP_regval_type R, T) is a value of type T (gcc's for xmm arguments).
        const block = op.block!;
        if (block[0] === DW_OP.regval_type || block[0] === DW_OP.GNU_regval_type) {
          const inner = decodeOperation(new ByteReader(block, 'DW_OP_entry_value'), this.sizes);
          const type = this.type(inner.args[1]!, at);
          return this.pushValue({ value: normalize(v, type, this.bits), type }, at);
        }
        return this.push(v, at);
      }
      case DW_OP.GNU_parameter_ref: {
        const v = this.ctx.parameterRef ? await this.ctx.parameterRef(a0) : undefined;
        if (v === undefined) throw new Unavailable('<parameter value at the call site unavailable>');
        return this.push(v, at);
      }
      case DW_OP.GNU_variable_value:
        throw new Unavailable('DW_OP_GNU_variable_value is not supported');
      case DW_OP.form_tls_address:
      case DW_OP.GNU_push_tls_address:
        throw new ExpressionError('TLS not supported', at);
      case DW_OP.call2:
      case DW_OP.call4:
      case DW_OP.call_ref: {
        const kind = c === DW_OP.call2 ? 'call2' : c === DW_OP.call4 ? 'call4' : 'call_ref';
        if (!this.ctx.call) throw new ExpressionError(`DW_OP_${kind} is not supported here`, at);
        if (depth >= MAX_CALL_DEPTH) throw new ExpressionError(`DW_OP_${kind} nested more than ${MAX_CALL_DEPTH} deep`, at);
        const body = await this.ctx.call(a0, kind);
        // A DIE without DW_AT_location is a no-op (DWARF 5 section 2.5.1.5).
        if (body) await this.run(body, depth + 1);
        return;
      }
      case DW_OP.const_type:
      case DW_OP.GNU_const_type: {
        const type = this.type(a0, at);
        return this.pushValue({ value: normalize(fromBytes(op.block!), type, this.bits), type }, at);
      }
      case DW_OP.regval_type:
      case DW_OP.GNU_regval_type: {
        const type = this.type(op.args[1]!, at);
        const v = await this.register(this.regNumber(a0, at));
        return this.pushValue({ value: normalize(v, type, this.bits), type }, at);
      }
      case DW_OP.convert:
      case DW_OP.GNU_convert:
        return this.pushValue(convert(this.pop(at), this.type(a0, at), this.bits, at), at);
      case DW_OP.reinterpret:
      case DW_OP.GNU_reinterpret:
        return this.pushValue(reinterpret(this.pop(at), this.type(a0, at), this.bits, at), at);
      default:
        throw new ExpressionError(`${opName(c)} is not supported`, at);
    }
  }

  private push(value: bigint, at: number): undefined {
    return this.pushValue({ value: BigInt.asUintN(this.bits, value) }, at);
  }

  private pushValue(v: StackValue, at: number): undefined {
    if (this.stack.length >= MAX_STACK) throw new ExpressionError(`stack deeper than ${MAX_STACK}`, at);
    this.stack.push(v);
    return undefined;
  }

  private pop(at: number): StackValue {
    const v = this.stack.pop();
    if (!v) throw new ExpressionError('stack underflow', at);
    return v;
  }

  private peek(depth: number, at: number): StackValue {
    const v = this.stack[this.stack.length - 1 - depth];
    if (!v) throw new ExpressionError(`stack underflow (item ${depth} of ${this.stack.length})`, at);
    return v;
  }

  private popAddress(at: number): bigint {
    return BigInt.asUintN(this.bits, this.pop(at).value);
  }

  private setPending(loc: Pending): undefined {
    this.pending = loc;
    return undefined;
  }

  private addPiece(sizeBits: number, offsetBits: number, at: number): undefined {
    // A piece describes only the ops since the previous piece: an empty run means optimized out.
    const fresh = this.stack.length > this.pieceBase;
    let location: Location;
    if (this.pending) {
      location = this.pending;
      if (location.kind === 'value' && fresh) this.stack.pop();
    } else if (fresh) {
      location = { kind: 'memory', address: this.popAddress(at) };
    } else {
      location = { kind: 'unavailable', reason: 'optimized out' };
    }
    this.pending = undefined;
    this.pieceBase = this.stack.length;
    this.pieces.push({ location, sizeBits, offsetBits });
    return undefined;
  }

  private async register(reg: number): Promise<bigint> {
    const v = await this.ctx.readRegister(reg);
    if (v === undefined) throw new Unavailable(`register ${x86_64RegisterName(reg)} is not available in this frame`);
    return v;
  }

  private regNumber(v: bigint, at: number): number {
    if (v > 0xffffn) throw new ExpressionError(`register number ${v} out of range`, at);
    return Number(v);
  }

  private derefSize(v: bigint, at: number): number {
    if (v < 1n || v > BigInt(this.sizes.addressSize))
      throw new ExpressionError(`dereference size ${v} invalid for ${this.sizes.addressSize}-byte addresses`, at);
    return Number(v);
  }

  private async load(address: bigint, size: number): Promise<bigint> {
    const bytes = await this.ctx.readMemory(address, size);
    if (bytes.length < size) throw new Unavailable(`cannot read memory at 0x${address.toString(16)}`);
    return fromBytes(bytes.subarray(0, size));
  }

  /** The base type at unit offset `die`; 0 is the generic type. */
  private type(die: bigint, at: number): BaseType | undefined {
    if (die === 0n) return undefined;
    if (!this.ctx.baseType) throw new ExpressionError('typed DWARF op needs base type information', at);
    const t = this.ctx.baseType(die);
    if (!t) throw new ExpressionError(`no base type at unit offset 0x${die.toString(16)}`, at);
    if (t.size < 1 || t.size > 16) throw new ExpressionError(`base type of ${t.size} bytes not supported`, at);
    return t;
  }
}
