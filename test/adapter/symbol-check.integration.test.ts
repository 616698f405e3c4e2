// Integration: the DAP shows a symbols mismatch. A crash dump of the reference unikernel opened by
// a `coreDump` launch with a build of one changed line: one warning in the Debug Console and one
// notification (`important` output), both naming the two build IDs, and every thread's name (the
// header of its call stack) says so; with its own ELF, none of it.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dumpGuest } from '../support/dump-guest.js';
import { buildCopy, changeOneLine, readelfBuildId } from '../support/wrong-build.js';
import { buildKernel, kernel, nextEvent, startAdapter, stopAdapter, type StdioAdapter } from './support/fixture.js';

describe('DAP: symbols checked against the guest (integration)', () => {
  let dir: string;
  let dump: string;
  let wrong: string;
  const adapters: StdioAdapter[] = [];
  let names: string[] = [];

  beforeAll(async () => {
    buildKernel();
    dir = mkdtempSync(path.join(os.tmpdir(), 'duster-dap-symcheck-'));
    wrong = buildCopy(path.join(dir, 'wrong'), changeOneLine);
    dump = (await dumpGuest({ app: 'crash', smp: 2, memory: '32M', file: path.join(dir, 'crash.core') })).path;
  }, 120_000);
  afterAll(async () => {
    for (const a of adapters) await stopAdapter(a);
    rmSync(dir, { recursive: true, force: true });
  });

  /** Opens the dump over DAP with `symbols`; returns the output events up to the first stop. */
  async function outputs(symbols: string): Promise<DebugProtocol.OutputEvent['body'][]> {
    const a = await startAdapter();
    adapters.push(a);
    const seen: DebugProtocol.OutputEvent['body'][] = [];
    a.dc.on('output', (e: DebugProtocol.OutputEvent) => seen.push(e.body));
    await a.dc.initializeRequest();
    await a.dc.launchRequest({ coreDump: dump, symbols } as DebugProtocol.LaunchRequestArguments);
    const stopped = nextEvent(a.dc, 'stopped');
    await a.dc.configurationDoneRequest();
    await stopped;
    // Stacks are still served; the thread names that head them say whether to trust them.
    const threads = (await a.dc.threadsRequest()).body.threads;
    expect((await a.dc.stackTraceRequest({ threadId: threads[0]!.id })).body.stackFrames.length).toBeGreaterThan(0);
    names = threads.map((t) => t.name);
    return seen;
  }

  it('wrong build: one Debug Console warning and one notification naming both build IDs', async () => {
    const seen = await outputs(wrong);
    const both = new RegExp(`kernel\\.elf has build ID ${readelfBuildId(wrong)}, the guest has build ID ${readelfBuildId(kernel)}`);
    const consoleLines = seen.filter((o) => o.category === 'console' && /symbols do not match/.test(o.output));
    const notifications = seen.filter((o) => o.category === 'important');
    expect(consoleLines).toHaveLength(1);
    expect(consoleLines[0]!.output).toMatch(/^warning: symbols do not match the guest: /);
    expect(consoleLines[0]!.output).toMatch(both);
    expect(notifications).toHaveLength(1);
    expect(notifications[0]!.output).toMatch(both);
    expect(names.length).toBeGreaterThanOrEqual(2);
    for (const n of names) expect(n).toMatch(/ \(symbols do not match the guest\)$/);
  }, 60_000);

  it('right build: no warning, no notification', async () => {
    const seen = await outputs(kernel);
    expect(seen.filter((o) => o.category === 'important' || /warning/.test(o.output))).toEqual([]);
    for (const n of names) expect(n).not.toMatch(/symbols do not match/);
  }, 60_000);
});
