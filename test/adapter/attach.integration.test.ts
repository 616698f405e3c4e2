// Integration: attach to a QEMU someone else started (through a packet-counting RSP proxy), debug
// it, and disconnect leaving the guest running. Also measures what a typical stop costs on the
// wire: the stackTrace + scopes + variables a client sends when the guest stops.
import type { Server } from 'node:net';
import path from 'node:path';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type QemuInstance } from '../../src/qemu/index.js';
import { bootGuest } from '../support/guest.js';
import { RspProxy } from '../support/rsp-proxy.js';
import { buildKernel, connectClient, hex, kernel, nextEvent, root, symbols } from './support/fixture.js';

type Stopped = DebugProtocol.StoppedEvent['body'];

describe('DAP attach to a running QEMU (integration)', () => {
  let dc: DebugClient;
  let server: Server;
  let q: QemuInstance;
  let proxy: RspProxy;

  beforeAll(async () => {
    buildKernel();
    q = await bootGuest({ image: kernel, smp: 2, append: 'app=demo', gdb: 'unix' });
    await q.waitForSerial(/counter: demo_counter=\d+/);
    proxy = await RspProxy.start(q.gdbAddress!);
    ({ dc, server } = await connectClient());
    await dc.initializeRequest();
  });
  afterAll(async () => {
    await dc?.stop();
    server?.close();
    await proxy?.close();
    await q?.kill();
  });

  it('attaches, stops at a breakpoint, and counts the packets of one stop', async () => {
    const tick = symbols().get('counter_tick')!;
    await dc.attachRequest({ target: proxy.address, symbols: kernel, stopOnEntry: true } as DebugProtocol.AttachRequestArguments);
    const first = nextEvent<Stopped>(dc, 'stopped');
    await dc.customRequest('setInstructionBreakpoints', { breakpoints: [{ instructionReference: hex(tick) }] });
    await dc.configurationDoneRequest();
    expect((await first).reason).toBe('pause');
    const hit = nextEvent<Stopped>(dc, 'stopped');
    proxy.reset();
    await dc.continueRequest({ threadId: 1 });
    const s = await hit;
    expect(s.reason).toBe('instruction breakpoint');
    const stopCost = proxy.requestCount;

    proxy.reset();
    const frame = (await dc.stackTraceRequest({ threadId: s.threadId!, levels: 20 })).body.stackFrames[0]!;
    expect(frame.name).toBe('counter_tick');
    const scopes = (await dc.scopesRequest({ frameId: frame.id })).body.scopes;
    for (const scope of scopes.filter((s) => !s.expensive)) await dc.variablesRequest({ variablesReference: scope.variablesReference });
    const regs = scopes.find((s) => s.name === 'Registers')!;
    const vars = (await dc.variablesRequest({ variablesReference: regs.variablesReference })).body.variables;
    expect(vars.find((v) => v.name === 'rip')?.value).toBe(hex(tick));
    console.info(
      `adapter: continue to the stopped event = ${stopCost} RSP packets; then stackTrace + scopes + variables of every cheap scope = ${proxy.requestCount}`,
    );
    expect(proxy.requestCount).toBeLessThan(20);
    await dc.customRequest('setInstructionBreakpoints', { breakpoints: [] });
  });

  it('counts the packets of a stop inside a function with locals, as VS Code asks for it', async () => {
    const demo = path.join(root, 'fixtures/unikernel/src/app_demo.c');
    await dc.setBreakpointsRequest({ source: { path: demo }, breakpoints: [{ line: 163 }] });
    const hit = nextEvent<Stopped>(dc, 'stopped');
    proxy.reset();
    await dc.continueRequest({ threadId: 1 });
    const s = await hit;
    const stopCost = proxy.requestCount;
    proxy.reset();
    // VS Code on a stop: threads, the top frame, the rest of the stack, scopes, the cheap scopes' variables.
    await dc.threadsRequest();
    const [top] = (await dc.stackTraceRequest({ threadId: s.threadId!, startFrame: 0, levels: 1 })).body.stackFrames;
    const rest = (await dc.stackTraceRequest({ threadId: s.threadId!, startFrame: 1, levels: 19 })).body.stackFrames;
    expect(top).toMatchObject({ name: 'worker_step', line: 163 });
    expect(rest.map((f) => f.name)).toEqual(['worker_thread', 'thread_trampoline']);
    const scopes = (await dc.scopesRequest({ frameId: top!.id })).body.scopes;
    const shown = new Map<string, string[]>();
    for (const scope of scopes.filter((x) => !x.expensive))
      shown.set(
        scope.name,
        (await dc.variablesRequest({ variablesReference: scope.variablesReference })).body.variables.map((v) => v.name),
      );
    expect(shown.get('Locals')).toEqual(['op', 'a', 'b', 'result']);
    expect(shown.get('Arguments')).toEqual(['w']);
    console.info(
      `adapter: continue to a stop in worker_step = ${stopCost} RSP packets; threads + stackTrace (1 + 19 frames) + scopes + variables (Locals, Arguments, Registers) = ${proxy.requestCount}`,
    );
    expect(proxy.requestCount).toBeLessThan(30);
    await dc.setBreakpointsRequest({ source: { path: demo }, breakpoints: [] });
  });

  it('disconnects leaving the guest running', async () => {
    await dc.disconnectRequest({});
    const seen = q.serialText.length;
    await q.waitForSerial(/counter: demo_counter=\d+/, 10_000, seen);
    expect(q.exited).toBe(false);
  });
});
