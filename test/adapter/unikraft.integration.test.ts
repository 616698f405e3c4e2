// Integration: VS Code's view of real Unikraft 0.17 images, through the DAP adapter, from a launch
// configuration that names only the image (symbols from IMAGE.dbg beside it) and a sourceMap to the
// fixtures' app sources. threads-O0: the DAP threads are Unikraft's (idle, init, worker-1,
// worker-2, with the addresses the guest's own uk_sched_dumpk_threads prints), a switched-out one
// has its stack from the saved context; the editor's path of threads.c sets a breakpoint. crash-O0:
// the fault stops as an exception on worker-2 with crash_inner in its stack, on every run.
import path from 'node:path';
import type { Server } from 'node:net';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterEach, describe, expect, it } from 'vitest';
import { unikraftApps, unikraftImage } from '../support/unikraft.js';
import { connectClient, nextEvent } from './support/fixture.js';

type Stopped = DebugProtocol.StoppedEvent['body'];

const apps = () => unikraftApps;

describe('DAP on Unikraft images (integration)', () => {
  let dc: DebugClient | undefined;
  let server: Server | undefined;
  afterEach(async () => {
    await dc?.disconnectRequest({ terminateDebuggee: true }).catch(() => undefined);
    await dc?.stop();
    server?.close();
    dc = undefined;
  });

  async function launch(
    variant: string,
    configure: (c: DebugClient) => Promise<void>,
  ): Promise<{ c: DebugClient; serial: () => string; stopped: Promise<Stopped> }> {
    ({ dc, server } = await connectClient());
    const c = dc;
    let serial = '';
    c.on('output', (e: DebugProtocol.OutputEvent) => {
      if (e.body.category === 'stdout') serial += e.body.output;
    });
    await c.initializeRequest();
    const initialized = nextEvent(c, 'initialized');
    await c.launchRequest({
      image: unikraftImage(variant),
      sourceMap: { '/usr/src/unikraft-fixtures/apps': apps() },
    } as DebugProtocol.LaunchRequestArguments);
    await initialized;
    await configure(c);
    const stopped = nextEvent<Stopped>(c, 'stopped');
    await c.configurationDoneRequest();
    return { c, serial: () => serial, stopped };
  }

  it('shows Unikraft threads by name and address, a switched-out one with its stack, from a breakpoint set in the editor', async () => {
    const file = path.join(apps(), 'threads/threads.c');
    const { c, serial, stopped } = await launch('threads-O0', async (x) => {
      // threads.c:63 is main's call of uk_sched_dumpk_threads; the editor's path is the local one.
      const set = await x.setBreakpointsRequest({ source: { path: file }, breakpoints: [{ line: 63 }] });
      expect(set.body.breakpoints[0]).toMatchObject({ verified: true, line: 63 });
    });
    const stop = await stopped;
    expect(stop.reason).toBe('breakpoint');
    const threads = (await c.threadsRequest()).body.threads;
    const names = threads.map((t) => t.name);
    for (const want of [
      /^idle 0x140d0 \(2\.1\) /,
      /^init 0x16020 \(2\.2\) on CPU 0$/,
      /^worker-1 0x17020 \(2\.3\) /,
      /^worker-2 0x19020 \(2\.4\) /,
    ])
      expect(names).toContainEqual(expect.stringMatching(want));
    const me = threads.find((t) => t.id === stop.threadId)!;
    expect(me.name).toMatch(/^init /);
    const top = (await c.stackTraceRequest({ threadId: me.id, levels: 1 })).body.stackFrames[0]!;
    expect(top).toMatchObject({ name: 'main', line: 63, source: { path: file } });
    // The guest then prints its own list: the same addresses and names.
    const next = nextEvent(c, 'terminated');
    await c.continueRequest({ threadId: me.id });
    await next;
    const own = [...serial().matchAll(/\+ thread (0x[0-9a-f]+) \(([^)]+)\)/g)].map((m) => `${m[2]} ${m[1]}`);
    expect(own).toEqual(['idle 0x140d0', 'init 0x16020', 'worker-1 0x17020', 'worker-2 0x19020']);
  }, 240_000);

  it('stops at a switched-out worker stack from its saved context', async () => {
    const { c, stopped } = await launch('threads-O0', async (x) => {
      await x.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'worker_step', hitCondition: '3' }] });
    });
    const stop = await stopped;
    const threads = (await c.threadsRequest()).body.threads;
    expect(threads.find((t) => t.id === stop.threadId)!.name).toMatch(/^worker-1 0x17020 \(2\.3\) on CPU 0$/);
    const other = threads.find((t) => t.name.startsWith('worker-2 '))!;
    const frames = (await c.stackTraceRequest({ threadId: other.id })).body.stackFrames.map((f) => f.name);
    expect(frames).toEqual(['uk_sched_thread_switch', 'schedcoop_schedule', 'uk_sched_yield', 'uk_sched_thread_sleep', 'worker_fn']);
  }, 240_000);

  it('stops the crash app at its fault as an exception on worker-2, on every run', async () => {
    for (let i = 0; i < 3; i++) {
      const { c, stopped } = await launch('crash-O0', async () => undefined);
      const stop = await stopped;
      expect(stop).toMatchObject({ reason: 'exception', text: 'panic' });
      const info = (await c.exceptionInfoRequest({ threadId: stop.threadId! })).body;
      expect(info.description).toBe('Unikraft crashed: do_page_fault called ukplat_terminate(UKPLAT_CRASH)');
      expect(info.details?.stackTrace).toContain('at 0x115575 in crash_inner at ');
      const threads = (await c.threadsRequest()).body.threads;
      expect(threads.find((t) => t.id === stop.threadId)!.name).toMatch(/^worker-2 0x19020 /);
      const frames = (await c.stackTraceRequest({ threadId: stop.threadId! })).body.stackFrames;
      // The DAP stack names the trap entry (gdb's `<signal handler called>`) by its function.
      expect(frames.map((f) => f.name).slice(0, 4)).toEqual(['ukplat_terminate', 'do_page_fault', 'asm_trap_page_fault', 'crash_inner']);
      expect(frames[3]).toMatchObject({ line: 66, source: { path: path.join(apps(), 'crash/crash.c') } });
      // The crash path above the fault is deemphasized, so the editor opens crash.c:66.
      expect(frames.slice(0, 2).map((f) => f.source?.presentationHint)).toEqual(['deemphasize', 'deemphasize']);
      expect(frames[2]!.source === undefined || frames[2]!.source.presentationHint === 'deemphasize').toBe(true);
      expect(frames[3]!.source?.presentationHint).toBeUndefined();
      await dc!.disconnectRequest({ terminateDebuggee: true });
      await dc!.stop();
      server!.close();
      dc = undefined;
    }
  }, 600_000);
});
