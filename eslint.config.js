// ESLint for the TypeScript sources and tests: the recommended rules, and no export that nothing
// imports (a library surface — a folder's index.ts, the extension's and the bundle's entries — is
// exempt: its exports are what it offers). import/no-unused-modules finds the files through ESLint's
// older file enumerator, which needs the (empty) .eslintrc.json beside this file.
import js from '@eslint/js';
import importPlugin from 'eslint-plugin-import';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'fixtures/', 'vscode-extension/out/', '**/*.mjs', '**/*.cjs', 'bin/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { import: importPlugin },
    settings: { 'import/extensions': ['.ts'], 'import/parsers': { '@typescript-eslint/parser': ['.ts'] }, 'import/resolver': { typescript: { project: ['tsconfig.test.json', 'vscode-extension/tsconfig.json'] } } },
    rules: {
      // `_` names what a destructuring or a callback must take and does not use.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      // A cursor walking a chain starts at `this`.
      '@typescript-eslint/no-this-alias': 'off',
      'import/no-unused-modules': ['error', { unusedExports: true, ignoreExports: ['**/index.ts', 'test/**', 'vitest.config.ts', 'eslint.config.js', 'vscode-extension/src/extension.ts', 'src/cli/dap-stdio.ts', 'src/cli/main.ts', 'vscode-extension/src/vscode.d.ts'] }],
    },
  },
  // Tests read getters for their side effects (the fuzzers make every lazy part parse).
  { files: ['test/**/*.ts'], rules: { '@typescript-eslint/no-unused-expressions': 'off' } },
);
