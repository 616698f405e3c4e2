// Integration: `duster dap` as VS Code runs it, a separate process speaking DAP on stdin/stdout
// (run from source with vite-node): launch, threads, and a disconnect that ends both the adapter
// and the QEMU it started.
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKernel, isAlive, kernel, nextEvent, qemuChildren, root } from './support/fixture.js';

describe('duster dap over stdio (integration)', () => {
  let dc: DebugClient;
  let adapter: ChildProcess;

  beforeAll(async () => {
    buildKernel();
    dc = new DebugClient(path.join(root, 'node_modules/.bin/vite-node'), path.join(import.meta.dirname, 'support/dap-stdio.ts'), 'duster', { cwd: root });
    dc.defaultTimeout = 20_000;
    await dc.start();
    adapter = (dc as unknown as { _adapterProcess: ChildProcess })._adapterProcess;
  });
  // The test's disconnect ends the adapter; only a failed test leaves it to kill.
  afterAll(() => {
    if (adapter?.exitCode === null) adapter.kill();
  });

  it('serves a session and exits with its QEMU on disconnect', async () => {
    const init = await dc.initializeRequest();
    expect(init.body?.supportsInstructionBreakpoints).toBe(true);
    const entry = nextEvent<DebugProtocol.StoppedEvent['body']>(dc, 'stopped');
    await dc.launchRequest({ image: kernel, smp: 2, append: 'app=demo', stopOnEntry: true } as DebugProtocol.LaunchRequestArguments);
    await dc.configurationDoneRequest();
    expect((await entry).reason).toBe('entry');
    expect((await dc.threadsRequest()).body.threads.map((t) => t.name)).toEqual(['CPU#0', 'CPU#1']);
    const [qemu] = qemuChildren(adapter.pid!);
    expect(qemu).toBeGreaterThan(0);

    const exited = new Promise((resolve) => adapter.once('exit', resolve));
    await dc.disconnectRequest({ terminateDebuggee: true });
    expect(await exited).toBe(0);
    expect(isAlive(qemu!)).toBe(false);
  });
});
