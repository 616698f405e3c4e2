// The adapter entry the extension ships, loaded as VS Code loads it: for an adapter whose command
// is `node`, VS Code forks `node -e "delete process.env.ELECTRON_RUN_AS_NODE;require(process.argv[1])"
// ENTRY` (with ELECTRON_RUN_AS_NODE set) instead of spawning it, so the entry must load under
// require(). Also spawned directly, as `duster.node` set to a path makes VS Code do. Each serves
// a client that leaves pathFormat out of initialize (the protocol's default is native paths), and
// asks VS Code to show an error only where a user acted.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleAdapter } from '../../vscode-extension/adapter-bundle.mjs';

/** VS Code's ExecutableDebugAdapter: cp.fork(ENTRY, [], { execArgv: ['-e', ...] }) from its extension host. */
const VSCODE_FORK = ['-e', 'delete process.env.ELECTRON_RUN_AS_NODE;require(process.argv[1])'];

/** Speaks DAP over a child's stdio (ProtocolClient.connect is protected in its typings, public in use). */
function connect(dc: DebugClient, child: ChildProcess): void {
  (dc as unknown as { connect(readable: NodeJS.ReadableStream, writable: NodeJS.WritableStream): void }).connect(
    child.stdout!,
    child.stdin!,
  );
}

describe('the bundled adapter entry', () => {
  let dir: string;
  let entry: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'duster-entry-'));
    entry = await bundleAdapter(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function session(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
    const child: ChildProcess = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const dc = new DebugClient('unused', 'unused', 'duster');
    dc.defaultTimeout = 10_000;
    connect(dc, child);
    try {
      // What VS Code sends, less pathFormat.
      const init = await dc.initializeRequest({
        adapterID: 'duster',
        linesStartAt1: true,
        columnsStartAt1: true,
      } as DebugProtocol.InitializeRequestArguments);
      expect(init.success).toBe(true);
      expect(init.body?.supportsDisassembleRequest).toBe(true);
      // The engine inside answers: a launch without an image is refused with one line, for the
      // user to see; a failing request of a view (a race with a resume, say) is the view's business.
      const errors = new Map<string, boolean | undefined>();
      const dispatch = (dc as unknown as { dispatch(body: string): void }).dispatch.bind(dc);
      (dc as unknown as { dispatch(body: string): void }).dispatch = (body) => {
        const m = JSON.parse(body) as DebugProtocol.Response;
        if (m.type === 'response' && !m.success) errors.set(m.command, (m.body as { error?: DebugProtocol.Message })?.error?.showUser);
        dispatch(body);
      };
      await expect(dc.launchRequest({} as DebugProtocol.LaunchRequestArguments)).rejects.toThrow(/^image is missing/);
      await expect(dc.scopesRequest({ frameId: 1 })).rejects.toThrow(/^no guest is being debugged/);
      expect(Object.fromEntries(errors)).toEqual({ launch: true, scopes: false });
      await dc.disconnectRequest({});
      expect(await exited).toBe(0);
      expect(stderr).toBe('');
    } finally {
      child.kill();
    }
  }

  it('loads under require() when VS Code forks it', () => session([...VSCODE_FORK, entry], { ELECTRON_RUN_AS_NODE: '1' }));

  it('runs when spawned directly', () => session([entry], {}));

  it('still refuses a path format it does not speak', async () => {
    const child = spawn(process.execPath, [entry], { stdio: ['pipe', 'pipe', 'ignore'] });
    const dc = new DebugClient('unused', 'unused', 'duster');
    connect(dc, child);
    try {
      await expect(dc.initializeRequest({ adapterID: 'duster', pathFormat: 'uri' })).rejects.toThrow(/native paths/);
    } finally {
      child.kill();
    }
  });
});
