// Where a profiled duster run spent its time: a V8 .cpuprofile (node --cpu-prof) reduced to self
// time per function and per source folder of the repository.
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  /** "function (file:line)" -> self ms, largest first. */
  functions: Array<[string, number]>;
  /** Repository folder ("symbols/dwarf", "gdbstub", ...), "node" or V8's "(garbage collector)" -> self ms. */
  areas: Array<[string, number]>;
}

const repo = path.resolve(import.meta.dirname, '../..');

/**
 * The source file of a line of esbuild's bundle (the CLI runs as one): esbuild heads each module
 * with a `// path` comment. Lines sorted, each with the module that starts there.
 */
function bundleModules(file: string): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  readFileSync(file, 'latin1')
    .split('\n')
    .forEach((l, i) => {
      const m = /^\/\/ ((?:src|symbols|gdbstub|adapter|node_modules)\/\S+\.[cm]?[jt]s)$/.exec(l);
      if (m) out.push([i, m[1]!]);
    });
  return out;
}

export function summarizeProfile(file: string, top = 12): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
  const fns = new Map<string, number>();
  const areas = new Map<string, number>();
  const bundles = new Map<string, Array<[number, string]>>();
  /** Repository-relative file of a frame (its module, in the bundle) and its line there. */
  const source = (f: ProfileNode['callFrame']): string => {
    if (!f.url.startsWith('file://')) return '';
    const local = path.relative(repo, new URL(f.url).pathname);
    if (!local.endsWith('.cjs')) return `${local.replace(/^dist\//, '')}:${f.lineNumber + 1}`;
    if (!bundles.has(local)) bundles.set(local, bundleModules(path.join(repo, local)));
    let at: [number, string] | undefined;
    for (const m of bundles.get(local)!) {
      if (m[0] > f.lineNumber) break;
      at = m;
    }
    return at ? `${at[1]}:+${f.lineNumber - at[0]}` : `${local}:${f.lineNumber + 1}`;
  };
  let total = 0;
  p.samples.forEach((id, i) => {
    const ms = (p.timeDeltas[i] ?? 0) / 1000;
    total += ms;
    const f = byId.get(id)!;
    const where = source(f) || f.url || 'native';
    const local = source(f).replace(/:\+?\d+$/, '');
    const name = `${f.functionName || '(anonymous)'} (${where})`;
    fns.set(name, (fns.get(name) ?? 0) + ms);
    const area = !f.url
      ? f.functionName || 'native'
      : local && !local.startsWith('..') && !local.startsWith('node_modules')
        ? path.dirname(local)
        : local.startsWith('node_modules')
          ? 'node_modules'
          : 'node';
    areas.set(area, (areas.get(area) ?? 0) + ms);
  });
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top);
  return { totalMs: total, functions: sorted(fns), areas: sorted(areas) };
}

export function formatSummary(s: ProfileSummary, top = 5): string {
  const pct = (ms: number) => `${((100 * ms) / s.totalMs).toFixed(0)}%`;
  return `by folder: ${s.areas
    .slice(0, top)
    .map(([a, ms]) => `${a} ${pct(ms)}`)
    .join(', ')}; top functions: ${s.functions
    .slice(0, top)
    .map(([f, ms]) => `${f} ${pct(ms)}`)
    .join(', ')}`;
}
