// Second half of `npm run build` (after tsc has checked the sources): bundles the CLI into one
// CommonJS file, dist/src/cli/duster.cjs, the only build of duster that runs: bin/duster.js
// runs it from V8's code cache. One file instead of ~160 ES modules saves the module resolution
// and linking every start would pay; CommonJS because Node 20 can give only a vm.Script a code
// cache. It sits as deep as src/cli, so paths relative to import.meta.url (package.json,
// node_modules) resolve as they do from the sources.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');
const outDir = path.join(root, 'dist/src/cli');

const { outputFiles } = await build({
  write: false,
  entryPoints: [path.join(root, 'src/cli/main.ts')],
  outfile: path.join(outDir, 'duster.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  define: { 'import.meta.url': 'duster_bundleUrl' },
  banner: { js: "const duster_bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  // bin/duster.js reads the bundle as latin1, which is exact for ASCII.
  charset: 'ascii',
  logLevel: 'warning',
  legalComments: 'none',
});
// The last line names this build, and with it the code caches made from it: V8 itself checks only
// a source's length before trusting a cache, and a rebuilt bundle can keep its length.
const [{ path: outfile, text }] = outputFiles;
mkdirSync(outDir, { recursive: true });
writeFileSync(outfile, `${text}// duster-build ${createHash('sha256').update(text).digest('hex').slice(0, 16)}\n`);
// iced-x86, bundled, reads its .wasm from beside the bundle (its __dirname).
copyFileSync(createRequire(import.meta.url).resolve('iced-x86/iced_x86_bg.wasm'), path.join(outDir, 'iced_x86_bg.wasm'));
// Caches of earlier builds are never read again (their names carry the old build): remove them.
rmSync(path.join(outDir, 'code-cache'), { recursive: true, force: true });
