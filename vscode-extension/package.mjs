// Builds the extension into a .vsix: esbuild bundles the extension and the debug adapter (with
// the engine, see adapter-bundle.mjs), iced-x86 ships beside them, and @vscode/vsce packs it.
// Everything is staged in a fresh temporary directory (the manifest, the README and its images,
// the bundles), so builds running at the same time do not meet. Offline and idempotent: nothing is
// fetched, the same input gives the same files. Usage: node vscode-extension/package.mjs [OUTPUT.vsix]
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { createVSIX } from '@vscode/vsce';
import { bundleAdapter } from './adapter-bundle.mjs';

const ext = import.meta.dirname;
const manifest = JSON.parse(readFileSync(path.join(ext, 'package.json'), 'utf8'));
const vsix = path.resolve(process.argv[2] ?? path.join(ext, `${manifest.name}-${manifest.version}.vsix`));

const stage = mkdtempSync(path.join(os.tmpdir(), 'duster-vsix-'));
try {
  for (const f of ['package.json', 'README.md', 'images']) cpSync(path.join(ext, f), path.join(stage, f), { recursive: true });
  const out = path.join(stage, 'out');
  // VS Code loads an extension's main as CommonJS; `vscode` is provided by the extension host.
  await build({ bundle: true, platform: 'node', logLevel: 'warning', legalComments: 'none', entryPoints: [path.join(ext, 'src/extension.ts')], outfile: path.join(out, 'extension.js'), format: 'cjs', target: 'node18', external: ['vscode'] });
  await bundleAdapter(out);
  // The README's images are in the package, where VS Code shows them from: links stay relative.
  await createVSIX({ cwd: stage, packagePath: vsix, dependencies: false, allowMissingRepository: true, skipLicense: true, rewriteRelativeLinks: false });
} finally {
  rmSync(stage, { recursive: true, force: true });
}
console.log(`vsix: ${path.relative(process.cwd(), vsix)}`);
