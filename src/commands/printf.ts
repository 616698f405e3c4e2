// echo, output and printf: the script-writing commands, with gdb's escapes and conversions.
import type { CommandContext } from './context.js';
import { CommandError } from './interpreter.js';
import type { Out } from './table.js';
import { readEscape } from '../engine/expr/index.js';
import { asInteger, asNumber, formatValue } from '../engine/values.js';
import { stripTypedefs } from '../../symbols/index.js';
import type { Value } from '../engine/values.js';
import { parsePrintFormat } from './data.js';

/** C escapes as gdb's echo and printf read them; an unknown one is its character. */
function unescape(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const e = text[i] === '\\' ? readEscape(text, i) : undefined;
    if (e) i += e.length - 1;
    else if (text[i] === '\\' && i + 1 < text.length) i++;
    out += e ? e.char : text[i];
  }
  return out;
}

export function echoCommand(_ctx: CommandContext, args: string, out: Out): unknown {
  // A trailing backslash is gdb's way to keep trailing spaces; it prints nothing itself.
  const text = unescape(args.replace(/\\$/, ''));
  out(text);
  return { text };
}

/** output EXPR: the value as print shows it, without `$N = ` or a newline. */
export async function outputCommand(ctx: CommandContext, args: string, out: Out): Promise<unknown> {
  const { format, rest } = parsePrintFormat(args.trim(), 'output');
  if (!rest) throw new CommandError('output needs an expression');
  const s = ctx.session;
  const text = await formatValue(s.inspector.readerFor(ctx.selected.thread), await s.value(rest, ctx.selected), {
    ...ctx.print,
    ...(format && { format }),
  });
  out(text);
  return { value: text };
}

interface Conversion {
  spec: string;
  flags: string;
  width: string;
  precision: string;
  length: string;
  conv: string;
}

export async function printfCommand(ctx: CommandContext, args: string, out: Out): Promise<unknown> {
  const m = /^\s*"((?:[^"\\]|\\.)*)"\s*(.*)$/s.exec(args);
  if (!m) throw new CommandError('Bad format string: printf "FORMAT", ARGS...');
  const format = unescape(m[1]!);
  const rest = m[2]!.trim();
  if (rest && !rest.startsWith(',')) throw new CommandError('Invalid argument syntax');
  const exprs = rest ? splitArgs(rest.slice(1)) : [];
  const pieces: Array<string | Conversion> = [];
  const re = /%([-+ #0]*)(\d*|\*)(?:\.(\d*))?(ll|l|z|L)?([diouxXcsfgeEGp%])/g;
  let last = 0;
  for (let c = re.exec(format); c; c = re.exec(format)) {
    pieces.push(format.slice(last, c.index));
    last = re.lastIndex;
    if (c[5] === '%') pieces.push('%');
    else if (c[2] === '*') throw new CommandError("'*' widths are not supported in printf");
    else pieces.push({ spec: c[0], flags: c[1]!, width: c[2]!, precision: c[3] ?? '', length: c[4] ?? '', conv: c[5]! });
  }
  const bad = /%[-+ #0]*\d*(?:\.\d*)?(ll|l|z|L)?([^diouxXcsfgeEGp%])/.exec(format.slice(last));
  if (bad) throw new CommandError(`Unrecognized format specifier '${bad[2]}' in printf`);
  pieces.push(format.slice(last));
  const conversions = pieces.filter((p): p is Conversion => typeof p !== 'string');
  if (conversions.length !== exprs.length) throw new CommandError('Wrong number of arguments for specified format-string');
  const s = ctx.session;
  const values = await Promise.all(exprs.map((e) => s.value(e, ctx.selected)));
  let text = '';
  let i = 0;
  for (const p of pieces) text += typeof p === 'string' ? p : await convert(ctx, p, values[i++]!);
  out(text);
  return { text };
}

/** Arguments split at the commas between them (not those inside brackets, strings or chars). */
function splitArgs(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (c === ',' && depth === 0) {
      out.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(text.slice(start).trim());
  if (out.some((a) => !a)) throw new CommandError('Invalid argument syntax');
  return out;
}

async function convert(ctx: CommandContext, c: Conversion, v: Value): Promise<string> {
  const r = ctx.session.inspector.readerFor(ctx.selected.thread);
  const t = stripTypedefs(v.type);
  if (c.conv === 's') {
    // A char array is its own text (a literal's too); a pointer names where the string is.
    if (t.kind === 'array' && v.bytes && v.place.kind !== 'memory') {
      const bytes = Buffer.from(v.bytes);
      const end = bytes.indexOf(0);
      return pad(
        c,
        bytes
          .subarray(0, end < 0 ? bytes.length : end)
          .toString('latin1')
          .slice(0, c.precision ? Number(c.precision) : undefined),
      );
    }
    const address = t.kind === 'array' && v.place.kind === 'memory' ? v.place.address : await asInteger(r, v);
    const max = c.precision ? Number(c.precision) : 65536;
    const { value } = await ctx.session.code.readCString(address, max, ctx.selected.thread);
    return pad(c, value);
  }
  if ('fgeEG'.includes(c.conv)) return pad(c, floatText(c, await asNumber(r, v)));
  const raw = t.kind === 'array' && v.place.kind === 'memory' ? v.place.address : await asInteger(r, v);
  if (c.conv === 'p') return pad(c, raw === 0n ? '(nil)' : `0x${BigInt.asUintN(64, raw).toString(16)}`);
  const bits = c.length ? 64 : 32;
  if (c.conv === 'c') return pad(c, String.fromCharCode(Number(BigInt.asUintN(8, raw))));
  const signed = c.conv === 'd' || c.conv === 'i';
  const n = signed ? BigInt.asIntN(bits, raw) : BigInt.asUintN(bits, raw);
  const neg = n < 0n;
  let digits = (neg ? -n : n).toString({ o: 8, x: 16, X: 16 }[c.conv] ?? 10);
  if (c.conv === 'X') digits = digits.toUpperCase();
  if (c.precision) digits = digits.padStart(Number(c.precision), '0');
  let prefix = neg ? '-' : c.flags.includes('+') && signed ? '+' : c.flags.includes(' ') && signed ? ' ' : '';
  if (c.flags.includes('#') && n !== 0n)
    prefix += c.conv === 'x' ? '0x' : c.conv === 'X' ? '0X' : c.conv === 'o' && !digits.startsWith('0') ? '0' : '';
  return pad(c, digits, prefix);
}

function floatText(c: Conversion, n: number): string {
  const p = c.precision ? Number(c.precision) : 6;
  switch (c.conv) {
    case 'f':
      return n.toFixed(p);
    case 'e':
    case 'E': {
      const t = n.toExponential(p).replace(/e([+-])(\d)$/, 'e$10$2');
      return c.conv === 'E' ? t.toUpperCase() : t;
    }
    default: {
      // %g: the shorter of %e and %f at P significant digits, trailing zeros dropped.
      const g = Number(n.toPrecision(Math.max(1, p)));
      const exp = g === 0 ? 0 : Math.floor(Math.log10(Math.abs(g)));
      const t =
        exp < -4 || exp >= Math.max(1, p)
          ? g
              .toExponential(Math.max(0, p - 1))
              .replace(/\.?0+e/, 'e')
              .replace(/e([+-])(\d)$/, 'e$10$2')
          : String(g);
      return c.conv === 'G' ? t.toUpperCase() : t;
    }
  }
}

/** Width and the `-` and `0` flags around a converted value. */
function pad(c: Conversion, body: string, prefix = ''): string {
  const width = Number(c.width || 0);
  const len = prefix.length + body.length;
  if (len >= width) return prefix + body;
  if (c.flags.includes('-')) return prefix + body + ' '.repeat(width - len);
  // `0` pads numbers; a precision turns it off for integers only, as in C.
  if (c.flags.includes('0') && !'sc'.includes(c.conv) && (!c.precision || 'fgeEG'.includes(c.conv)))
    return prefix + '0'.repeat(width - len) + body;
  return ' '.repeat(width - len) + prefix + body;
}
