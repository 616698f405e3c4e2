// Builds the extension into a .vsix: esbuild bundles the extension and the debug adapter (with
// the engine) into out/, iced-x86's WebAssembly ships beside them, and @vscode/vsce packs it.
// Offline and idempotent: out/ is rebuilt from scratch, nothing is fetched, the same input gives
// the same files. Usage: node vscode-extension/package.mjs [OUTPUT.vsix]
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { build } from 'esbuild';
import { createVSIX } from '@vscode/vsce';

const ext = import.meta.dirname;
const root = path.dirname(ext);
const out = path.join(ext, 'out');
const manifest = JSON.parse(readFileSync(path.join(ext, 'package.json'), 'utf8'));
const vsix = path.resolve(process.argv[2] ?? path.join(ext, `${manifest.name}-${manifest.version}.vsix`));

rmSync(out, { recursive: true, force: true });
const common = { bundle: true, platform: 'node', logLevel: 'warning', legalComments: 'none' };
// VS Code loads an extension's main as CommonJS; `vscode` is provided by the extension host.
await build({ ...common, entryPoints: [path.join(ext, 'src/extension.ts')], outfile: path.join(out, 'extension.js'), format: 'cjs', target: 'node18', external: ['vscode'] });
// The adapter runs under the user's Node (20+) as an ES module; its CommonJS dependencies need require().
await build({
  ...common,
  entryPoints: [path.join(root, 'src/cli/dap-stdio.ts')],
  outfile: path.join(out, 'adapter.mjs'),
  format: 'esm',
  target: 'node20',
  external: ['iced-x86'],
  banner: { js: "import { createRequire as duster_createRequire } from 'node:module'; const require = duster_createRequire(import.meta.url);" },
});
// iced-x86 reads its .wasm from beside its own file: ship the package where require() finds it.
const iced = path.dirname(createRequire(import.meta.url).resolve('iced-x86/package.json'));
const icedOut = path.join(out, 'node_modules', 'iced-x86');
mkdirSync(icedOut, { recursive: true });
for (const f of ['package.json', 'iced_x86.js', 'iced_x86_bg.wasm', 'LICENSE.txt']) copyFileSync(path.join(iced, f), path.join(icedOut, f));

await createVSIX({ cwd: ext, packagePath: vsix, dependencies: false, allowMissingRepository: true, skipLicense: true });
console.log(`vsix: ${path.relative(process.cwd(), vsix)}`);
