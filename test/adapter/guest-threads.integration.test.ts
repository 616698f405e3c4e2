// Integration: DAP threads are the unikernel's threads (reference unikernel, -smp 2, app=demo).
// Every thread the guest announces on its serial console is a DAP thread; the one that hit the
// breakpoint is shown on its vCPU and the stopped event names it; a switched-out thread has a full
// stack from its saved context with scopes and locals; `next` keeps the same DAP thread, and a
// switched-out thread refuses to step.
import type { Server } from 'node:net';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKernel, connectClient, kernel, nextEvent } from './support/fixture.js';

type Stopped = DebugProtocol.StoppedEvent['body'];

describe('DAP threads of the unikernel (integration)', () => {
  let dc: DebugClient;
  let server: Server;
  let serial = '';
  let stopped: Stopped;

  beforeAll(async () => {
    buildKernel();
    ({ dc, server } = await connectClient());
    dc.on('output', (e: DebugProtocol.OutputEvent) => {
      if (e.body.category === 'stdout') serial += e.body.output;
    });
    await dc.initializeRequest();
    const initialized = nextEvent(dc, 'initialized');
    await dc.launchRequest({ image: kernel, smp: 2, append: 'app=demo' } as DebugProtocol.LaunchRequestArguments);
    await initialized;
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'counter_tick' }] });
    // The second hit: by then every app thread has started and announced itself.
    let hit = nextEvent<Stopped>(dc, 'stopped');
    await dc.configurationDoneRequest();
    stopped = await hit;
    hit = nextEvent<Stopped>(dc, 'stopped');
    await dc.continueRequest({ threadId: stopped.threadId! });
    stopped = await hit;
  });
  afterAll(async () => {
    await dc?.disconnectRequest({ terminateDebuggee: true }).catch(() => undefined);
    await dc?.stop();
    server?.close();
  });

  it('lists the guest threads by name, the stopped one on its vCPU', async () => {
    const threads = (await dc.threadsRequest()).body.threads;
    const started = [...serial.matchAll(/thread (\d+) (\S+) started on cpu/g)];
    expect(started.length).toBeGreaterThanOrEqual(3);
    for (const [, id, name] of started)
      expect(threads.map((t) => t.name)).toContainEqual(expect.stringMatching(new RegExp(`^${name} \\(2\\.${id}\\) `)));
    const me = threads.find((t) => t.id === stopped.threadId)!;
    expect(me.name).toMatch(/^counter \(2\.\d+\) on CPU [01]$/);
    expect(threads.filter((t) => / on CPU \d$/.test(t.name))).toHaveLength(2);
    const top = (await dc.stackTraceRequest({ threadId: me.id, levels: 1 })).body.stackFrames[0]!;
    expect(top.name).toBe('counter_tick');
  });

  it('shows a switched-out thread stack from its saved context, with its locals', async () => {
    const threads = (await dc.threadsRequest()).body.threads;
    const asleep = threads.filter((t) => / THREAD_\w+$/.test(t.name));
    expect(asleep.length).toBeGreaterThanOrEqual(3);
    for (const t of asleep) {
      const frames = (await dc.stackTraceRequest({ threadId: t.id })).body.stackFrames;
      expect(frames[0]!.name).toBe('schedule_locked');
      const own = frames.find((f) => /^(producer|consumer|worker|counter)_thread$/.test(f.name));
      if (!/^idle/.test(t.name)) expect(frames.at(-1)!.name).toBe('thread_trampoline');
      if (!own) continue;
      const scopes = (await dc.scopesRequest({ frameId: own.id })).body.scopes;
      const args = (await dc.variablesRequest({ variablesReference: scopes.find((s) => s.name === 'Arguments')!.variablesReference })).body
        .variables;
      expect(args.map((v) => v.name)).toEqual(['arg']);
      const regs = (await dc.variablesRequest({ variablesReference: scopes.find((s) => s.name === 'Registers')!.variablesReference })).body
        .variables;
      expect(regs.find((r) => r.name === 'rip')?.value).toBe(own.instructionPointerReference);
    }
  });

  it('steps with next in the stopped thread and reports the same thread; a switched-out one refuses', async () => {
    const threads = (await dc.threadsRequest()).body.threads;
    const asleep = threads.find((t) => / THREAD_\w+$/.test(t.name))!;
    await expect(dc.nextRequest({ threadId: asleep.id })).rejects.toThrow(/switched out/);
    const me = stopped.threadId!;
    for (let i = 0; i < 3; i++) {
      const step = nextEvent<Stopped>(dc, 'stopped');
      await dc.nextRequest({ threadId: me });
      expect(await step).toMatchObject({ reason: 'step', threadId: me });
    }
    const name = (await dc.threadsRequest()).body.threads.find((t) => t.id === me)!.name;
    expect(name).toMatch(/^counter \(2\.\d+\) /);
  });
});
