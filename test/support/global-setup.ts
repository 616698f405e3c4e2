// Once per test run, before any file: build duster as `npm run build` does (tests that run
// `bin/duster.js` use its bundle in dist/) and the reference unikernel, so no two test files
// rebuild under each other; and fetch Debian's vmlinux into its cache (once per machine), so no
// test's own time limit includes the download.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { vmlinux } from './vmlinux.js';

export default function setup(): void {
  const repo = path.resolve(import.meta.dirname, '../..');
  execFileSync('npm', ['run', '-s', 'build'], { cwd: repo, stdio: 'inherit' });
  execFileSync('make', ['-s', '-C', path.join(repo, 'fixtures/unikernel')], { stdio: 'inherit' });
  vmlinux();
}
