// Integration: requests with bad arguments get an error response whose message names the argument,
// and the session keeps answering. Before launch (no QEMU is started for a bad launch) and with the
// reference unikernel stopped at its entry.
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKernel, kernel, nextEvent, qemuChildren, startAdapter, stopAdapter, type StdioAdapter } from './support/fixture.js';

type Launch = DebugProtocol.LaunchRequestArguments;

describe('DAP requests with bad arguments (integration)', () => {
  let adapter: StdioAdapter;
  let dc: DebugClient;

  beforeAll(async () => {
    buildKernel();
    adapter = await startAdapter();
    dc = adapter.dc;
    await dc.initializeRequest();
  });
  afterAll(() => stopAdapter(adapter));

  const expectThreads = async (n: number) => expect((await dc.threadsRequest()).body.threads).toHaveLength(n);

  it('rejects bad launch and attach configurations without starting QEMU', async () => {
    const bad: Array<[string, object, RegExp]> = [
      ['launch', {}, /^image is missing \(or coreDump and symbols, to open a crash dump\)$/],
      ['launch', { image: '/nonexistent/kernel.elf' }, /^image '\/nonexistent\/kernel\.elf' is not a readable file$/],
      ['launch', { image: kernel, qemuArgs: '-S -gdb tcp::1234' }, /^qemuArgs must be an array, got '-S -gdb tcp::1234'$/],
      ['launch', { image: kernel, qemuArgs: ['-m', 512] }, /^qemuArgs\[1\] must be a string, got 512$/],
      ['launch', { image: kernel, qemuArgs: ['-gdb', 'tcp::1234'] }, /^qemuArgs\[0\] '-gdb' is set by duster itself/],
      ['launch', { image: kernel, smp: 'two' }, /^smp must be an integer from 1 to 64, got 'two'$/],
      ['launch', { image: kernel, memory: '128M,slots=4' }, /^memory '128M,slots=4' is not a size/],
      ['launch', { coreDump: kernel }, /^symbols is missing: a crash dump holds no symbols/],
      [
        'launch',
        { coreDump: kernel, symbols: kernel, image: kernel },
        /^image does not apply to a crash dump \(coreDump\): nothing is booted$/,
      ],
      ['launch', { coreDump: kernel, symbols: kernel, smp: 2 }, /^smp does not apply to a crash dump/],
      [
        'launch',
        { coreDump: '/nonexistent/crash.core', symbols: kernel },
        /^coreDump '\/nonexistent\/crash\.core' is not a readable file$/,
      ],
      ['launch', { coreDump: kernel, symbols: kernel }, /kernel\.elf: an ELF file but not a core dump \(e_type 2\)$/],
      ['attach', { target: 'http://localhost:1234' }, /^target 'http:\/\/localhost:1234' is not a gdbstub address/],
      ['stackTrace', { threadId: 1 }, /^no guest is being debugged: send launch or attach first$/],
      ['goto', { threadId: 1, targetId: 1 }, /^duster does not implement the 'goto' request$/],
    ];
    for (const [command, args, message] of bad) {
      await expect(dc.customRequest(command, args), `${command} ${JSON.stringify(args)}`).rejects.toThrow(message);
      await expectThreads(0);
    }
    expect(qemuChildren(adapter.process.pid!)).toEqual([]);
  });

  it('rejects bad requests against a launched guest and keeps answering', async () => {
    const entry = nextEvent(dc, 'stopped');
    await dc.launchRequest({ image: kernel, smp: 2, append: 'app=demo', stopOnEntry: true } as Launch);
    await dc.configurationDoneRequest();
    await entry;
    await expectThreads(2);
    const frameId = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0]!.id;

    const bad: Array<[string, object, RegExp]> = [
      ['stackTrace', { threadId: 999 }, /^threadId 999 is not a thread of this guest \(threads: 1, 2\)$/],
      ['stackTrace', { threadId: 'one' }, /^threadId must be an integer, got 'one'$/],
      ['scopes', { frameId: 424242 }, /^frameId 424242 is not a frame of the current stop/],
      ['variables', { variablesReference: 99999 }, /^variablesReference 99999 is not a live variable reference/],
      ['readMemory', { memoryReference: 'zzz', count: 16 }, /^memoryReference 'zzz' is not an address/],
      ['readMemory', { memoryReference: '0x1000', count: -1 }, /^count must be an integer from 0 to 16777216, got -1$/],
      ['readMemory', { memoryReference: '0x1000', count: 16 * 1024 * 1024 + 1 }, /^count must be an integer from 0 to 16777216/],
      ['writeMemory', { memoryReference: '0x1000', data: 'not base64!' }, /^data is not base64$/],
      ['disassemble', { memoryReference: '0x100000' }, /^instructionCount is missing$/],
      ['evaluate', { context: 'repl' }, /^expression is missing$/],
      ['evaluate', { expression: '1', frameId: 7777 }, /^frameId 7777 is not a frame/],
      [
        'setBreakpoints',
        { source: { path: '/src/main.c' }, breakpoints: [{ line: 'ten' }] },
        /^breakpoints\[0\]\.line must be an integer >= 1, got 'ten'$/,
      ],
      [
        'setInstructionBreakpoints',
        { breakpoints: [{ instructionReference: 'main' }] },
        /^breakpoints\[0\]\.instructionReference 'main' is not an address/,
      ],
      ['exceptionInfo', { threadId: 1 }, /^threadId 1 did not stop on an exception$/],
      ['continue', {}, /^threadId is missing$/],
      ['next', { threadId: 1, granularity: 'page' }, /^granularity 'page' is not one of statement, line, instruction$/],
      ['setVariable', { variablesReference: 424242, name: 'x', value: '1' }, /^variablesReference 424242 is not a live variable reference/],
      [
        'setVariable',
        { variablesReference: 'locals', name: 'x', value: '1' },
        /^variablesReference must be an integer from 1 to 2147483647, got 'locals'$/,
      ],
      ['setExpression', { expression: 'demo_counter' }, /^value is missing$/],
      ['setExpression', { expression: 'demo_counter', value: 7 }, /^value must be a string, got 7$/],
      ['setExpression', { expression: 'demo_counter = ', value: '1' }, /^expression ends too early at column 16$/],
      ['modules', { startModule: -1 }, /^startModule must be an integer >= 0, got -1$/],
    ];
    for (const [command, args, message] of bad) {
      await expect(dc.customRequest(command, args), `${command} ${JSON.stringify(args)}`).rejects.toThrow(message);
      await expectThreads(2);
    }
    // The frame handle from before is still good: nothing resumed.
    expect((await dc.scopesRequest({ frameId })).body.scopes.length).toBeGreaterThan(0);
  });

  it('reports breakpoints it cannot place as unverified, with the reason', async () => {
    const line = await dc.setBreakpointsRequest({ source: { path: '/src/app_demo.c' }, breakpoints: [{ line: 3 }] });
    expect(line.body.breakpoints).toEqual([expect.objectContaining({ verified: false, message: expect.stringMatching(/\S/) })]);
    const fn = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'not a function!' }] });
    expect(fn.body.breakpoints[0]).toMatchObject({ verified: false, message: expect.stringMatching(/bad location 'not a function!'/) });
    const data = await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: 'bogus' }] });
    expect(data.body.breakpoints[0]).toMatchObject({
      verified: false,
      message: expect.stringMatching(/dataId 'bogus' is not a data breakpoint id/),
    });
    const odd = await dc.dataBreakpointInfoRequest({
      name: '0x1001',
      asAddress: true,
      bytes: 8,
    } as DebugProtocol.DataBreakpointInfoArguments);
    expect(odd.body).toMatchObject({ dataId: null, description: expect.stringMatching(/aligned/) });
  });

  it('reads unmapped memory as unreadable bytes instead of failing', async () => {
    const r = await dc.customRequest('readMemory', { memoryReference: '0xffff800000000000', count: 16 });
    expect(r.body).toMatchObject({ address: '0xffff800000000000', unreadableBytes: 16, data: '' });
  });
});
