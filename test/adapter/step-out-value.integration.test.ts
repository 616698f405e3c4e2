// Integration: DAP step out reports what the function returned (gdb's "Value returned"), read by
// the engine's SysV x86-64 classification: a double in xmm0, a struct in xmm0:xmm1, a long double
// in st0. app=fp of the reference unikernel at gcc -O2, whose serial line prints the truth.
import path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKernel, nextEvent, root, startAdapter, stopAdapter, type StdioAdapter } from './support/fixture.js';

type Stopped = DebugProtocol.StoppedEvent['body'];
const image = path.join(root, 'fixtures/unikernel/build/gcc-O2/kernel.elf');

describe('DAP step out shows the value returned', () => {
  let adapter: StdioAdapter;
  beforeAll(async () => {
    buildKernel();
    adapter = await startAdapter();
  });
  afterAll(() => stopAdapter(adapter));

  it("as the first row of the caller's Locals, for a double, a long double and a struct of doubles", { timeout: 120_000 }, async () => {
    const { dc } = adapter;
    await dc.initializeRequest();
    const initialized = nextEvent(dc, 'initialized');
    await dc.launchRequest({ image, smp: 1, append: 'app=fp', stopOnEntry: true } as DebugProtocol.LaunchRequestArguments);
    await initialized;
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'scale' }, { name: 'make_dbls' }, { name: 'ld_mul' }] });
    const entry = nextEvent<Stopped>(dc, 'stopped');
    await dc.configurationDoneRequest();
    const threadId = (await entry).threadId!;
    const returned: string[] = [];
    for (let i = 0; i < 3; i++) {
      const hit = nextEvent<Stopped>(dc, 'stopped');
      await dc.continueRequest({ threadId });
      expect(await hit).toMatchObject({ reason: 'function breakpoint' });
      const out = nextEvent<Stopped>(dc, 'stopped');
      await dc.stepOutRequest({ threadId });
      expect(await out).toMatchObject({ reason: 'step' });
      const [frame] = (await dc.stackTraceRequest({ threadId, levels: 1 })).body.stackFrames;
      expect(frame!.name).toBe('app_fp');
      const locals = (await dc.scopesRequest({ frameId: frame!.id })).body.scopes.find((s) => s.name === 'Locals')!;
      const [first] = (await dc.variablesRequest({ variablesReference: locals.variablesReference })).body.variables;
      returned.push(`${first!.name} = ${first!.value}`);
    }
    // The program's own results, in its order: scale=0x402d5a1cac083127 (14.676), ld_mul = 3.75
    // (0x4000:f000000000000000), make_dbls = {7.338, 1.8345}.
    expect(returned).toEqual([
      'Value returned by scale() = 14.676',
      'Value returned by ld_mul() = 3.75',
      'Value returned by make_dbls() = {x = 7.3380000000000001, y = 1.8345}',
    ]);
    await dc.disconnectRequest({ terminateDebuggee: true });
  });
});
