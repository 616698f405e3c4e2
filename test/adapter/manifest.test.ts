// The VS Code manifest agrees with the adapter: the debugger type, the entry point the extension's
// tsconfig produces, and configurations the adapter accepts as they are generated.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Args } from '../../adapter/args.js';
import { attachConfig, launchConfig } from '../../adapter/launch.js';
import { buildKernel, root } from './support/fixture.js';

const ext = path.join(root, 'vscode-extension');
const manifest = JSON.parse(readFileSync(path.join(ext, 'package.json'), 'utf8'));
const [debuggerEntry] = manifest.contributes.debuggers;

/** What VS Code does to a configuration before the adapter sees it (snippet escapes, variables). */
function resolve(config: Record<string, unknown>): Record<string, unknown> {
  const text = JSON.stringify(config)
    .replace(/"\^\\"(.*?)\\""/g, '"$1"')
    .replace(/\\\\\$\{workspaceFolder\}|\$\{workspaceFolder\}/g, root)
    .replace(/\$\{\d+:?([^}]*)\}/g, '$1');
  return JSON.parse(text);
}

describe('vscode-extension manifest', () => {
  it('contributes the duster debugger and activates for it', () => {
    expect(debuggerEntry.type).toBe('duster');
    expect(manifest.activationEvents).toContain('onDebugResolve:duster');
    const tsconfig = JSON.parse(readFileSync(path.join(ext, 'tsconfig.json'), 'utf8'));
    expect(path.join(ext, manifest.main)).toBe(path.join(ext, tsconfig.compilerOptions.outDir, 'extension.js'));
  });

  it('describes the launch and attach attributes the adapter reads', () => {
    expect(Object.keys(debuggerEntry.configurationAttributes.launch.properties).sort()).toEqual(['append', 'cwd', 'image', 'memory', 'qemuArgs', 'smp', 'stopOnEntry', 'symbols']);
    expect(Object.keys(debuggerEntry.configurationAttributes.attach.properties).sort()).toEqual(['cwd', 'stopOnEntry', 'symbols', 'target']);
  });

  it('generates configurations the adapter accepts', () => {
    buildKernel();
    expect(launchConfig(Args.of(resolve(debuggerEntry.initialConfigurations[0]))).image).toMatch(/kernel\.elf$/);
    const [boot, attach] = debuggerEntry.configurationSnippets.map((s: { body: Record<string, unknown> }) => resolve(s.body));
    expect(() => launchConfig(Args.of({ ...boot, image: resolve(debuggerEntry.initialConfigurations[0]).image }))).not.toThrow();
    expect(attachConfig(Args.of({ ...attach, symbols: undefined })).target).toBe('tcp:127.0.0.1:1234');
  });
});
