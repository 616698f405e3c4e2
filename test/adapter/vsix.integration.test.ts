// Integration: `npm run vsix` packages the extension, and what it packs works. Built twice into a
// temporary directory (the build must be repeatable to the byte), unpacked with unzip; the
// packaged manifest is the source one, the entry point activates and starts the bundled adapter,
// and that adapter (with the engine and iced-x86 inside the .vsix) debugs the reference unikernel.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildKernel,
  kernel,
  nextEvent,
  qemuChildren,
  root,
  startAdapter,
  stopAdapter,
  symbols,
  type StdioAdapter,
} from './support/fixture.js';

const source = JSON.parse(readFileSync(path.join(root, 'vscode-extension/package.json'), 'utf8'));

/** Entry name -> CRC-32, from unzip's verbose listing. */
function crcs(vsix: string): Map<string, string> {
  const rows = execFileSync('unzip', ['-v', vsix], { encoding: 'utf8' }).matchAll(
    /^\s*\d+\s+\S+\s+\d+\s+\d+%\s+\S+\s+\S+\s+([0-9a-f]{8})\s+(.+)$/gm,
  );
  return new Map([...rows].map((m) => [m[2]!, m[1]!]));
}

describe('the .vsix package (integration)', () => {
  let dir: string;
  let vsix: string;
  let unpacked: string;
  let adapter: StdioAdapter;

  beforeAll(() => {
    buildKernel();
    dir = mkdtempSync(path.join(os.tmpdir(), 'duster-vsix-'));
    vsix = path.join(dir, 'duster.vsix');
    unpacked = path.join(dir, 'unpacked');
  });
  afterAll(async () => {
    await stopAdapter(adapter);
    rmSync(dir, { recursive: true, force: true });
  });

  it('builds with npm run vsix, the same bytes every time', () => {
    execFileSync('npm', ['run', '-s', 'vsix', '--', vsix], { cwd: root, stdio: 'pipe' });
    const first = crcs(vsix);
    execFileSync('npm', ['run', '-s', 'vsix', '--', vsix], { cwd: root, stdio: 'pipe' });
    expect(crcs(vsix)).toEqual(first);
    expect([...first.keys()].sort()).toEqual([
      '[Content_Types].xml',
      'extension.vsixmanifest',
      'extension/images/breakpoint.png',
      'extension/images/crash-dump.png',
      'extension/out/adapter.cjs',
      'extension/out/extension.js',
      'extension/out/node_modules/iced-x86/LICENSE.txt',
      'extension/out/node_modules/iced-x86/iced_x86.js',
      'extension/out/node_modules/iced-x86/iced_x86_bg.wasm',
      'extension/out/node_modules/iced-x86/package.json',
      'extension/package.json',
      'extension/readme.md',
    ]);
    execFileSync('unzip', ['-q', vsix, '-d', unpacked]);
  });

  it('packs the manifest as written, with the identity VS Code installs it by', () => {
    const packed = JSON.parse(readFileSync(path.join(unpacked, 'extension/package.json'), 'utf8'));
    expect(packed).toEqual(source);
    const vsixManifest = readFileSync(path.join(unpacked, 'extension.vsixmanifest'), 'utf8');
    expect(vsixManifest).toContain(
      `<Identity Language="en-US" Id="${source.name}" Version="${source.version}" Publisher="${source.publisher}"`,
    );
    expect(vsixManifest).toContain(`<DisplayName>${source.displayName}</DisplayName>`);
    expect(vsixManifest).toMatch(new RegExp(`<Property Id="Microsoft.VisualStudio.Code.Engine" Value="\\${source.engines.vscode}" />`));
    // What VS Code shows on the extension's page: the walk-through of the three configurations.
    const readme = readFileSync(path.join(unpacked, 'extension/readme.md'), 'utf8');
    for (const heading of ['Boot a unikernel', 'Attach to a running QEMU', 'Open a crash dump']) expect(readme).toContain(heading);
    // Its pictures are in the package, where the relative links point.
    const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]!);
    expect(images).toEqual(['images/breakpoint.png', 'images/crash-dump.png']);
    for (const image of images)
      expect(readFileSync(path.join(unpacked, 'extension', image))).toEqual(readFileSync(path.join(root, 'vscode-extension', image)));
  });

  it('activates and starts the bundled adapter', () => {
    // VS Code provides `vscode` to extensions; this stand-in records what the extension registers.
    const fake = path.join(unpacked, 'extension/node_modules/vscode');
    mkdirSync(fake, { recursive: true });
    writeFileSync(
      path.join(fake, 'index.js'),
      `exports.factories = {};
exports.DebugAdapterExecutable = class { constructor(command, args, options) { Object.assign(this, { command, args, options }); } };
exports.debug = { registerDebugAdapterDescriptorFactory: (type, f) => ((exports.factories[type] = f), { dispose() {} }) };
exports.workspace = { getConfiguration: () => ({ get: () => undefined }) };`,
    );
    const load = createRequire(path.join(unpacked, 'extension/'));
    const ext = load(path.join(unpacked, 'extension', source.main));
    const context = { subscriptions: [] as unknown[], asAbsolutePath: (p: string) => path.join(unpacked, 'extension', p) };
    ext.activate(context);
    expect(context.subscriptions).toHaveLength(1);
    const factory = load('vscode').factories[source.contributes.debuggers[0].type];
    const folder = { uri: { fsPath: root }, name: 'duster', index: 0 };
    const descriptor = factory.createDebugAdapterDescriptor({ workspaceFolder: folder });
    expect(descriptor).toEqual({ command: 'node', args: [path.join(unpacked, 'extension/out/adapter.cjs')], options: { cwd: root } });
  });

  it('debugs the reference unikernel with the adapter inside the package', async () => {
    adapter = await startAdapter(path.join(unpacked, 'extension/out/adapter.cjs'));
    const { dc } = adapter;
    expect((await dc.initializeRequest()).body?.supportsDisassembleRequest).toBe(true);
    const start = symbols().get('_start32')!;
    await dc.launchRequest({ image: kernel, smp: 1, append: 'app=hello' } as DebugProtocol.LaunchRequestArguments);
    await dc.customRequest('setInstructionBreakpoints', { breakpoints: [{ instructionReference: `0x${start.toString(16)}` }] });
    const hit = nextEvent<DebugProtocol.StoppedEvent['body']>(dc, 'stopped');
    await dc.configurationDoneRequest();
    expect((await hit).reason).toBe('instruction breakpoint');
    // The PVH entry point, in 32-bit protected mode, decoded by the packaged iced-x86 as objdump does.
    const [frame] = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
    expect(frame!.instructionPointerReference).toBe(`0x${start.toString(16)}`);
    const insns = (await dc.customRequest('disassemble', { memoryReference: frame!.instructionPointerReference, instructionCount: 3 })).body
      .instructions as DebugProtocol.DisassembledInstruction[];
    const objdump = execFileSync('objdump', ['-d', '-m', 'i386', `--start-address=${start}`, `--stop-address=${start + 16n}`, kernel], {
      encoding: 'utf8',
    });
    const rows = [...objdump.matchAll(/^\s*[0-9a-f]+:\s+(?:[0-9a-f]{2} )+\s+(.+)$/gm)].map((m) => m[1]!.replace(/\s+/g, ' ').trim());
    expect(insns.map((i) => i.instruction.replace(/\s+/g, ' '))).toEqual(rows.slice(0, 3));
    const [qemu] = qemuChildren(adapter.process.pid!);
    expect(qemu).toBeGreaterThan(0);
    await dc.disconnectRequest({ terminateDebuggee: true });
    expect(await adapter.exited).toBe(0);
    expect(qemuChildren(adapter.process.pid!)).toEqual([]);
  });
});
