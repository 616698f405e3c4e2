// The layering in DESIGN.md: gdbstub/ and symbols/ are libraries that know nothing of the engine
// or the front ends; adapter/ reaches the debugger only through src/.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');

function tsFiles(dir: string): string[] {
  const abs = path.join(root, dir);
  return readdirSync(abs).flatMap((name) => {
    const p = path.join(abs, name);
    if (statSync(p).isDirectory()) return tsFiles(path.join(dir, name));
    return name.endsWith('.ts') ? [path.join(dir, name)] : [];
  });
}

/** Repository-relative top-level folder each relative import of `file` lands in. */
function importedTopDirs(file: string): string[] {
  const src = readFileSync(path.join(root, file), 'utf8');
  const specs = [...src.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)].map((m) => m[1]!);
  return specs
    .filter((s) => s.startsWith('.'))
    .map((s) => path.relative(root, path.resolve(path.dirname(path.join(root, file)), s)).split(path.sep)[0]!);
}

describe('layering', () => {
  for (const lib of ['gdbstub', 'symbols']) {
    it(`${lib}/ imports nothing from src/, adapter/ or the other library's callers`, () => {
      const files = tsFiles(lib);
      expect(files.length).toBeGreaterThan(0);
      const bad = files.flatMap((f) => importedTopDirs(f).filter((d) => d === 'src' || d === 'adapter' || d === 'vscode-extension').map((d) => `${f} -> ${d}/`));
      expect(bad).toEqual([]);
    });
  }

  it('the import scanner sees relative imports', () => {
    expect(importedTopDirs('src/cli/main.ts')).toContain('src');
  });
});
