import { RspMalformedError } from './errors.js';

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
}

/**
 * Parses the XML subset target descriptions use: elements, attributes, comments, the XML declaration
 * and DOCTYPE. Text content is ignored (target descriptions carry everything in attributes).
 */
export function parseXml(text: string): XmlElement {
  const root: XmlElement = { name: '#document', attrs: {}, children: [] };
  const stack: XmlElement[] = [root];
  const clean = text.replace(/<!--[\s\S]*?-->/g, '');
  const tag = /<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|<[?!][^>]*>/g;
  let m: RegExpExecArray | null;
  while ((m = tag.exec(clean))) {
    if (m[2] === undefined) continue; // <?xml ...?> or <!DOCTYPE ...>
    const [, closing, name, attrText, selfClose] = m;
    if (closing) {
      const top = stack.pop();
      if (!top || top.name !== name || stack.length === 0) throw new RspMalformedError(`target description: unexpected </${name}>`);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of attrText!.matchAll(/([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) attrs[a[1]!] = unescape(a[2] ?? a[3] ?? '');
    const el: XmlElement = { name: name!, attrs, children: [] };
    stack[stack.length - 1]!.children.push(el);
    if (!selfClose) stack.push(el);
  }
  if (stack.length !== 1) throw new RspMalformedError(`target description: <${stack[stack.length - 1]!.name}> not closed`);
  return root;
}

function unescape(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos);/g, (_, e: string) => ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" })[e]!);
}
