#!/usr/bin/env node
// Entry for `npx duster`: runs the CLI bundle `npm run build` writes (dist/src/cli/duster.cjs)
// with a V8 code cache, so a start compiles none of the functions an earlier run of the same
// command compiled. The first run of each command after a build writes its cache; a cache
// that cannot be written (read-only install) is simply not kept. CommonJS (bin/package.json):
// an ES module entry would start Node's ESM loader, ~7 ms, for nothing.
'use strict';
const { mkdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const path = require('node:path');
const { setFlagsFromString } = require('node:v8');
const vm = require('node:vm');

// WebAssembly (iced-x86, a few instructions at a time) stays on V8's baseline compiler: Node waits
// for background optimizing compiles before it exits, which cost a crash report ~60 ms. Set
// before compiling the bundle, since V8 checks the flags a code cache was made with.
setFlagsFromString('--liftoff-only');

const bundle = path.join(__dirname, '../dist/src/cli/duster.cjs');
let source;
try {
  // esbuild writes ASCII (it escapes the rest), which latin1 reads without decoding UTF-8.
  source = readFileSync(bundle, 'latin1');
} catch (e) {
  process.stderr.write(`duster: cannot read ${bundle} (${e.code ?? e.message}): run 'npm run build'\n`);
  process.exit(1);
}
// The build names itself on the bundle's last line; without that name no cache is trusted.
const MARK = '\n// duster-build ';
const at = source.lastIndexOf(MARK);
const build = at < 0 ? undefined : source.slice(at + MARK.length).trim();
const command = /^[a-z]+$/.test(process.argv[2] ?? '') ? process.argv[2] : 'other';
const cacheFile = build && path.join(path.dirname(bundle), 'code-cache', `${build}-${command}.v8`);
let cachedData;
try {
  if (cacheFile) cachedData = readFileSync(cacheFile);
} catch {
  // No cache yet: this run makes it.
}

const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: bundle, cachedData });
const cli = { exports: {} };
script.runInThisContext()(cli.exports, createRequire(bundle), cli, bundle, path.dirname(bundle));
cli.exports.main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  if (cacheFile && (!cachedData || script.cachedDataRejected)) saveCache();
});

function saveCache() {
  try {
    mkdirSync(path.dirname(cacheFile), { recursive: true });
    const partial = `${cacheFile}.${process.pid}`;
    writeFileSync(partial, script.createCachedData());
    renameSync(partial, cacheFile);
  } catch {
    // Read-only or full: the next run compiles again.
  }
}
