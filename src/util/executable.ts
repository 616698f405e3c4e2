// Finding the external programs duster runs (QEMU, gdbsx): regular files we may execute.
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

export function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The first `dir/name` that is executable, in the order given. */
export function findIn(dirs: readonly string[], name: string): string | undefined {
  for (const dir of dirs) {
    const p = path.join(dir, name);
    if (isExecutable(p)) return p;
  }
  return undefined;
}
