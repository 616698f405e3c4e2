// Integration: a configuration that cannot work, each in a session of its own as VS Code starts
// one: the launch or attach fails with one line that says what was wrong (VS Code shows it), and
// the session then ends cleanly: the adapter exits on disconnect and leaves no QEMU behind.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKernel, kernel, qemuChildren, startAdapter, stopAdapter, type StdioAdapter } from './support/fixture.js';

describe('bad launch and attach configurations (integration)', () => {
  let adapter: StdioAdapter | undefined;
  let empty: string;
  beforeAll(() => {
    buildKernel();
    empty = mkdtempSync(path.join(os.tmpdir(), 'duster-no-qemu-'));
  });
  afterAll(async () => {
    await stopAdapter(adapter);
    rmSync(empty, { recursive: true, force: true });
  });

  /** One session: initialize, the failing request, disconnect; the adapter must exit with 0. */
  async function refused(request: 'launch' | 'attach', config: object, message: RegExp, env?: NodeJS.ProcessEnv): Promise<void> {
    adapter = await startAdapter(undefined, env);
    const { dc } = adapter;
    await dc.initializeRequest();
    const failure = await dc.customRequest(request, config).then(
      () => undefined,
      (e: Error) => e.message,
    );
    expect(failure).toMatch(message);
    expect(failure).not.toMatch(/\n|\bat .*\.(c?js|ts):\d+/);
    // The client gets no threads and can end the session.
    expect((await dc.threadsRequest()).body.threads).toEqual([]);
    expect(qemuChildren(adapter.process.pid!)).toEqual([]);
    await dc.disconnectRequest({});
    expect(await adapter.exited).toBe(0);
  }

  it('a missing image', () =>
    refused(
      'launch',
      { image: '/nonexistent/kernel.elf', stopOnEntry: true },
      /^image '\/nonexistent\/kernel\.elf' is not a readable file$/,
    ));

  it('a misspelt property', () =>
    refused(
      'launch',
      { image: kernel, stopOnEntyr: true, __sessionId: 'x', name: 'boot', type: 'duster', request: 'launch' },
      /^unknown property 'stopOnEntyr' in the launch configuration \(duster's launch takes image, coreDump, symbols, smp, memory, append, qemuArgs, stopOnEntry, cwd, sourceMap\)$/,
    ));

  it('a target that is not a gdbstub address, and one where nothing listens', async () => {
    await refused(
      'attach',
      { target: '127.0.0.1:1234', symbols: kernel },
      /^target '127\.0\.0\.1:1234' is not a gdbstub address \(tcp:HOST:PORT or unix:PATH\) or a Xen domain \(xen:NAME, xen:ID\)$/,
    );
    await refused(
      'attach',
      { target: 'tcp:127.0.0.1:1', symbols: kernel },
      /^cannot attach to tcp:127\.0\.0\.1:1: .*connect ECONNREFUSED 127\.0\.0\.1:1$/,
    );
  });

  it('a crash dump without symbols', () =>
    refused('launch', { coreDump: kernel }, /^symbols is missing: a crash dump holds no symbols \(give the image it was taken from\)$/));

  it('no QEMU on the PATH', () =>
    refused('launch', { image: kernel }, /^qemu-system-x86_64 not found on PATH \(Debian: apt-get install qemu-system-x86\)$/, {
      PATH: empty,
    }));
});
