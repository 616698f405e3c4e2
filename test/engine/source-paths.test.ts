// Finding sources built elsewhere, as gdb's substitute-path and directory do (and the DAP launch's
// sourceMap), over a temporary tree laid out like the Unikraft fixtures.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SourcePaths } from '../../src/engine/source-paths.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'duster-src-'));
const apps = path.join(root, 'fixtures/apps');
mkdirSync(path.join(apps, 'threads'), { recursive: true });
writeFileSync(path.join(apps, 'threads/threads.c'), 'int main(void) { return 0; }\n');
const recorded = '/usr/src/unikraft-fixtures/apps/threads/threads.c';

describe('SourcePaths', () => {
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('keeps a path it cannot find elsewhere', () => {
    expect(new SourcePaths().local(recorded)).toBe(recorded);
  });

  it('rewrites a leading directory, whole components only, and maps an editor path back', () => {
    const p = new SourcePaths();
    p.substitute('/usr/src/unikraft-fixtures/apps/', apps);
    expect(p.local(recorded)).toBe(path.join(apps, 'threads/threads.c'));
    expect(p.recorded(path.join(apps, 'threads/threads.c'))).toBe(recorded);
    // `/usr/src/unikraft-fixtures/appsX` is another directory.
    expect(p.local('/usr/src/unikraft-fixtures/appsX/threads/threads.c')).toBe('/usr/src/unikraft-fixtures/appsX/threads/threads.c');
  });

  it('lets a later rule for the same directory replace the earlier one', () => {
    const p = new SourcePaths();
    p.substitute('/usr/src/unikraft-fixtures/apps', '/nowhere');
    expect(p.local(recorded)).toBe(recorded);
    p.substitute('/usr/src/unikraft-fixtures/apps', apps);
    expect(p.substitutions).toEqual([{ from: '/usr/src/unikraft-fixtures/apps', to: apps }]);
    expect(p.local(recorded)).toBe(path.join(apps, 'threads/threads.c'));
  });

  it('searches a directory for the base name, the newest directory first', () => {
    const p = new SourcePaths();
    p.directory(path.join(apps, 'threads'));
    p.directory(root);
    expect(p.directories).toEqual([root, path.join(apps, 'threads')]);
    expect(p.local(recorded)).toBe(path.join(apps, 'threads/threads.c'));
  });
});
