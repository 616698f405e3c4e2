// info registers, x/NFU, disassemble.
import { locationSpec } from './breakpoints.js';
import { DW_ATE, formatValue, fromBytes, type FormatOptions, type PrintFormat } from '../engine/values.js';
import { ptype, ptypeOffsets, typeName, type Type } from '../../symbols/index.js';
import { selectedPc, type CommandContext } from './context.js';
import { CommandError } from './interpreter.js';
import { displayFile } from './stack.js';
import { flagsText, hex, hex64 } from './format.js';
import { formatFloatBytes } from '../engine/float-format.js';
import type { Out } from './table.js';

const SEGMENTS = new Set(['cs', 'ss', 'ds', 'es', 'fs', 'gs']);

export async function infoRegisters(ctx: CommandContext, args: string, out: Out, all = false): Promise<unknown> {
  const s = ctx.session;
  const thread = ctx.selected.thread;
  const values = await s.frameRegisters(ctx.selected);
  const known = s.target.registers;
  const words = args.trim() ? args.trim().split(/\s+/) : [];
  // gdb's `info registers GROUP` (float, vector, general, all) as well as register names.
  const names = words.length
    ? words.flatMap((w) => {
        const n = w.replace(/^\$/, '');
        if (n === 'all') return known.map((r) => r.name);
        if (!known.some((r) => r.name === n) && known.some((r) => r.group === n))
          return known.filter((r) => r.group === n).map((r) => r.name);
        return [n];
      })
    : (all ? gdbOrder(known) : known.filter((r) => r.group === 'general')).map((r) => r.name);
  const data: Record<string, string> = {};
  for (const name of names) {
    const v = values.get(name === 'pc' ? 'rip' : name === 'sp' ? 'rsp' : name === 'fp' ? 'rbp' : name);
    if (v === undefined) {
      if (words.length) throw new CommandError(`invalid register '${name}'${known.some((r) => r.name === name) ? ' in this frame' : ''}`);
      continue;
    }
    data[name] = hex(v);
    const info = known.find((r) => r.name === name);
    out(`${name.padEnd(15)}${await registerText(ctx, name, v, info?.group, info?.bits ?? 64)}\n`);
  }
  return { thread, registers: data };
}

/**
 * info vector: the registers the target's description puts in the vector group (QEMU: xmm0-15 by
 * their type, mxcsr by its group attribute). gdb 13 says "No vector information" over QEMU: its x86
 * register groups override the description's and leave xmm out when no AVX state is described.
 */
export function infoVector(ctx: CommandContext, _args: string, out: Out): Promise<unknown> {
  if (!ctx.session.target.registers.some((r) => r.group === 'vector')) {
    out('No vector information\n');
    return Promise.resolve({ registers: {} });
  }
  return infoRegisters(ctx, 'vector', out);
}

/**
 * gdb's order for all registers: its amd64 numbering puts the x87 registers right after the segment
 * registers (QEMU's description lists fs_base..efer between them); the rest in the target's order.
 */
function gdbOrder<R extends { name: string; group: string }>(registers: readonly R[]): R[] {
  const gs = registers.findIndex((r) => r.name === 'gs');
  if (gs < 0) return [...registers];
  const rest = registers.filter((r, i) => i > gs && r.group !== 'float');
  return [...registers.slice(0, gs + 1), ...registers.filter((r, i) => i > gs && r.group === 'float'), ...rest];
}

/** The two columns gdb shows for a register: raw and natural (float: natural and raw; vector: one, in hex). */
async function registerText(ctx: CommandContext, name: string, v: bigint, group: string | undefined, bits: number): Promise<string> {
  if (group === 'float' && bits === 80) {
    const bytes = Buffer.alloc(10);
    for (let i = 0; i < 10; i++) bytes[i] = Number((v >> BigInt(8 * i)) & 0xffn);
    return `${formatFloatBytes(bytes)!.padEnd(20)}(raw 0x${v.toString(16).padStart(20, '0')})`;
  }
  if (group === 'vector' && /^[xyz]mm\d+$/.test(name)) {
    const value = await ctx.session.value(`$${name}`, ctx.selected);
    return formatValue(ctx.session.inspector.readerFor(ctx.selected.thread), value, { format: 'x' });
  }
  return `${hex(v).padEnd(20)}${natural(ctx, name, v)}`;
}

function natural(ctx: CommandContext, name: string, v: bigint): string {
  const flags = flagsText(name, v);
  if (flags) return flags;
  if (name === 'rip' || name === 'pc') return `${hex(v)}${ctx.session.code.symbolSuffix(v)}`;
  if (name === 'rsp' || name === 'rbp') return hex(v);
  if (SEGMENTS.has(name)) return v.toString();
  if (/^(fs_base|gs_base|k_gs_base|cr\d|efer)$/.test(name)) return v.toString();
  return BigInt.asIntN(64, v).toString();
}

const UNIT_SIZES: Record<string, number> = { b: 1, h: 2, w: 4, g: 8 };

export interface ExamineFormat {
  count: number;
  format: string;
  size: number;
}

/** Parses `/NFU` (any order of F and U after the count); gdb's defaults are 1, x, w. */
export function parseExamineFormat(text: string, last: ExamineFormat = { count: 1, format: 'x', size: 4 }): ExamineFormat {
  const m = /^\/(\d*)([a-z]*)$/.exec(text);
  if (!m) throw new CommandError(`bad format '${text}' (want /NFU, e.g. /4gx)`);
  let { format, size } = last;
  let sizeGiven = false;
  for (const ch of m[2]!) {
    if (ch in UNIT_SIZES) {
      size = UNIT_SIZES[ch]!;
      sizeGiven = true;
    } else if ('xduotacfsi'.includes(ch)) format = ch;
    else throw new CommandError(`unknown format letter '${ch}' in '${text}'`);
  }
  if (!sizeGiven && format === 'a') size = 8;
  if (!sizeGiven && format === 'c') size = 1;
  const count = m[1] ? Number(m[1]) : 1;
  if (count < 1 || count > 65536) throw new CommandError(`count ${m[1]} out of range (1..65536)`);
  return { count, format, size };
}

/** x[/NFU] [ADDRESS]: without ADDRESS, goes on where the last `x` stopped, with its format (gdb's). */
export async function examineCommand(ctx: CommandContext, args: string, out: Out): Promise<unknown> {
  const s = ctx.session;
  let rest = args.trim();
  const last = ctx.examine;
  let fmt: ExamineFormat = last ? { count: last.count, format: last.format, size: last.size } : { count: 1, format: 'x', size: 4 };
  if (rest.startsWith('/')) {
    const sp = rest.search(/\s/);
    fmt = parseExamineFormat(sp < 0 ? rest : rest.slice(0, sp), fmt);
    rest = sp < 0 ? '' : rest.slice(sp).trim();
  }
  if (!rest && !last) throw new CommandError('Argument required (starting display address).');
  const address = rest ? await s.evaluateInteger(rest, ctx.selected) : last!.next;
  const next = (end: bigint) => {
    ctx.examine = { ...fmt, next: end };
  };
  if (fmt.format === 'i') return examineInstructions(ctx, address, fmt.count, out, next);
  if (fmt.format === 's') return examineStrings(ctx, address, fmt.count, out, next);
  const bytes = await s.target.readMemory(address, fmt.count * fmt.size, ctx.selected.thread).catch(() => {
    throw new CommandError(`Cannot access memory at address 0x${address.toString(16)}`);
  });
  next(address + BigInt(fmt.count * fmt.size));
  const lastUnit = BigInt(fmt.count - 1) * BigInt(fmt.size);
  examined(ctx, address + lastUnit, fmt.size, fromBytes(bytes.subarray(Number(lastUnit)), true));
  const view = Buffer.from(bytes);
  // gdb's units per line: 8 bytes or halfwords, 4 words, 2 giants.
  const perLine = fmt.size <= 2 ? 8 : 16 / fmt.size;
  const values: string[] = [];
  for (let i = 0; i < fmt.count; i++) {
    const raw = fmt.size === 8 ? view.readBigUInt64LE(i * 8) : BigInt(view.readUIntLE(i * fmt.size, fmt.size));
    values.push(formatUnit(ctx, raw, fmt));
  }
  for (let i = 0; i < values.length; i += perLine) {
    const at = address + BigInt(i * fmt.size);
    out(`${hex(at)}${s.code.symbolSuffix(at)}:\t${values.slice(i, i + perLine).join('\t')}\n`);
  }
  return { address: hex(address), size: fmt.size, format: fmt.format, values };
}

/**
 * gdb's `$_` (a pointer to the last unit `x` showed, as intN_t) and `$__` (that unit's contents;
 * void after strings and instructions, whose contents gdb leaves unread).
 */
function examined(ctx: CommandContext, address: bigint, size: number, contents?: bigint): void {
  const unit: Type = { kind: 'base', name: `int${size * 8}_t`, size, encoding: DW_ATE.signed };
  ctx.session.inspector.setConvenience('_', { kind: 'pointer', target: unit, size: 8 }, address);
  ctx.session.inspector.setConvenience('__', unit, contents);
}

function formatUnit(ctx: CommandContext, raw: bigint, fmt: ExamineFormat): string {
  const bits = fmt.size * 8;
  switch (fmt.format) {
    case 'x':
      return `0x${raw.toString(16).padStart(fmt.size * 2, '0')}`;
    case 'd':
      return BigInt.asIntN(bits, raw).toString();
    case 'u':
      return raw.toString();
    case 'o':
      return `0${raw.toString(8)}`;
    case 't':
      return raw.toString(2).padStart(bits, '0');
    case 'a':
      return `${hex(raw)}${ctx.session.code.symbolSuffix(raw)}`;
    case 'c': {
      const n = Number(BigInt.asIntN(8, raw));
      const ch = n >= 32 && n < 127 ? String.fromCharCode(n) : `\\${(n & 0xff).toString(8).padStart(3, '0')}`;
      return `${n} '${ch}'`;
    }
    case 'f':
      return fmt.size === 8
        ? Buffer.from(new BigUint64Array([raw]).buffer)
            .readDoubleLE()
            .toString()
        : Buffer.from(new Uint32Array([Number(raw)]).buffer)
            .readFloatLE()
            .toString();
    default:
      return hex(raw);
  }
}

async function examineStrings(
  ctx: CommandContext,
  address: bigint,
  count: number,
  out: Out,
  next: (end: bigint) => void,
): Promise<unknown> {
  const strings: string[] = [];
  let at = address;
  for (let i = 0; i < count; i++) {
    const text = await ctx.session.code.readCString(at, 4096, ctx.selected.thread);
    strings.push(text.value);
    out(`${hex(at)}${ctx.session.code.symbolSuffix(at)}:\t${JSON.stringify(text.value)}${text.truncated ? '...' : ''}\n`);
    examined(ctx, at, 1);
    at += BigInt(text.length + 1);
  }
  next(at);
  return { address: hex(address), strings };
}

async function examineInstructions(
  ctx: CommandContext,
  address: bigint,
  count: number,
  out: Out,
  next: (end: bigint) => void,
): Promise<unknown> {
  const s = ctx.session;
  const insns = await s.code.disassembleAt(address, count, ctx.selected.thread);
  const pc = await selectedPc(ctx);
  for (const i of insns) out(`${i.address === pc ? '=> ' : '   '}${hex(i.address)}${s.code.symbolSuffix(i.address)}:\t${i.text}\n`);
  if (insns.length) {
    examined(ctx, insns.at(-1)!.address, 1);
    next(insns.at(-1)!.address + BigInt(insns.at(-1)!.length));
  }
  return insns.map((i) => ({ address: hex(i.address), text: i.text }));
}

export async function disassembleCommand(ctx: CommandContext, args: string, out: Out): Promise<unknown> {
  const s = ctx.session;
  let rest = args.trim();
  let raw = false;
  while (rest.startsWith('/')) {
    const m = /^\/(\w+)\s*/.exec(rest)!;
    if (/[^rms]/.test(m[1]!)) throw new CommandError(`unknown disassemble modifier '/${m[1]}'`);
    raw ||= m[1]!.includes('r');
    rest = rest.slice(m[0].length);
  }
  let start: bigint;
  let end: bigint;
  let title: string;
  if (rest) {
    const comma = rest.indexOf(',');
    start = await s.evaluateInteger(comma < 0 ? rest : rest.slice(0, comma), ctx.selected);
    if (comma < 0) {
      const fn = s.code.functionRange(start);
      if (!fn) throw new CommandError(`no function contains ${hex(start)}; give a range (START,END or START,+LENGTH)`);
      [start, end, title] = [fn.low, fn.high, `for function ${fn.name}`];
    } else {
      const second = rest.slice(comma + 1).trim();
      end = second.startsWith('+')
        ? start + (await s.evaluateInteger(second.slice(1), ctx.selected))
        : await s.evaluateInteger(second, ctx.selected);
      title = `from ${hex64(start)} to ${hex64(end)}`;
    }
  } else {
    const pc = await selectedPc(ctx);
    if (pc === undefined) throw new CommandError('no frame selected');
    const fn = s.code.functionRange(pc);
    if (fn) [start, end, title] = [fn.low, fn.high, `for function ${fn.name}`];
    else [start, end, title] = [pc, pc + 64n, `from ${hex64(pc)} to ${hex64(pc + 64n)}`];
  }
  if (end <= start || end - start > 1_000_000n) throw new CommandError(`bad range ${hex(start)}..${hex(end)}`);
  const insns = await s.code.disassembleRange(start, end, ctx.selected.thread);
  const pc = await selectedPc(ctx);
  out(`Dump of assembler code ${title}:\n`);
  for (const i of insns) {
    const bytesText = raw
      ? `\t${Buffer.from(i.bytes)
          .toString('hex')
          .replace(/(..)(?!$)/g, '$1 ')}`
      : '';
    out(`${i.address === pc ? '=> ' : '   '}${hex64(i.address)}${s.code.symbolSuffix(i.address, true)}:${bytesText}\t${i.text}\n`);
  }
  out('End of assembler dump.\n');
  return insns.map((i) => ({ address: hex(i.address), bytes: Buffer.from(i.bytes).toString('hex'), text: i.text }));
}

/** print[/FMT] [EXPR]: the value goes into gdb's value history as `$N`; no EXPR shows `$` again. */
/** A leading /FMT of print or output, with gdb's complaints about what print cannot take. */
export function parsePrintFormat(text: string, command: string): { format?: PrintFormat; rest: string } {
  const m = /^\/(\w*)\s*/.exec(text);
  if (!m) return { rest: text };
  const letters = m[1]!;
  if (/\d/.test(letters)) throw new CommandError(`Item count other than 1 is meaningless in "${command}" command.`);
  if (/[bhwg]/.test(letters)) throw new CommandError(`Size letters are meaningless in "${command}" command.`);
  if (letters.includes('i')) throw new CommandError(`Format letter "i" is meaningless in "${command}" command.`);
  const bad = [...letters].find((c) => !'xzotducafsr'.includes(c));
  if (bad) throw new CommandError(`Undefined output format "${bad}".`);
  // The last letter wins, as in gdb; r (raw: no pretty-printers) changes nothing here.
  const format = [...letters].reverse().find((c) => c !== 'r') as PrintFormat | undefined;
  return { ...(format && { format }), rest: text.slice(m[0].length) };
}

export async function printCommand(ctx: CommandContext, args: string, out: Out): Promise<unknown> {
  const { format, rest } = parsePrintFormat(args.trim(), 'print');
  const s = ctx.session;
  const v = await s.value(rest || '$', ctx.selected);
  const text = await formatValue(s.inspector.readerFor(ctx.selected.thread), v, { ...ctx.print, ...(format && { format }) });
  const n = await s.inspector.record(v, ctx.selected.thread);
  out(`$${n} = ${text}\n`);
  return { history: n, type: typeName(v.type), value: text };
}

/** gdb settings that only matter to a terminal gdb drives (paging, confirmations): accepted, as scripts use them. */
const TERMINAL_SETTINGS = new Set(['pagination', 'confirm', 'width', 'height', 'verbose']);

/** gdb's `print` settings: what `set print NAME VALUE` changes, and how `show print NAME` says it. */
const PRINT_SETTINGS: Record<
  string,
  { show: (o: FormatOptions) => string; set: (ctx: CommandContext, value: string) => Promise<FormatOptions> }
> = {
  pretty: {
    show: (o) => `Pretty formatting of structures is ${o.pretty ? 'on' : 'off'}.`,
    set: async (_ctx, value) => ({ pretty: onOff(value) }),
  },
  elements: {
    show: (o) => `Limit on string chars or array elements to print is ${limitText(o.elements ?? 200)}.`,
    set: async (ctx, value) => ({ elements: await limit(ctx, value) }),
  },
  repeats: {
    show: (o) => `Threshold for repeated print elements is ${limitText(o.repeats ?? 10)}.`,
    set: async (ctx, value) => ({ repeats: await limit(ctx, value) }),
  },
};

function onOff(value: string): boolean {
  const v = value.trim();
  if (v === '' || v === 'on' || v === '1' || v === 'yes' || v === 'enable') return true;
  if (v === 'off' || v === '0' || v === 'no' || v === 'disable') return false;
  throw new CommandError('"on" or "off" expected.');
}

/** A count where 0 and `unlimited` mean no limit, as gdb's `set print elements` takes it. */
async function limit(ctx: CommandContext, value: string): Promise<number> {
  const v = value.trim();
  if (!v) throw new CommandError('Argument required (integer to set it to, or "unlimited").');
  if (v === 'unlimited') return Infinity;
  const n = await ctx.session.evaluateInteger(v, ctx.selected);
  if (n < 0n) throw new CommandError(`integer ${n} out of range`);
  return n === 0n ? Infinity : Number(n);
}

const limitText = (n: number) => (n === Infinity ? 'unlimited' : String(n));

/** set print NAME VALUE, the terminal settings scripts carry, or set [var] EXPR = VALUE (also `set $reg = ...`, `set {type} addr = ...`). */
export async function setCommand(ctx: CommandContext, args: string): Promise<unknown> {
  const [word = '', ...rest] = args.trim().split(/\s+/);
  if (word === 'print' || word === 'p' || word === 'pr') {
    const [name = '', ...value] = rest;
    const setting = Object.keys(PRINT_SETTINGS).find((k) => name.length > 0 && k.startsWith(name));
    if (!setting)
      throw new CommandError(`set print: duster has ${Object.keys(PRINT_SETTINGS).join(', ')}${name ? ` (got '${name}')` : ''}`);
    ctx.print = { ...ctx.print, ...(await PRINT_SETTINGS[setting]!.set(ctx, value.join(' '))) };
    return { [setting]: PRINT_SETTINGS[setting]!.show(ctx.print) };
  }
  if (TERMINAL_SETTINGS.has(word)) return { ignored: word };
  if (word === 'substitute-path') {
    if (rest.length !== 2) throw new CommandError('usage: set substitute-path FROM TO');
    sourcePaths(ctx).substitute(rest[0]!, rest[1]!);
    return { substitutePath: sourcePaths(ctx).substitutions };
  }
  const m = /^\s*(?:var(?:iable)?\s+)?(.*)$/s.exec(args)!;
  const expr = m[1]!.trim();
  if (!/[^=!<>]=[^=]/.test(expr)) throw new CommandError('usage: set var EXPR = VALUE');
  await ctx.session.value(expr, ctx.selected);
  return { assigned: expr };
}

/** show convenience: gdb's listing of convenience variables, the latest first; show print NAME. */
export async function showCommand(ctx: CommandContext, args: string, out: Out): Promise<unknown> {
  const what = args.trim();
  const [word = '', name = ''] = what.split(/\s+/);
  if (word === 'print' || word === 'p' || word === 'pr') {
    const setting = Object.keys(PRINT_SETTINGS).find((k) => name.length > 0 && k.startsWith(name));
    if (!setting)
      throw new CommandError(`show print: duster has ${Object.keys(PRINT_SETTINGS).join(', ')}${name ? ` (got '${name}')` : ''}`);
    const text = PRINT_SETTINGS[setting]!.show(ctx.print ?? {});
    out(`${text}\n`);
    return { [setting]: text };
  }
  if (word === 'substitute-path') {
    const rules = sourcePaths(ctx).substitutions;
    out(`List of all source path substitution rules:\n${rules.map((r) => `  \`${r.from}' -> \`${r.to}'.\n`).join('')}`);
    return { substitutePath: rules };
  }
  if (word === 'directories') return showDirectories(ctx, out);
  if (!what || !'convenience'.startsWith(what) || what.length < 4)
    throw new CommandError(`show: duster shows 'convenience' and 'print pretty|elements|repeats' (got '${what}')`);
  const s = ctx.session;
  const vars = [...s.inspector.convenience].reverse();
  if (!vars.length) {
    out(
      'No debugger convenience values now defined.\nConvenience variables have names starting with "$";\nuse "set" as in "set $foo = 5" to define them.\n',
    );
    return {};
  }
  const shown: Record<string, string> = {};
  for (const [name, v] of vars) {
    shown[name] = await formatValue(s.inspector.reader, v, ctx.print).catch((e: Error) => `<error: ${e.message}>`);
    out(`$${name} = ${shown[name]}\n`);
  }
  return shown;
}

/** ptype[/o] EXPR|TYPE and whatis EXPR|TYPE; /o adds gdb's offsets, sizes, holes and padding. */
export async function ptypeCommand(ctx: CommandContext, args: string, out: Out, whatis: boolean): Promise<unknown> {
  const s = ctx.session;
  let text = args.trim();
  let offsets = false;
  const flags = /^\/(\w*)\s*/.exec(text);
  if (flags) {
    if (/[^o]/.test(flags[1]!)) throw new CommandError(`unrecognized flag '${flags[1]!.replace(/o/g, '')[0]}' (duster has /o)`);
    offsets = !whatis;
    text = text.slice(flags[0].length);
  }
  if (!text) throw new CommandError(`${whatis ? 'whatis' : 'ptype'} needs an expression or a type`);
  // An expression names a value's type; failing that, the text may be a type name itself.
  const value = await s.value(text, ctx.selected).catch((e: Error) => e);
  const type = value instanceof Error ? s.program?.symbols.findType(text) : value.type;
  if (!type) throw value;
  if (offsets) {
    const shown = ptypeOffsets(type);
    out(`${shown}\n`);
    return { type: shown };
  }
  const shown = whatis ? typeName(type) : ptype(type);
  out(`type = ${shown}\n`);
  return { type: shown };
}

export async function listCommand(ctx: CommandContext, args: string, out: Out): Promise<unknown> {
  const s = ctx.session;
  const p = s.program;
  if (!p) throw new CommandError('No symbol table is loaded.');
  let file: string | undefined;
  let center: number;
  const t = args.trim();
  // A bare `list` after a listing at the same stop goes on after it; `list -` shows the ten before.
  const last = ctx.listing?.stop === s.stop ? ctx.listing : undefined;
  if (last && (t === '' || t === '-')) {
    const first = t === '-' ? Math.max(1, last.first - 10) : last.next;
    if (t === '-' && last.first === 1) throw new CommandError('Already at the start of ' + displayFile(s, last.file) + '.');
    return listLines(ctx, last.file, first, t === '-' ? last.first : first + 10, out);
  }
  if (t) {
    const spec = await locationSpec(ctx, t);
    // A function is listed around where it begins, not where a breakpoint on it goes (gdb's).
    const entry = spec.kind === 'function' ? p.symbols.findFunction(spec.name)?.address : undefined;
    const locs = entry === undefined ? await s.resolveLocation(spec) : [{ address: entry }];
    const hit = locs[0] && p.symbols.lineAt(locs[0].address, { gdb: true });
    if (!hit) throw new CommandError(`no source for ${t}`);
    file = hit.file;
    center = spec.kind === 'line' ? spec.line : hit.line;
  } else {
    const f = await s.inspector.frame(ctx.selected.thread, ctx.selected.level);
    if (!f.file || !f.line) throw new CommandError('No line number information for the current frame.');
    file = f.file;
    center = f.line;
  }
  const first = Math.max(1, center - 5);
  return listLines(ctx, file, first, first + 10, out);
}

/** Source lines [first, end) of `file`, remembered for the next bare `list`. */
function listLines(ctx: CommandContext, file: string, first: number, end: number, out: Out): unknown {
  const s = ctx.session;
  const lines: string[] = [];
  for (let n = first; n < end; n++) {
    const text = s.program!.sourceLine(file, n);
    if (text === undefined) break;
    lines.push(text);
    out(`${n}\t${text}\n`);
  }
  if (!lines.length) {
    if (!s.program!.hasSource(file)) throw new CommandError(`${first}\t${displayFile(s, file)}: No such file or directory.`);
    throw new CommandError(`Line number ${first} out of range; "${displayFile(s, file)}" has ${countLines(s, file)} lines.`);
  }
  ctx.listing = { file, first, next: first + lines.length, stop: s.stop };
  return { file, first, lines };
}

function countLines(s: CommandContext['session'], file: string): number {
  let n = 0;
  while (s.program!.sourceLine(file, n + 1) !== undefined) n++;
  return n;
}

function sourcePaths(ctx: CommandContext) {
  if (!ctx.session.program) throw new CommandError('no symbols loaded: there are no source files to find');
  return ctx.session.program.sourcePaths;
}

/** directory DIR...: search DIR for source files (before the directories added earlier), as gdb. */
export async function directoryCommand(ctx: CommandContext, args: string, out: Out): Promise<unknown> {
  const dirs = args.trim().split(/\s+/).filter(Boolean);
  if (!dirs.length) throw new CommandError('usage: directory DIR... (duster keeps the directories for the session)');
  for (const d of dirs.reverse()) sourcePaths(ctx).directory(d);
  return showDirectories(ctx, out);
}

function showDirectories(ctx: CommandContext, out: Out): unknown {
  const dirs = sourcePaths(ctx).directories;
  out(`Source directories searched: ${[...dirs, '$cdir', '$cwd'].join(':')}\n`);
  return { directories: dirs };
}

const X87_CONTROL_PC = ['Single Precision (24-bits)', 'Reserved', 'Double Precision (53-bits)', 'Extended Precision (64-bits)'];
const X87_CONTROL_RC = ['Round to nearest', 'Round down', 'Round up', 'Round toward zero'];
const X87_TAGS = ['Valid   ', 'Zero    ', 'Special ', 'Empty   '];

/** Each named bit of `v` as gdb's x87 status and control lines show it: the name, or blanks. */
const bitColumns = (v: bigint, bits: Array<[number, string]>) => bits.map(([b, n]) => ` ${(v >> BigInt(b)) & 1n ? n : '  '}`).join('');

/** info float: the x87 registers R7-R0 (physical), status, control and tag words, as gdb shows them. */
export async function infoFloat(ctx: CommandContext, _args: string, out: Out): Promise<unknown> {
  const r = await ctx.session.frameRegisters(ctx.selected);
  const get = (n: string) => r.get(n);
  const fstat = get('fstat');
  const fctrl = get('fctrl');
  const ftag = get('ftag');
  if (fstat === undefined || fctrl === undefined) throw new CommandError('The target has no x87 registers.');
  const top = Number((fstat >> 11n) & 7n);
  const physical: Record<string, string> = {};
  for (let i = 7; i >= 0; i--) {
    // R(i) is ST((i - TOP) mod 8); the engine's st<k> is ST(k).
    const v = get(`st${(i - top + 8) & 7}`);
    const tag = ftag === undefined ? -1 : Number((ftag >> BigInt(2 * i)) & 3n);
    let line = `${i === top ? '=>' : '  '}R${i}: ${tag < 0 ? 'Unknown ' : X87_TAGS[tag]}`;
    if (v === undefined) line += '<unavailable>';
    else {
      line += `0x${v.toString(16).padStart(20, '0')}`;
      physical[`R${i}`] = line.slice(2);
      if (tag >= 0 && tag !== 3) line += x87Text(v);
    }
    out(`${line}\n`);
  }
  const hex4 = (n: bigint | undefined, w: number) => (n === undefined ? '<unavailable>' : `0x${n.toString(16).padStart(w, '0')}`);
  out('\n');
  out(
    `Status Word:         ${hex4(fstat, 4)}  ${bitColumns(fstat, [
      [0, 'IE'],
      [1, 'DE'],
      [2, 'ZE'],
      [3, 'OE'],
      [4, 'UE'],
      [5, 'PE'],
    ])}  ${bitColumns(fstat, [[7, 'ES']])}  ${bitColumns(fstat, [[6, 'SF']])}  ${bitColumns(fstat, [
      [8, 'C0'],
      [9, 'C1'],
      [10, 'C2'],
      [14, 'C3'],
    ])}\n`,
  );
  out(`                       TOP: ${top}\n`);
  out(
    `Control Word:        ${hex4(fctrl, 4)}  ${bitColumns(fctrl, [
      [0, 'IM'],
      [1, 'DM'],
      [2, 'ZM'],
      [3, 'OM'],
      [4, 'UM'],
      [5, 'PM'],
    ])}\n`,
  );
  out(`                       PC: ${X87_CONTROL_PC[Number((fctrl >> 8n) & 3n)]}\n`);
  out(`                       RC: ${X87_CONTROL_RC[Number((fctrl >> 10n) & 3n)]}\n`);
  out(`Tag Word:            ${hex4(ftag, 4)}\n`);
  out(`Instruction Pointer: ${hex4(get('fiseg'), 2)}:${hex4(get('fioff'), 8)}\n`);
  out(`Operand Pointer:     ${hex4(get('foseg'), 2)}:${hex4(get('fooff'), 8)}\n`);
  const fop = get('fop');
  out(`Opcode:              ${hex4(fop === undefined ? undefined : fop ? fop | 0xd800n : 0n, 4)}\n`);
  return { top, registers: physical, fstat: hex(fstat), fctrl: hex(fctrl) };
}

/** An x87 register's value as gdb's info float shows it: ` %-+27.19g`, or its class. */
function x87Text(v: bigint): string {
  const exponent = Number((v >> 64n) & 0x7fffn);
  const integer = (v >> 63n) & 1n;
  const fraction = v & ((1n << 63n) - 1n);
  const negative = (v >> 79n) & 1n;
  if (exponent === 0x7fff && integer) {
    if (fraction === 0n) return ` ${negative ? '-' : '+'}Inf`;
    if (negative && fraction === 1n << 62n) return ' Real Indefinite (QNaN)';
    return fraction & (1n << 62n) ? ' QNaN' : ' SNaN';
  }
  if (exponent === 0x7fff || (exponent > 0 && !integer)) return ' Unsupported';
  const bytes = Buffer.alloc(10);
  for (let i = 0; i < 10; i++) bytes[i] = Number((v >> BigInt(8 * i)) & 0xffn);
  const text = formatFloatBytes(bytes, 19)!;
  let line = ` ${(text.startsWith('-') ? text : `+${text}`).padEnd(27)}`;
  if (exponent === 0 && integer) line += ' Pseudo-denormal';
  else if (exponent === 0 && fraction) line += ' Denormal';
  return line;
}
