// Where the Unikraft fixtures are (prebuilt images and their .dbg, see their README): the
// DUSTER_UNIKRAFT_FIXTURES directory, else ../shared/fixtures/unikraft beside the repository, else
// the development machines' /work/shared (a clone elsewhere, as CI's may be). Missing fixtures fail the tests that need them, loudly: a
// skipped test would pass for one that ran.
import { existsSync } from 'node:fs';
import path from 'node:path';

const repo = path.resolve(import.meta.dirname, '../..');

/** Where the fixtures are looked for: the variable, beside this checkout, the machines' shared folder. */
const CANDIDATES = [
  process.env.DUSTER_UNIKRAFT_FIXTURES,
  path.resolve(repo, '../shared/fixtures/unikraft'),
  '/work/shared/fixtures/unikraft',
];

export function unikraftFixtures(): string {
  const dir = CANDIDATES.find((d) => d && existsSync(path.join(d, 'threads-O0_qemu-x86_64.dbg')));
  if (!dir) {
    throw new Error(
      `the Unikraft fixtures are in none of ${CANDIDATES.filter(Boolean).join(', ')}: set DUSTER_UNIKRAFT_FIXTURES, or rebuild them with scripts/unikraft-fixtures.sh (see its header)`,
    );
  }
  return dir;
}

/** The bootable image of a variant (`threads-O0`); its symbols are the same path + `.dbg`. */
export function unikraftImage(variant: string): string {
  return path.join(unikraftFixtures(), `${variant}_qemu-x86_64`);
}

/** The fixtures' app sources (threads, crash), kept in the repository with their build recipe. */
export const unikraftApps = path.join(repo, 'fixtures/unikraft/apps');
