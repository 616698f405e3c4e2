// Once per test run, before any file: build duster as `npm run build` does (tests that run
// `bin/duster.js` use its bundle in dist/) and the reference unikernel, so no two test files
// rebuild under each other; and fetch Debian's vmlinux into its cache (once per machine: about 30 s
// of download and 3 min of unpacking), so no two files fetch it at once. A fetch that fails is
// tried again, and reported, by each test that needs vmlinux.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { vmlinux } from './vmlinux.js';

export default function setup(): void {
  // Vitest runs a global setup once for the root config and once per project (unit, integration)
  // in the same process: build once.
  if (process.env.DUSTER_TEST_SETUP_DONE) return;
  process.env.DUSTER_TEST_SETUP_DONE = '1';
  const repo = path.resolve(import.meta.dirname, '../..');
  execFileSync('npm', ['run', '-s', 'build'], { cwd: repo, stdio: 'inherit' });
  execFileSync('make', ['-s', '-C', path.join(repo, 'fixtures/unikernel')], { stdio: 'inherit' });
  try {
    vmlinux();
  } catch (e) {
    console.error(`global setup: cannot fetch Debian's vmlinux (the tests that need it will fail): ${(e as Error).message}`);
  }
}
