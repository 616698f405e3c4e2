// The layering ARCHITECTURE.md describes, enforced: each layer imports only the layers below it.
// The libraries (gdbstub/, symbols/) know nothing of duster; the engine knows no front end, no OS
// plugin and no launcher; OS plugins see the engine's interfaces, never its Session; the front ends
// (adapter/, src/commands/) reach the guest only through the engine and never through each other.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');

/** Each layer and the layers it may import (itself always). */
const ALLOWED: Record<string, string[]> = {
  gdbstub: [],
  symbols: [],
  'src/util': [],
  'src/targets': ['gdbstub', 'symbols', 'src/util'],
  'src/qemu': ['src/util'],
  'src/xen': ['src/qemu', 'src/targets', 'src/util'],
  'src/engine': ['src/targets', 'symbols', 'src/util'],
  'src/os': ['src/engine', 'src/targets', 'symbols'],
  'src/open': ['src/engine', 'src/os', 'src/qemu', 'src/xen', 'src/targets', 'symbols'],
  'src/commands': ['src/engine', 'src/targets', 'src/qemu', 'symbols', 'src/util'],
  adapter: ['src/engine', 'src/open', 'src/targets', 'src/qemu', 'src/xen', 'symbols'],
  'src/cli': ['adapter', 'src/commands', 'src/open', 'src/engine', 'src/os', 'src/targets', 'src/qemu', 'src/xen', 'symbols', 'src/util'],
  'vscode-extension/src': [],
};

function tsFiles(dir: string): string[] {
  const abs = path.join(root, dir);
  return readdirSync(abs).flatMap((name) => {
    const p = path.join(abs, name);
    if (statSync(p).isDirectory()) return tsFiles(path.join(dir, name));
    return name.endsWith('.ts') ? [path.join(dir, name)] : [];
  });
}

/** The repository-relative files `file` imports (relative imports only: packages are not layers). */
function importedFiles(file: string): string[] {
  const src = readFileSync(path.join(root, file), 'utf8');
  const specs = [...src.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)].map((m) => m[1]!);
  return specs.filter((s) => s.startsWith('.')).map((s) => path.relative(root, path.resolve(path.dirname(path.join(root, file)), s)));
}

/** The layer a repository file belongs to (the longest layer path that contains it). */
function layerOf(file: string): string | undefined {
  return Object.keys(ALLOWED)
    .filter((l) => file === l || file.startsWith(l + '/'))
    .sort((a, b) => b.length - a.length)[0];
}

describe('layering', () => {
  for (const [layer, allowed] of Object.entries(ALLOWED)) {
    it(`${layer}/ imports only ${allowed.length ? allowed.join(', ') : 'itself'}`, () => {
      const files = tsFiles(layer);
      expect(files.length).toBeGreaterThan(0);
      const bad = files.flatMap((f) =>
        importedFiles(f)
          .filter((target) => {
            const to = layerOf(target);
            return to !== layer && !(to !== undefined && allowed.includes(to));
          })
          .map((target) => `${f} -> ${target}`),
      );
      expect(bad).toEqual([]);
    });
  }

  it('every source folder is a layer', () => {
    const folders = ['gdbstub', 'symbols', 'adapter', ...readdirSync(path.join(root, 'src')).map((d) => `src/${d}`)];
    expect(folders.filter((f) => statSync(path.join(root, f)).isDirectory() && !(f in ALLOWED))).toEqual([]);
  });

  it('OS plugins use the engine through its interfaces, never its Session', () => {
    const bad = tsFiles('src/os').filter((f) => importedFiles(f).some((t) => t.startsWith('src/engine/session')));
    expect(bad).toEqual([]);
  });

  it('the import scanner sees relative imports', () => {
    expect(importedFiles('src/cli/main.ts').some((f) => f.startsWith('src/'))).toBe(true);
    expect(layerOf('src/engine/session.js')).toBe('src/engine');
  });
});
