// Frames: how a stop location is shown, bt, frame/up/down, info frame|locals|args|line|symbol.
import { parameterEntryValue, variableInfoValue } from '../engine/evaluate.js';
import type { Session } from '../engine/session.js';
import type { PlacedStop } from '../engine/stop-event.js';
import { gdbFrameBase, outermostByCfi, savedRegisters, type FrameContext } from '../engine/stack.js';
import { formatValue } from '../engine/values.js';
import { stripTypedefs, typeName, type ElfSymbol } from '../../symbols/index.js';
import { SHF } from '../../symbols/elf/index.js';
import { underCompDir } from '../engine/program.js';
import type { CommandContext } from './context.js';
import { CommandError } from './command-error.js';
import { hex, hex64 } from './format.js';
import type { Out } from './table.js';

/** `name=value` pairs of a frame's arguments; non-scalars print as `...` (gdb's frame-arguments scalars). */
async function frameArgs(s: Session, thread: number, f: FrameContext): Promise<string> {
  const args = f.scope?.variables.filter((v) => v.kind === 'arg') ?? [];
  if (!args.length) return '';
  const ctx = await s.inspector.context(thread, f.level);
  const parts: string[] = [];
  for (const a of args) {
    const t = stripTypedefs(a.type);
    if (t.kind === 'struct' || t.kind === 'union' || t.kind === 'class' || t.kind === 'array') {
      parts.push(`${a.name}=...`);
      continue;
    }
    const v = await variableInfoValue(ctx, a).catch(() => undefined);
    const actual = v ? await formatValue(ctx.reader, v, {}, false) : '<error>';
    const entry = await parameterEntryValue(ctx, a).catch(() => undefined);
    const entryText = entry && (await formatValue(ctx.reader, entry, {}, false));
    // gdb's `print entry-values default`: both when known, shortened when they agree.
    if (entryText === undefined) parts.push(`${a.name}=${actual}`);
    else if (actual === entryText) parts.push(`${a.name}=${a.name}@entry=${actual}`);
    else if (actual.startsWith('<')) parts.push(`${a.name}@entry=${entryText}`);
    else parts.push(`${a.name}=${actual}, ${a.name}@entry=${entryText}`);
  }
  return parts.join(', ');
}

/** gdb shows the pc of a frame unless it is at the start of its line (innermost) or an inline call site. */
function showAddress(s: Session, frames: FrameContext[], f: FrameContext): boolean {
  if ((f.level > 0 && frames[f.level - 1]?.inlined) || f.callSite) return false;
  if (f.line === undefined) return true;
  // A caller's pc is a return address; after an interrupt frame (and at frame 0) it is exact.
  if (f.level > 0 && f.unwoundBy !== 'signal') return true;
  // gdb shows no pc where a line-table row it keeps starts, and that row is a statement.
  const sal = s.program?.symbols.stepLineAt(f.pc);
  return !sal || !sal.atRowStart || !sal.isStmt;
}

/** One frame as gdb's `bt` prints it (without the `#N  ` prefix). */
export async function frameLine(s: Session, thread: number, frames: FrameContext[], f: FrameContext): Promise<string> {
  if (f.signalFrame) return '<signal handler called>';
  const addr = showAddress(s, frames, f) ? `${hex64(f.pc)} in ` : '';
  const name = f.function ?? '??';
  const args = f.function !== undefined && f.scope ? await frameArgs(s, thread, f) : '';
  const where = f.file && f.line ? ` at ${displayFile(s, f.file, f.lookupPc)}:${f.line}` : '';
  return `${addr}${name} (${args})${where}`;
}

/** Paths as gdb shows them: relative to the compilation directory when they are inside it. */
export function displayFile(s: Session, file: string, pc?: bigint): string {
  return s.program?.displayFile(file, pc) ?? file;
}

/**
 * The frame's source line as gdb shows it at a stop. A file that cannot be found: gdb's error the
 * first time in a row, then `LINE\tin FILE`.
 */
function sourceLine(ctx: CommandContext, f: FrameContext): string | undefined {
  const s = ctx.session;
  if (!f.file || !f.line || !s.program) return undefined;
  const missing = !s.program.hasSource(f.file);
  const again = ctx.lastSource?.file === f.file && ctx.lastSource.missing;
  ctx.lastSource = { file: f.file, missing };
  if (missing) return `${f.line}\t${again ? 'in ' : ''}${displayFile(s, f.file, f.pc)}${again ? '' : ': No such file or directory.'}`;
  const text = s.program.sourceLine(f.file, f.line);
  return text === undefined ? undefined : `${f.line}\t${text}`;
}

/** The `func (args) at file:line` line and the source line, as gdb prints after a stop. */
export async function announceFrame(
  ctx: CommandContext,
  stop: PlacedStop,
  out: Out,
  steppedFrom?: { function?: string; cfa?: bigint },
): Promise<unknown> {
  const s = ctx.session;
  const { frames } = await s.backtrace(stop.thread);
  const f = frames[ctx.selected.level] ?? frames[0]!;
  const src = sourceLine(ctx, f);
  // A step that stays in its frame shows only the line (with the pc when it is mid-line), as gdb does.
  if (steppedFrom && src && f.function === steppedFrom.function && f.cfa === steppedFrom.cfa) {
    out(`${showAddress(s, frames, f) ? `${hex64(f.pc)}\t` : ''}${src}\n`);
  } else await printFrame(ctx, stop.thread, frames, f, out, false);
  return frameData(f);
}

export async function printFrame(
  ctx: CommandContext,
  thread: number,
  frames: FrameContext[],
  f: FrameContext,
  out: Out,
  withLevel: boolean,
): Promise<void> {
  const s = ctx.session;
  const line = await frameLine(s, thread, frames, f);
  // gdb shows no source under `<signal handler called>`.
  const src = f.signalFrame ? undefined : sourceLine(ctx, f);
  // After a stop at the start of a line gdb prints only the source line's own header.
  out(`${withLevel ? `#${f.level}  ` : ''}${line}\n`);
  if (src) out(`${src}\n`);
}

export function frameData(f: FrameContext): unknown {
  return {
    level: f.level,
    pc: hex(f.pc),
    ...(f.function && { function: f.function }),
    ...(f.file && { file: f.file, line: f.line }),
    ...(f.inlined && { inlined: true }),
    ...(f.cfa !== undefined && { cfa: hex(f.cfa) }),
  };
}

/** What heads every backtrace while the symbols are known not to belong to the guest. */
export const SYMBOLS_MISMATCH = '(symbols do not match the guest)';

export async function backtraceCommand(ctx: CommandContext, args: string, out: Out): Promise<unknown> {
  const s = ctx.session;
  const words = args.trim().split(/\s+/).filter(Boolean);
  const full = words.includes('full') || words.includes('-full');
  const limitWord = words.find((w) => /^-?\d+$/.test(w));
  const bad = words.find((w) => w !== 'full' && w !== '-full' && w !== limitWord);
  if (bad) throw new CommandError(`bt: unknown argument '${bad}'`);
  const limit = limitWord ? Math.abs(Number(limitWord)) : Infinity;
  const thread = ctx.selected.thread;
  const { frames, incomplete } = await s.backtrace(thread);
  const shown = frames.slice(0, limit);
  if (s.symbolsMismatch) out(`${SYMBOLS_MISMATCH}\n`);
  for (const f of shown) {
    out(`#${String(f.level).padEnd(3)}${await frameLine(s, thread, frames, f)}\n`);
    if (full && f.scope) {
      const ctx2 = await s.inspector.context(thread, f.level);
      const locals = f.scope.variables.filter((v) => v.kind === 'local');
      if (!locals.length) out('No locals.\n');
      for (const v of locals) out(`        ${v.name} = ${await formatValue(ctx2.reader, await variableInfoValue(ctx2, v), {}, false)}\n`);
    }
  }
  // gdb says so only to a person (from_tty), not in a script or --batch.
  if (frames.length > shown.length && ctx.fromTty) out('(More stack frames follow...)\n');
  else if (incomplete) out(`Backtrace stopped: ${incomplete}\n`);
  return { thread, frames: shown.map(frameData), ...(incomplete && { incomplete }), ...(s.symbolsMismatch && { symbolsMismatch: true }) };
}

export async function frameCommand(ctx: CommandContext, args: string, out: Out, move?: 'up' | 'down'): Promise<unknown> {
  const s = ctx.session;
  const t = args.trim();
  if (t && !/^\d+$/.test(t)) throw new CommandError(`bad frame number '${t}'`);
  const n = t ? Number(t) : 1;
  const { frames } = await s.backtrace(ctx.selected.thread);
  let level = ctx.selected.level;
  if (move === 'up') {
    if (level + n >= frames.length && level === frames.length - 1) throw new CommandError('Initial frame selected; you cannot go up.');
    level = Math.min(frames.length - 1, level + n);
  } else if (move === 'down') {
    if (level === 0) throw new CommandError('Bottom (innermost) frame selected; you cannot go down.');
    level = Math.max(0, level - n);
  } else if (t) level = n;
  const f = frames[level];
  if (!f) throw new CommandError(`No frame at level ${level}.`);
  ctx.selected = { thread: ctx.selected.thread, level };
  out(`#${String(level).padEnd(3)}`);
  await printFrame(ctx, ctx.selected.thread, frames, f, out, false);
  return frameData(f);
}

export async function infoVariables(ctx: CommandContext, out: Out, kind: 'arg' | 'local'): Promise<unknown> {
  const s = ctx.session;
  const f = await s.inspector.frame(ctx.selected.thread, ctx.selected.level);
  if (!s.program) throw new CommandError('No symbol table is loaded.');
  const vars = (f.scope?.variables ?? []).filter((v) => v.kind === kind);
  if (!f.scope) throw new CommandError('No symbol table info available.');
  if (!vars.length) {
    out(kind === 'arg' ? 'No arguments.\n' : 'No locals.\n');
    return [];
  }
  const c = await s.inspector.context(ctx.selected.thread, ctx.selected.level);
  const data: Record<string, string> = {};
  for (const v of vars) {
    const text = await variableInfoValue(c, v).then(
      (x) => formatValue(c.reader, x, ctx.print, false),
      (e: Error) => `<error: ${e.message}>`,
    );
    data[v.name] = text;
    out(`${v.name} = ${text}\n`);
  }
  return data;
}

/** gdb's names for DW_AT_language values, as `info frame` says "source language". */
function languageName(lang: number | undefined): string {
  if (lang === undefined) return 'unknown';
  if ([0x01, 0x02, 0x0c, 0x1d, 0x2c].includes(lang)) return 'c';
  if ([0x04, 0x1a, 0x21, 0x2b].includes(lang)) return 'c++';
  if (lang === 0x8001) return 'asm';
  if (lang === 0x1c) return 'rust';
  return 'unknown';
}

/** info frame as gdb prints it: frame base and saved registers by gdb's rules (--json adds how duster unwound it). */
export async function infoFrame(ctx: CommandContext, _args: string, out: Out): Promise<unknown> {
  const s = ctx.session;
  const { frames } = await s.backtrace(ctx.selected.thread);
  const f = frames[ctx.selected.level]!;
  const p = s.program;
  const at = (x: FrameContext | undefined) => (x?.cfa !== undefined && !(p && outermostByCfi(p, x)) ? hex(x.cfa) : '0x0');
  out(`Stack level ${f.level}, frame at ${at(f)}:\n`);
  // gdb's saved rip is the caller's pc past the frames it made up (inlined calls, tail calls).
  let physical = f.level;
  while (frames[physical] && (frames[physical]!.inlined || frames[physical]!.unwoundBy === 'tail-call')) physical++;
  const savedRip = frames[physical + 1] ? hex(frames[physical + 1]!.pc) : '<not saved>';
  out(
    ` rip = ${hex(f.pc)}${f.function ? ` in ${f.function}` : ''}${f.file ? ` (${displayFile(s, f.file, f.lookupPc)}:${f.line})` : ''}; saved rip = ${savedRip}\n`,
  );
  const made = f.inlined || f.unwoundBy === 'tail-call';
  const calling = frames[f.level + 1];
  const links = [
    ...(!calling
      ? []
      : f.unwoundBy === 'tail-call'
        ? ['tail call frame']
        : f.inlined
          ? [`inlined into frame ${f.level + 1}`]
          : [`called by frame at ${at(calling)}`]),
    ...(f.level > 0 ? [`caller of frame at ${at(frames[f.level - 1])}`] : []),
  ];
  if (!calling && p && outermostByCfi(p, f)) out(' Outermost frame: outermost\n');
  if (links.length) out(` ${links.join(', ')}\n`);
  if (p) out(` source language ${languageName(p.symbols.languageAt(f.lookupPc))}.\n`);
  const base = p && !made ? await gdbFrameBase(p, f) : undefined;
  const args = f.function !== undefined && f.scope ? await frameArgs(s, ctx.selected.thread, f) : '';
  out(base === undefined ? ' Arglist at unknown address.\n' : ` Arglist at ${hex(base)}, args: ${args}\n`);
  // A caller made up from call sites (a tail call) has its pc and sp computed, not saved: its sp is
  // where the return address is.
  const tailCaller = calling?.unwoundBy === 'tail-call';
  // An inlined frame's caller has the very same sp: still in the register.
  const previousSp = f.inlined ? 'in rsp' : `is ${tailCaller && f.cfa !== undefined ? hex(f.cfa - 8n) : at(f)}`;
  out(` Locals at ${base === undefined ? 'unknown address' : hex(base)}, Previous frame's sp ${previousSp}\n`);
  const saved = (p && !made ? savedRegisters(p, f) : []).filter((r) => !(tailCaller && r.name === 'rip'));
  if (saved.length) out(` Saved registers:\n  ${saved.map((r) => `${r.name} at ${hex(r.address)}`).join(', ')}\n`);
  return {
    ...(frameData(f) as object),
    unwoundBy: f.unwoundBy,
    ...(base !== undefined && { base: hex(base) }),
    saved: Object.fromEntries(saved.map((r) => [r.name, hex(r.address)])),
  };
}

export async function infoLine(ctx: CommandContext, args: string, out: Out): Promise<unknown> {
  const s = ctx.session;
  const p = s.program;
  if (!p) throw new CommandError('No symbol table is loaded.');
  const pc = args.trim()
    ? await s.evaluateInteger(args.trim().replace(/^\*/, ''), ctx.selected)
    : (await s.inspector.frame(ctx.selected.thread, ctx.selected.level)).pc;
  const sal = p.symbols.stepLineAt(pc);
  if (!sal) throw new CommandError(`No line number information available for address ${hex(pc)}`);
  const { start, end } = sal.row;
  out(
    `Line ${sal.line} of "${displayFile(s, sal.file, pc)}" starts at address ${hex(start)}${s.code.symbolSuffix(start)} and ends at ${hex(end)}${s.code.symbolSuffix(end)}.\n`,
  );
  // As gdb: `x/i $_` goes on from the line's first instruction.
  s.inspector.setConvenience('_', { kind: 'pointer', target: { kind: 'void' }, size: 8 }, start);
  return { line: sal.line, file: sal.file, start: hex(start), end: hex(end) };
}

export async function infoSymbol(ctx: CommandContext, args: string, out: Out): Promise<unknown> {
  const s = ctx.session;
  const a = await s.evaluateInteger(args.trim(), ctx.selected);
  const hit = s.program?.symbols.minimalSymbolAt(a);
  if (!hit) {
    out(`No symbol matches ${args.trim()}.\n`);
    return null;
  }
  const sec = hit.section.name;
  out(`${hit.symbol.name}${hit.offset ? ` + ${hit.offset}` : ''} in section ${sec}\n`);
  return { symbol: hit.symbol.name, offset: Number(hit.offset), section: sec };
}

/**
 * info functions|variables [REGEX]: gdb's listing of the functions (with a concrete copy) or
 * unit-level variables whose names match, by declaring file, then the ELF symbols no debug
 * information covers ("Non-debugging symbols").
 */
export async function infoSymbols(ctx: CommandContext, args: string, out: Out, what: 'functions' | 'variables'): Promise<unknown> {
  const s = ctx.session;
  const p = s.program;
  if (!p) throw new CommandError('No symbol table is loaded.');
  const pattern = args.trim();
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch (e) {
    throw new CommandError(`Invalid regexp: ${(e as Error).message}`);
  }
  const sym = p.symbols;
  const hits = what === 'functions' ? sym.searchFunctions(re) : sym.searchVariables(re);
  // One line per file and declaration (a static inline function has a copy in every unit).
  const byFile = new Map<string, Map<string, string>>();
  for (const h of hits) {
    // Without DW_AT_decl_file (gas's functions) a symbol belongs to its unit's primary file.
    const file = h.file ? underCompDir(h.file, h.unit.compDir) : (h.unit.name ?? '??');
    const asm = h.unit.language === 0x8001;
    const decl = asm && what === 'functions' ? `void ${h.name}(void)` : typeName(h.type, h.name);
    const text = `${h.line !== undefined ? `${h.line}:` : ''}\t${h.external ? '' : 'static '}${decl};`;
    const lines = byFile.get(file) ?? new Map<string, string>();
    // gdb's order in a file: external symbols (its global block) first, then static ones, by name.
    lines.set(`${h.external ? 0 : 1}${h.name}\u0000${text}`, text);
    byFile.set(file, lines);
  }
  out(
    pattern
      ? `All ${what === 'functions' ? 'functions' : 'variables'} matching regular expression "${pattern}":\n`
      : `All defined ${what}:\n`,
  );
  const data: Record<string, string[]> = {};
  for (const file of [...byFile.keys()].sort()) {
    const lines = [...byFile.get(file)!].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, t]) => t);
    out(`\nFile ${file}:\n${lines.join('\n')}\n`);
    data[file] = lines;
  }
  // ELF symbols with no debug information (labels included): code no unit covers, data no variable names.
  const elf = sym.elf;
  const inCode = (e: ElfSymbol) => (elf.sections[e.shndx]!.flags & SHF.EXECINSTR) !== 0n;
  const inSection = (e: ElfSymbol) => {
    const sec = elf.sections[e.shndx]!;
    return e.address >= sec.addr && e.address <= sec.addr + BigInt(sec.size);
  };
  const bare = elf.symbols.sorted
    .filter(
      (e) =>
        (e.type === 2 || e.type === 1 || e.type === 0) &&
        e.name &&
        e.shndx > 0 &&
        e.shndx < elf.sections.length &&
        inSection(e) &&
        re.test(e.name),
    )
    .filter((e) => (what === 'functions' ? inCode(e) && sym.index.unitsAt(e.address).length === 0 : !inCode(e) && !sym.findGlobal(e.name)))
    .sort((a, b) => (a.address !== b.address ? (a.address < b.address ? -1 : 1) : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (bare.length) {
    out(`\nNon-debugging symbols:\n${bare.map((e) => `${hex64(e.address)}  ${e.name}`).join('\n')}\n`);
    data['Non-debugging symbols'] = bare.map((e) => e.name);
  }
  return data;
}
