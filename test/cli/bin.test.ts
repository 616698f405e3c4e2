// bin/duster.js runs the CLI bundle with a V8 code cache per command. Checked on a copy of the
// built layout (bin/, dist/src/cli/duster.cjs, package.json), so the caches other tests use are
// not touched: a cache is written once and then used, a damaged one is replaced, caches of another
// build are never read, and a missing bundle is one line saying how to build it.
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../..');
const BUILD_LINE = /\n\/\/ duster-build (\w+)\n$/;

let root: string;
let bundle: string;
let caches: string;

async function duster(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    return { code: 0, ...(await run('node', [path.join(root, 'bin/duster.js'), ...args])) };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const cacheFiles = () => (existsSync(caches) ? readdirSync(caches).sort() : []);

beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'duster-bin-'));
  mkdirSync(path.join(root, 'bin'));
  mkdirSync(path.join(root, 'dist/src/cli'), { recursive: true });
  for (const f of ['duster.js', 'package.json']) copyFileSync(path.join(repo, 'bin', f), path.join(root, 'bin', f));
  copyFileSync(path.join(repo, 'package.json'), path.join(root, 'package.json'));
  symlinkSync(path.join(repo, 'node_modules'), path.join(root, 'node_modules'));
  bundle = path.join(root, 'dist/src/cli/duster.cjs');
  copyFileSync(path.join(repo, 'dist/src/cli/duster.cjs'), bundle);
  caches = path.join(root, 'dist/src/cli/code-cache');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('bin/duster.js', () => {
  it('writes one code cache per command on its first run and then only reads it', async () => {
    const build = BUILD_LINE.exec(readFileSync(bundle, 'latin1'))![1];
    const version = (JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string }).version;
    expect((await duster('--version')).stdout).toBe(`duster ${version}\n`);
    expect((await duster('core', '--help')).stdout).toMatch(/^Usage: duster core DUMP/);
    expect(cacheFiles()).toEqual([`${build}-core.v8`, `${build}-other.v8`]);
    const before = statSync(path.join(caches, `${build}-other.v8`));
    const bytes = readFileSync(path.join(caches, `${build}-other.v8`));
    expect((await duster('--version')).stdout).toBe(`duster ${version}\n`);
    const after = statSync(path.join(caches, `${build}-other.v8`));
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(readFileSync(path.join(caches, `${build}-other.v8`)).equals(bytes)).toBe(true);
  });

  it('replaces a damaged cache, which V8 rejects, and still runs', async () => {
    await duster('--version');
    const [file] = cacheFiles();
    writeFileSync(path.join(caches, file!), Buffer.alloc(4096, 0x5a));
    expect((await duster('--version')).stdout).toMatch(/^duster \d/);
    const rewritten = readFileSync(path.join(caches, file!));
    expect(rewritten.equals(Buffer.alloc(4096, 0x5a))).toBe(false);
    expect(rewritten.length).toBeGreaterThan(1000);
  });

  it('never reads the cache of another build, even one of the same length', async () => {
    await duster('--help');
    // What a rebuild that changed one character of the usage text writes: same length, new name.
    const text = readFileSync(bundle, 'latin1');
    expect(text).toContain('a source-level debugger for unikernels');
    writeFileSync(
      bundle,
      text
        .replace('a source-level debugger for unikernels', 'A SOURCE-LEVEL DEBUGGER FOR UNIKERNELS')
        .replace(BUILD_LINE, '\n// duster-build 0123456789abcdef\n'),
      'latin1',
    );
    expect(statSync(bundle).size).toBe(Buffer.byteLength(text, 'latin1'));
    expect((await duster('--help')).stdout).toMatch(/^duster: A SOURCE-LEVEL DEBUGGER FOR UNIKERNELS/);
    expect(cacheFiles()).toContain('0123456789abcdef-other.v8');
  });

  it('keeps no cache for a bundle that does not name its build', async () => {
    writeFileSync(bundle, readFileSync(bundle, 'latin1').replace(BUILD_LINE, '\n'), 'latin1');
    expect((await duster('--version')).stdout).toMatch(/^duster \d/);
    expect(cacheFiles()).toEqual([]);
  });

  it('says in one line to build when there is no bundle', async () => {
    rmSync(bundle);
    const r = await duster('--version');
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/cannot read .*duster\.cjs \(ENOENT\): run 'npm run build'$/)]);
  });
});
