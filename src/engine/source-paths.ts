// Where the sources named in the debug info are on this machine, as gdb finds them: `set
// substitute-path FROM TO` rewrites a leading directory (and the DAP launch's `sourceMap` is a list
// of such rules), `directory DIR` adds a directory searched for the file's path under it and then
// its base name. The first candidate that exists wins; with none, the path stays as recorded.
import { existsSync } from 'node:fs';
import path from 'node:path';

export class SourcePaths {
  private readonly rules: Array<{ from: string; to: string }> = [];
  private readonly dirs: string[] = [];
  private readonly found = new Map<string, string>();

  /** gdb's `set substitute-path`: a rule for FROM replaces an earlier one. */
  substitute(from: string, to: string): void {
    const f = trimSlash(from);
    const i = this.rules.findIndex((r) => r.from === f);
    if (i >= 0) this.rules.splice(i, 1);
    this.rules.push({ from: f, to: trimSlash(to) });
    this.found.clear();
  }

  /** gdb's `directory DIR`: searched before the ones added earlier. */
  directory(dir: string): void {
    const d = path.resolve(dir);
    const i = this.dirs.indexOf(d);
    if (i >= 0) this.dirs.splice(i, 1);
    this.dirs.unshift(d);
    this.found.clear();
  }

  get substitutions(): ReadonlyArray<{ from: string; to: string }> {
    return this.rules;
  }

  get directories(): readonly string[] {
    return this.dirs;
  }

  /** The file on this machine for a path in the debug info (the path itself when none is found). */
  local(file: string): string {
    let hit = this.found.get(file);
    if (hit === undefined) {
      hit = this.candidates(file).find((c) => existsSync(c)) ?? file;
      this.found.set(file, hit);
    }
    return hit;
  }

  /** The path with the first substitution that applies, found or not (gdb's full name of a missing file). */
  rewritten(file: string): string {
    for (const r of this.rules) {
      const s = replacePrefix(file, r.from, r.to);
      if (s !== undefined) return s;
    }
    return file;
  }

  /** The path in the debug info for a file on this machine: the substitutions undone. */
  recorded(file: string): string {
    for (const r of this.rules) {
      const back = replacePrefix(file, r.to, r.from);
      if (back !== undefined) return back;
    }
    return file;
  }

  private candidates(file: string): string[] {
    const out: string[] = [];
    for (const r of this.rules) {
      const s = replacePrefix(file, r.from, r.to);
      if (s !== undefined) out.push(s);
    }
    out.push(file);
    for (const d of this.dirs) out.push(path.join(d, file), path.join(d, path.basename(file)));
    return out;
  }
}

function trimSlash(p: string): string {
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

/** `file` with its leading directory `from` replaced by `to` (whole path components only). */
function replacePrefix(file: string, from: string, to: string): string | undefined {
  if (file === from) return to;
  return file.startsWith(from.endsWith('/') ? from : from + '/') ? to + file.slice(from.length) : undefined;
}
