// The VS Code manifest agrees with the adapter: the debugger type, the attributes the adapter
// reads, and configurations the adapter accepts as they are generated. (The packaged extension is
// checked in vsix.integration.test.ts.)
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Args } from '../../adapter/args.js';
import { CONFIG_KEYS, refuseUnknownKeys } from '../../adapter/config-keys.js';
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
  it('contributes the duster debugger for C and assembly and activates for it', () => {
    expect(debuggerEntry.type).toBe('duster');
    expect(debuggerEntry.languages).toEqual(['c', 'asm']);
    expect(manifest.contributes.breakpoints).toEqual([{ language: 'c' }, { language: 'asm' }]);
    expect(manifest.activationEvents).toContain('onDebugResolve:duster');
    expect(manifest.main).toBe('./out/extension.js');
  });

  it('describes every attribute, with defaults where there is one', () => {
    for (const request of ['launch', 'attach']) {
      for (const [name, attr] of Object.entries(
        debuggerEntry.configurationAttributes[request].properties as Record<string, { description?: string }>,
      )) {
        expect(attr.description?.length, `${request}.${name}`).toBeGreaterThan(20);
      }
    }
    const launch = debuggerEntry.configurationAttributes.launch.properties;
    expect([launch.smp.default, launch.memory.default, launch.stopOnEntry.default]).toEqual([2, '128M', false]);
  });

  it('describes the launch and attach attributes the adapter reads', () => {
    expect(Object.keys(debuggerEntry.configurationAttributes.launch.properties).sort()).toEqual([
      'append',
      'coreDump',
      'cwd',
      'image',
      'memory',
      'qemuArgs',
      'smp',
      'sourceMap',
      'stopOnEntry',
      'symbols',
    ]);
    expect(Object.keys(debuggerEntry.configurationAttributes.attach.properties).sort()).toEqual([
      'cwd',
      'stopOnEntry',
      'symbols',
      'target',
    ]);
    // Exactly the ones the adapter takes: any other property is refused by name.
    expect([...CONFIG_KEYS.launch].sort()).toEqual(Object.keys(debuggerEntry.configurationAttributes.launch.properties).sort());
    expect([...CONFIG_KEYS.attach].sort()).toEqual(Object.keys(debuggerEntry.configurationAttributes.attach.properties).sort());
  });

  it('generates configurations the adapter accepts', () => {
    buildKernel();
    expect(launchConfig(Args.of(resolve(debuggerEntry.initialConfigurations[0])))).toMatchObject({
      session: { kind: 'launch', image: expect.stringMatching(/kernel\.elf$/) },
    });
    expect(() => refuseUnknownKeys(Args.of(resolve(debuggerEntry.initialConfigurations[0])), 'launch')).not.toThrow();
    for (const { body } of debuggerEntry.configurationSnippets)
      expect(() => refuseUnknownKeys(Args.of(resolve(body)), body.request)).not.toThrow();
    const [boot, attach, dump] = debuggerEntry.configurationSnippets.map((s: { body: Record<string, unknown> }) => resolve(s.body));
    const image = resolve(debuggerEntry.initialConfigurations[0]).image;
    expect(() => launchConfig(Args.of({ ...boot, image }))).not.toThrow();
    expect(attachConfig(Args.of({ ...attach, symbols: undefined })).session).toEqual({ kind: 'attach', target: 'tcp:127.0.0.1:1234' });
    // The crash-dump snippet names a dump and its image; any readable files get through the check.
    expect(launchConfig(Args.of({ ...dump, coreDump: image, symbols: image }))).toMatchObject({
      session: { kind: 'dump', file: image, symbols: image },
    });
    expect(Object.keys(dump).sort()).toEqual(['coreDump', 'name', 'request', 'symbols', 'type']);
  });
});
