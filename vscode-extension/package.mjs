// Builds the extension into a .vsix: esbuild bundles the extension and the debug adapter (with
// the engine, see adapter-bundle.mjs) into out/, iced-x86 ships beside them, and @vscode/vsce packs it.
// Offline and idempotent: out/ is rebuilt from scratch, nothing is fetched, the same input gives
// the same files. Usage: node vscode-extension/package.mjs [OUTPUT.vsix]
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { createVSIX } from '@vscode/vsce';
import { bundleAdapter } from './adapter-bundle.mjs';

const ext = import.meta.dirname;
const out = path.join(ext, 'out');
const manifest = JSON.parse(readFileSync(path.join(ext, 'package.json'), 'utf8'));
const vsix = path.resolve(process.argv[2] ?? path.join(ext, `${manifest.name}-${manifest.version}.vsix`));

rmSync(out, { recursive: true, force: true });
// VS Code loads an extension's main as CommonJS; `vscode` is provided by the extension host.
await build({ bundle: true, platform: 'node', logLevel: 'warning', legalComments: 'none', entryPoints: [path.join(ext, 'src/extension.ts')], outfile: path.join(out, 'extension.js'), format: 'cjs', target: 'node18', external: ['vscode'] });
await bundleAdapter(out);

await createVSIX({ cwd: ext, packagePath: vsix, dependencies: false, allowMissingRepository: true, skipLicense: true });
console.log(`vsix: ${path.relative(process.cwd(), vsix)}`);
