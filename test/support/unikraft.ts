// Where the Unikraft fixtures are (prebuilt images and their .dbg, see their README): the
// DUSTER_UNIKRAFT_FIXTURES directory, else ../shared/fixtures/unikraft beside the repository, as on
// every development and CI machine. Missing fixtures fail the tests that need them, loudly: a
// skipped test would pass for one that ran.
import { existsSync } from 'node:fs';
import path from 'node:path';

const repo = path.resolve(import.meta.dirname, '../..');

export function unikraftFixtures(): string {
  const dir = process.env.DUSTER_UNIKRAFT_FIXTURES ?? path.resolve(repo, '../shared/fixtures/unikraft');
  if (!existsSync(path.join(dir, 'threads-O0_qemu-x86_64.dbg'))) {
    throw new Error(`the Unikraft fixtures are not in ${dir}: set DUSTER_UNIKRAFT_FIXTURES, or rebuild them with scripts/unikraft-fixtures.sh (see its header)`);
  }
  return dir;
}

/** The bootable image of a variant (`threads-O0`); its symbols are the same path + `.dbg`. */
export function unikraftImage(variant: string): string {
  return path.join(unikraftFixtures(), `${variant}_qemu-x86_64`);
}

/** The fixtures' app sources (threads, crash), kept in the repository with their build recipe. */
export const unikraftApps = path.join(repo, 'fixtures/unikraft/apps');
