// The stopped guest seen through symbols: backtraces per vCPU (cached until the guest runs),
// values of expressions in a frame, scopes and lazily expanded children for front ends.
import { sizeOf, stripTypedefs, typeName, type Type, type VariableInfo } from '../../symbols/index.js';
import type { RegisterInfo, Target } from '../targets/index.js';
import { assign, EvalError, evaluateText, localsNamed, variableInfoValue, type EvalContext } from './evaluate.js';
import type { Frame, FramePosition, Scope, ValueFormat, ValueView } from './model.js';
import type { Program } from './program.js';
import type { ReturnedValue } from './stop-event.js';
import { fetchAddress } from './real-mode.js';
import { backtrace, backtraceFrom, frameRegister, hideInlineFrames, type Backtrace, type FrameContext } from './stack.js';
import {
  asInteger,
  elementValue,
  formatValue,
  isCharType,
  load,
  MAX_VALUE_SIZE,
  memberValue,
  toBytes,
  type FormatOptions,
  type Value,
  type ValueReader,
} from './values.js';
import type { VariableStore } from './variables.js';

export class Inspector {
  private readonly traces = new Map<number, Promise<Backtrace>>();
  /**
   * Register sets standing for guest threads that are on no vCPU (their saved contexts), under
   * pseudo thread numbers (negative) that stay valid until the guest runs.
   */
  private readonly contexts = new Map<number, { registers: Map<string, bigint>; owner: bigint }>();
  private readonly contextOf = new Map<bigint, number>();
  private nextContext = -1;
  program: Program | undefined;
  /** gdb's convenience variables (`set $x = ...`), seen by every expression: print, conditions, watches. */
  readonly convenience = new Map<string, Value>();
  /** gdb's value history: what `print` showed, as it was then (`$1`, `$`, `$$2`). */
  private readonly history: Value[] = [];

  constructor(
    private readonly target: Target,
    private readonly store: VariableStore,
    private readonly writeRegister: (thread: number, name: string, value: bigint) => Promise<void>,
    /** Inlined frames a vCPU's stop hides (a stop at an inlined call's first instruction). */
    private readonly hiddenInline: (thread: number) => number = () => 0,
  ) {}

  /** Forgets the backtraces computed at this stop (registers or memory changed). */
  invalidate(): void {
    this.traces.clear();
  }

  /** The guest is about to run: saved contexts go too. */
  resumed(): void {
    this.invalidate();
    this.contexts.clear();
    this.contextOf.clear();
  }

  /** The pseudo thread number for the saved context of guest thread `owner` (one per thread per stop). */
  contextFor(owner: bigint, registers: Map<string, bigint>): number {
    let id = this.contextOf.get(owner);
    if (id === undefined) {
      id = this.nextContext--;
      this.contexts.set(id, { registers, owner });
      this.contextOf.set(owner, id);
    }
    return id;
  }

  /** The guest thread whose saved context a pseudo thread number stands for. */
  ownerOf(thread: number): bigint | undefined {
    return this.contexts.get(thread)?.owner;
  }

  /** The innermost registers of a vCPU, or of a saved context. */
  async registersOf(thread: number): Promise<Map<string, bigint>> {
    return this.contexts.get(thread)?.registers ?? this.target.readRegisters(thread);
  }

  /** True for a pseudo thread number of a saved context (no vCPU behind it: it cannot run or step). */
  isSavedContext(thread: number): boolean {
    return this.contexts.has(thread);
  }

  /** Memory as the vCPU of the last stop sees it. */
  readonly reader: ValueReader = this.readerFor(undefined);

  /**
   * Memory as vCPU `thread` sees it (its page tables, its per-CPU data); a saved context's thread
   * runs on no vCPU, so it reads as the last stop's.
   */
  readerFor(thread: number | undefined): ValueReader {
    const vcpu = thread !== undefined && !this.contexts.has(thread) ? thread : undefined;
    return {
      readMemory: (a, n) => this.target.readMemory(a, n, vcpu),
      symbolSuffix: (a) => this.symbolSuffix(a),
    };
  }

  symbolSuffix(address: bigint): string {
    return symbolSuffix(this.program, address);
  }

  backtrace(thread: number): Promise<Backtrace> {
    let t = this.traces.get(thread);
    if (!t) {
      const saved = this.contexts.get(thread);
      t = saved
        ? backtraceFrom(this.target, this.program, saved.registers)
        : backtrace(this.target, this.program, thread).then((bt) => hideInlineFrames(bt, this.hiddenInline(thread)));
      this.traces.set(thread, t);
      t.catch(() => this.traces.delete(thread));
    }
    return t;
  }

  async frame(thread: number, level: number): Promise<FrameContext> {
    const { frames } = await this.backtrace(thread);
    const f = frames[level];
    if (!f) throw new Error(`No frame at level ${level}.`);
    return f;
  }

  async context(thread: number, level: number): Promise<EvalContext> {
    const frame = await this.frame(thread, level);
    const { frames } = await this.backtrace(thread);
    // One frame per physical caller (inlined frames share their physical frame's registers).
    const callers: FrameContext[] = [];
    for (const f of frames.slice(level + 1)) {
      if (f.registers !== (callers.at(-1) ?? frame).registers) callers.push(f);
    }
    return {
      callers,
      convenience: this.convenience,
      history: this.history,
      target: this.target,
      ...(this.program && { program: this.program }),
      frame,
      registers: await this.registersOf(thread),
      reader: this.readerFor(thread),
      writeRegister: async (name, value) => {
        await this.writeRegister(thread, name, value);
        this.invalidate();
      },
    };
  }

  /**
   * The value of an expression, its contents read at once as gdb fetches a value before printing
   * it: memory that does not read is one error naming its address (`p *NULL_struct_ptr`), not an
   * error per member.
   */
  async evaluate(expression: string, thread: number, level: number): Promise<Value> {
    const v = await evaluateText(await this.context(thread, level), expression);
    const kind = stripTypedefs(v.type).kind;
    if (
      v.place.kind === 'memory' &&
      !v.bytes &&
      !v.unavailable &&
      !v.bitField &&
      kind !== 'function' &&
      kind !== 'void' &&
      sizeOf(v.type) > 0 &&
      sizeOf(v.type) <= MAX_VALUE_SIZE
    ) {
      const address = v.place.address;
      await load(this.readerFor(thread), v).catch(() => {
        throw new EvalError(`Cannot access memory at address 0x${address.toString(16)}`);
      });
    }
    return v;
  }

  /** Sets a convenience variable the debugger itself defines (`$bpnum`, `$_`, `$__`). */
  setConvenience(name: string, type: Type, value: bigint | undefined): void {
    const bytes = value === undefined ? new Uint8Array(0) : toBytes(value, sizeOf(type));
    this.convenience.set(name, {
      type: value === undefined ? { kind: 'void' } : type,
      place: { kind: 'convenience', name, offset: 0 },
      bytes,
    });
  }

  /**
   * Adds a value to the history as a copy of its contents now (later changes to the guest do not
   * show through, and it cannot be assigned to) and returns its number `N` for `$N`. A value that
   * cannot be copied (bigger than max-value-size, or unreadable: print showed what it could of it)
   * stays where it is, read again when used.
   */
  async record(v: Value, thread?: number): Promise<number> {
    const copy: Value = { type: v.type, place: { kind: 'none', history: true }, ...(v.bitField && { bitField: v.bitField }) };
    const bytes =
      v.unavailable || stripTypedefs(v.type).kind === 'void' ? undefined : await load(this.readerFor(thread), v).catch(() => undefined);
    if (v.unavailable) copy.unavailable = v.unavailable;
    else if (stripTypedefs(v.type).kind === 'void') copy.bytes = new Uint8Array(0);
    else if (bytes) copy.bytes = new Uint8Array(bytes);
    else copy.place = v.place;
    this.history.push(copy);
    return this.history.length;
  }

  /**
   * The DIE offsets of the locals and arguments of the frame that `expression` names: an
   * expression that names some is meaningful only in frames that see those same variables.
   */
  async localsOf(expression: string, thread: number, level: number): Promise<number[]> {
    return localsNamed(await this.context(thread, level), expression).map((v) => v.die.offset);
  }

  /** The frame sees every variable of `offsets` (it is inside their blocks). */
  async sees(offsets: number[], thread: number, level: number): Promise<boolean> {
    if (!offsets.length) return true;
    const vars = (await this.frame(thread, level).catch(() => undefined))?.scope?.variables ?? [];
    return offsets.every((o) => vars.some((v) => v.die.offset === o));
  }

  /** Writes the value of the C expression `value` into the lvalue `expression`, both read in one frame. */
  async assign(expression: string, value: string, thread: number, level: number): Promise<void> {
    const ctx = await this.context(thread, level);
    const target = await evaluateText(ctx, expression);
    await assign(ctx, target, await evaluateText(ctx, value));
  }

  /** A front-end view of a value; structs, arrays and pointers to them get a children handle. */
  async view(name: string, v: Value, format: ValueFormat, at: FramePosition, expression?: string): Promise<ValueView> {
    const opts: FormatOptions = format === 'hex' ? { format: 'x' } : {};
    const text = await formatValue(this.readerFor(at.thread), v, opts);
    const s = stripTypedefs(v.type);
    let childCount = 0;
    let ref = 0;
    if (!v.unavailable) {
      if (s.kind === 'struct' || s.kind === 'union' || s.kind === 'class') childCount = s.members.length;
      else if (s.kind === 'array') childCount = s.dims[0] ?? 0;
      else if (s.kind === 'pointer' && !isCharType(s.target) && expandable(s.target)) childCount = 1;
      if (childCount) ref = this.store.add((start, count, fmt) => this.childrenOf(v, expression, start, count, fmt, at), at);
    }
    return {
      name,
      type: typeName(v.type),
      text,
      ref,
      childCount,
      ...(v.place.kind === 'memory' && { address: v.place.address }),
      ...(expression !== undefined && { expression }),
    };
  }

  private async childrenOf(
    v: Value,
    expression: string | undefined,
    start: number,
    count: number,
    format: ValueFormat,
    at: FramePosition,
  ): Promise<ValueView[]> {
    const s = stripTypedefs(v.type);
    const out: ValueView[] = [];
    if (s.kind === 'struct' || s.kind === 'union' || s.kind === 'class') {
      for (const m of s.members.slice(start, start + count)) {
        const name = m.name ?? '<anonymous>';
        out.push(await this.view(name, memberValue(v, m), format, at, expression && m.name ? `(${expression}).${m.name}` : undefined));
      }
    } else if (s.kind === 'array') {
      const n = s.dims[0] ?? 0;
      for (let i = start; i < Math.min(n, start + count); i++)
        out.push(await this.view(`[${i}]`, elementValue(v, s, i), format, at, expression && `(${expression})[${i}]`));
    } else if (s.kind === 'pointer') {
      const pointee: Value = { type: s.target, place: { kind: 'memory', address: await asInteger(this.readerFor(at.thread), v) } };
      out.push(await this.view(`*${expression ?? ''}`, pointee, format, at, expression && `*(${expression})`));
    }
    return out;
  }

  /**
   * Locals, Arguments, Registers and the unit's Globals of a frame. `returned` (the innermost frame
   * right after a finish or step out) heads the Locals as gdb's "Value returned".
   */
  async scopes(thread: number, level: number, returned?: ReturnedValue): Promise<Scope[]> {
    const frame = await this.frame(thread, level);
    const ctx = await this.context(thread, level);
    const vars = frame.scope?.variables ?? [];
    const scopes: Scope[] = [];
    const at = { thread, level };
    const group = (
      name: Scope['name'],
      list: VariableInfo[],
      expensive = false,
      head: Array<(fmt: ValueFormat) => Promise<ValueView>> = [],
    ) => {
      const rows = [
        ...head,
        ...list.map((info) => async (fmt: ValueFormat) => this.view(info.name, await variableInfoValue(ctx, info), fmt, at, info.name)),
      ];
      const ref = this.store.add(async (start, count, fmt) => Promise.all(rows.slice(start, start + count).map((row) => row(fmt))), at);
      scopes.push({ name, ref, count: rows.length, expensive });
    };
    const returnedRow =
      returned && level === 0 ? [(fmt: ValueFormat) => this.view(`Value returned by ${returned.function}()`, returned.value, fmt, at)] : [];
    group(
      'Locals',
      vars.filter((v) => v.kind === 'local'),
      false,
      returnedRow,
    );
    group(
      'Arguments',
      vars.filter((v) => v.kind === 'arg'),
    );
    const regs = ctx.registers!;
    const known = this.target.registers.filter((r) => regs.has(r.name));
    const registerView = async (r: RegisterInfo, fmt: ValueFormat): Promise<ValueView> => {
      // Read when listed, not when the scope was made: a register may have been set since.
      const v = level === 0 ? (await this.registersOf(thread)).get(r.name) : await frameRegister(frame, r.name);
      const hex = fmt === 'hex' || r.group !== 'general' || /^(rip|rsp|rbp|eflags)$/.test(r.name);
      const text = v === undefined ? '<not saved>' : hex ? `0x${v.toString(16)}` : BigInt.asIntN(r.bits, v).toString();
      return { name: r.name, type: `int${r.bits}_t`, text, ref: 0, childCount: 0, expression: `$${r.name}` };
    };
    // The general registers, then one expandable entry per other group of the target description.
    const general = known.filter((r) => r.group === 'general');
    const others = [...new Set(known.map((r) => r.group))].filter((g) => g !== 'general');
    const groupView = (name: string): ValueView => {
      const members = known.filter((r) => r.group === name);
      const ref = this.store.add(
        (start, count, fmt) => Promise.all(members.slice(start, start + count).map((r) => registerView(r, fmt))),
        at,
      );
      return { name, type: 'register group', text: `${members.length} registers`, ref, childCount: members.length };
    };
    const regRef = this.store.add(async (start, count, fmt) => {
      const rows = [...general.map((r) => () => registerView(r, fmt)), ...others.map((g) => async () => groupView(g))];
      return Promise.all(rows.slice(start, start + count).map((row) => row()));
    }, at);
    scopes.push({ name: 'Registers', ref: regRef, count: general.length + others.length, expensive: false });
    if (this.program) group('Globals', this.program.symbols.globalsOfUnitAt(frame.lookupPc), true);
    return scopes;
  }

  /** The frames of a backtrace for display; a vCPU in real mode shows where it fetches (CS base + IP). */
  async frames(thread: number, bt: Backtrace): Promise<Frame[]> {
    const fetch =
      !this.isSavedContext(thread) && bt.frames.length
        ? await fetchAddress(this.target, thread, await this.registersOf(thread))
        : undefined;
    return bt.frames.map(({ level, pc, cfa, function: fn, file, line, column, inlined, unwoundBy }) => ({
      level,
      pc: fetch !== undefined && pc === bt.frames[0]!.pc ? fetch : pc,
      inlined,
      unwoundBy,
      ...(cfa !== undefined && { cfa }),
      ...(fn !== undefined && { function: fn }),
      ...(file !== undefined && { file }),
      ...(line !== undefined && { line }),
      ...(column !== undefined && { column }),
    }));
  }
}

function expandable(t: Type): boolean {
  const s = stripTypedefs(t);
  return (
    s.kind === 'struct' ||
    s.kind === 'union' ||
    s.kind === 'class' ||
    s.kind === 'array' ||
    (s.kind === 'base' && sizeOf(s) > 0) ||
    s.kind === 'pointer' ||
    s.kind === 'enum'
  );
}

/** ` <sym+off>` (` <+off>` with `offsetOnly`) for an address gdb names by a symbol (SymbolFile.addressSymbol), else ''. */
function symbolSuffix(program: Program | undefined, address: bigint, offsetOnly = false): string {
  const hit = program?.symbols.addressSymbol(address);
  if (!hit) return '';
  if (offsetOnly) return ` <+${hit.offset}>`;
  return hit.offset ? ` <${hit.symbol.name}+${hit.offset}>` : ` <${hit.symbol.name}>`;
}
