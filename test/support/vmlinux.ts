// Debian's vmlinux (linux-image-amd64-dbg) as a large real-world image nobody here wrote: fetched
// with apt-get download into a cache outside the repository ($DUSTER_BENCH_CACHE, default
// ~/.cache/duster-bench), only vmlinux unpacked. Shared by the benchmarks and the long fuzz runs.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

function cacheDir(): string {
  return process.env.DUSTER_BENCH_CACHE ?? path.join(os.homedir(), '.cache', 'duster-bench');
}

/** The cached vmlinux, or undefined when it has not been fetched (nothing is downloaded). */
export function cachedVmlinux(): string | undefined {
  const cache = cacheDir();
  const have = existsSync(cache) ? readdirSync(cache).find((f) => /^vmlinux-/.test(f)) : undefined;
  return have && path.join(cache, have);
}

/** The cached vmlinux, fetched and unpacked first if needed. */
export function vmlinux(): string {
  const have = cachedVmlinux();
  if (have) return have;
  const cache = cacheDir();
  mkdirSync(cache, { recursive: true });
  const meta = execFileSync('apt-cache', ['depends', 'linux-image-amd64-dbg'], { encoding: 'utf8' });
  const pkg = /Depends: (linux-image-\S+-dbg)/.exec(meta)?.[1];
  if (!pkg) throw new Error('cannot find the linux-image-*-dbg package behind linux-image-amd64-dbg');
  if (!readdirSync(cache).some((f) => f.startsWith(pkg))) execFileSync('apt-get', ['download', pkg], { cwd: cache, stdio: 'ignore' });
  const deb = path.join(
    cache,
    readdirSync(cache).find((f) => f.startsWith(pkg) && f.endsWith('.deb'))!,
  );
  // The package's tar stream (modules' debug info included) is larger than a Node buffer, so tar
  // reads the compressed member from a file instead of from us.
  const member = execFileSync('ar', ['t', deb], { encoding: 'utf8' })
    .split('\n')
    .find((m) => m.startsWith('data.tar'));
  if (!member) throw new Error(`${deb} has no data.tar member`);
  const work = mkdtempSync(path.join(cache, 'unpack-'));
  try {
    execFileSync('ar', ['x', deb, member], { cwd: work });
    // Unpacked under a temporary name first: a reader never sees a half-written vmlinux.
    execFileSync('tar', [
      '-x',
      '-f',
      path.join(work, member),
      '--wildcards',
      '--strip-components=5',
      '-C',
      work,
      './usr/lib/debug/boot/vmlinux-*',
    ]);
    const name = readdirSync(work).find((f) => /^vmlinux-/.test(f));
    if (!name) throw new Error('vmlinux not found in the package');
    renameSync(path.join(work, name), path.join(cache, name));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const got = cachedVmlinux();
  if (!got) throw new Error('vmlinux not found in the package');
  return got;
}
