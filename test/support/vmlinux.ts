// Debian's vmlinux (linux-image-amd64-dbg) as a large real-world image nobody here wrote: fetched
// with apt-get download into a cache outside the repository ($DUSTER_BENCH_CACHE, default
// ~/.cache/duster-bench), only vmlinux unpacked. Shared by the benchmarks and the long fuzz runs.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
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
  const deb = path.join(cache, readdirSync(cache).find((f) => f.startsWith(pkg) && f.endsWith('.deb'))!);
  const tar = execFileSync('dpkg-deb', ['--fsys-tarfile', deb], { maxBuffer: 4 << 30 });
  execFileSync('tar', ['-x', '--wildcards', '--strip-components=5', '-C', cache, './usr/lib/debug/boot/vmlinux-*'], { input: tar, maxBuffer: 64 << 20 });
  const got = cachedVmlinux();
  if (!got) throw new Error('vmlinux not found in the package');
  return got;
}
