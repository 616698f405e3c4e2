// The debug adapter as the extension ships it: one CommonJS file (src/cli/dap-stdio.ts with the
// engine), because VS Code does not spawn an adapter whose command is `node`: it forks it as
// `node -e "delete process.env.ELECTRON_RUN_AS_NODE;require(process.argv[1])" FILE`, and
// require() cannot load an ES module that awaits at its top level (nor any ES module, on a Node
// older than 20.19). iced-x86 stays outside: it reads its .wasm from beside its own file, so the
// package is shipped in node_modules next to the bundle, where require() finds it.
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');

/** Writes DIR/adapter.cjs and DIR/node_modules/iced-x86; returns the adapter's path. */
export async function bundleAdapter(dir) {
  const outfile = path.join(dir, 'adapter.cjs');
  await build({
    entryPoints: [path.join(root, 'src/cli/dap-stdio.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['iced-x86'],
    define: { 'import.meta.url': 'duster_bundleUrl' },
    banner: { js: "const duster_bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
    logLevel: 'warning',
    legalComments: 'none',
  });
  const iced = path.dirname(createRequire(import.meta.url).resolve('iced-x86/package.json'));
  const icedOut = path.join(dir, 'node_modules', 'iced-x86');
  mkdirSync(icedOut, { recursive: true });
  for (const f of ['package.json', 'iced_x86.js', 'iced_x86_bg.wasm', 'LICENSE.txt']) copyFileSync(path.join(iced, f), path.join(icedOut, f));
  return outfile;
}
