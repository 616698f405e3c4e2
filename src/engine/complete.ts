// Completing C expressions as they are typed: the identifier that ends the text, from the
// frame's variables, the image's globals and functions; after `x.` or `x->`, the members of x's
// type (x is evaluated in the frame for its type, nothing is printed).
import { stripTypedefs, type Type } from '../../symbols/index.js';
import type { Inspector } from './inspect.js';
import type { FramePosition } from './model.js';

interface Completion {
  label: string;
  kind: 'variable' | 'function' | 'property';
}

/** Where the completed word starts in the text and what may replace it. */
export interface Completions {
  start: number;
  items: Completion[];
}

/** Enough for a menu: more means the prefix is too short to be useful. */
const MAX_ITEMS = 200;

/** `object.` or `object->` then a partial member name; object is a postfix chain of names, members and indexes. */
const MEMBER = /([A-Za-z_$][\w$]*(?:\s*(?:\.|->)\s*[A-Za-z_]\w*|\[[^\][]*\])*)\s*(\.|->)\s*([A-Za-z_]\w*)?$/;
const IDENT = /[A-Za-z_]\w*$/;

export async function completeExpression(inspector: Inspector, text: string, at: FramePosition | undefined): Promise<Completions> {
  const member = MEMBER.exec(text);
  if (member) {
    const prefix = member[3] ?? '';
    const start = text.length - prefix.length;
    if (!at) return { start, items: [] };
    const names = await memberNames(inspector, member[1]!, member[2] === '->', at).catch(() => []);
    return { start, items: pick(names, prefix).map((label) => ({ label, kind: 'property' as const })) };
  }
  const prefix = IDENT.exec(text)?.[0] ?? '';
  const start = text.length - prefix.length;
  // A number is no identifier: `0x1f` must not complete.
  if (!prefix || /[\w$]$/.test(text.slice(0, start))) return { start, items: [] };
  const items: Completion[] = [];
  const seen = new Set<string>();
  const add = (label: string, kind: Completion['kind']) => {
    if (!seen.has(label) && items.length < MAX_ITEMS) {
      seen.add(label);
      items.push({ label, kind });
    }
  };
  if (at) {
    const frame = await inspector.frame(at.thread, at.level).catch(() => undefined);
    for (const v of pick(frame?.scope?.variables.map((x) => x.name) ?? [], prefix)) add(v, 'variable');
  }
  const names = inspector.program?.symbols.names;
  if (names) {
    for (const g of pick(names.globalNames(), prefix)) add(g, 'variable');
    for (const f of pick(names.functionNames(), prefix)) add(f, 'function');
  }
  return { start, items };
}

function pick(names: string[], prefix: string): string[] {
  return names.filter((n) => n.startsWith(prefix)).sort();
}

async function memberNames(inspector: Inspector, object: string, arrow: boolean, at: FramePosition): Promise<string[]> {
  let type: Type = stripTypedefs((await inspector.evaluate(object, at.thread, at.level)).type);
  if (arrow) {
    if (type.kind !== 'pointer') return [];
    type = stripTypedefs(type.target);
  }
  if (type.kind !== 'struct' && type.kind !== 'union' && type.kind !== 'class') return [];
  return type.members.flatMap((m) => (m.name !== undefined ? [m.name] : []));
}
