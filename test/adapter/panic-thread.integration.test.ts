// Integration: over DAP, a guest panic stops on the guest thread that panicked, every time. QEMU
// reports the pvpanic stop on whichever vCPU it likes; the stopped event must name the thread
// running on the CPU the guest printed (`cpu=N`, shown as `on CPU N`), in 20 of 20 boots.
import type { DebugProtocol } from '@vscode/debugprotocol';
import { describe, expect, it } from 'vitest';
import { buildKernel, connectClient, kernel, nextEvent } from './support/fixture.js';

const RUNS = 20;

describe('DAP panic stop (integration)', () => {
  it(`stops on the panicking guest thread in ${RUNS} of ${RUNS} runs`, { timeout: RUNS * 30_000 }, async () => {
    buildKernel();
    for (let run = 0; run < RUNS; run++) {
      const { dc, server } = await connectClient();
      try {
        let serial = '';
        dc.on('output', (e: DebugProtocol.OutputEvent) => {
          if (e.body.category === 'stdout') serial += e.body.output;
        });
        await dc.initializeRequest();
        await dc.launchRequest({ image: kernel, smp: 2, append: 'app=crash' } as DebugProtocol.LaunchRequestArguments);
        const stopped = nextEvent<DebugProtocol.StoppedEvent['body']>(dc, 'stopped');
        await dc.configurationDoneRequest();
        const stop = await stopped;
        const cpu = Number(/cpu=(\d+)\s*$/m.exec(serial)?.[1]);
        expect(stop.reason, `run ${run}`).toBe('exception');
        const threads = (await dc.threadsRequest()).body.threads;
        const crasher = threads.find((t) => t.id === stop.threadId);
        expect(crasher?.name, `run ${run}: ${threads.map((t) => t.name).join('; ')}`).toMatch(
          new RegExp(`^crasher \\(2\\.\\d+\\) on CPU ${cpu}$`),
        );
        const frames = (await dc.stackTraceRequest({ threadId: stop.threadId! })).body.stackFrames;
        expect(
          frames.map((f) => f.name),
          `run ${run}`,
        ).toContain('crash_write');
        await dc.terminateRequest();
      } finally {
        await dc.stop();
        server.close();
      }
    }
  });
});
