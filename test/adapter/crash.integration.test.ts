// Integration: guest faults and post-mortem over DAP. The crash app runs to its page fault under
// `duster dap`; the panic arrives as an exception stop whose exceptionInfo is the guest's own
// account (checked against its serial console and addr2line); the debug console's `dump` writes a
// crash dump and `terminate` ends QEMU. A second adapter then opens that dump with a `coreDump`
// launch: it stops on the same vCPU with the same exception and the same stack, serves reads,
// and refuses everything that would change or run the guest.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKernel, isAlive, kernel, nextEvent, qemuChildren, startAdapter, stopAdapter, type StdioAdapter } from './support/fixture.js';

type Stopped = DebugProtocol.StoppedEvent['body'];
type Frame = DebugProtocol.StackFrame;

describe('DAP exceptions and crash dumps (integration)', () => {
  let dir: string;
  let dump: string;
  let live: StdioAdapter;
  let post: StdioAdapter;
  let stop: Stopped;
  let exception: DebugProtocol.ExceptionInfoResponse['body'];
  let frames: Frame[];
  let liveThreads: string[] = [];
  let serial = '';

  beforeAll(() => {
    buildKernel();
    dir = mkdtempSync(path.join(os.tmpdir(), 'duster-dap-crash-'));
    dump = path.join(dir, 'crash.core');
  });
  afterAll(async () => {
    await stopAdapter(live);
    await stopAdapter(post);
    rmSync(dir, { recursive: true, force: true });
  });

  /** Frames as a client shows them: what must agree between the live guest and its dump. */
  const shown = (f: Frame) => ({ name: f.name, line: f.line, column: f.column, source: f.source?.path, pc: f.instructionPointerReference });

  it('reports the guest panic as an exception with the fault the guest printed', async () => {
    live = await startAdapter();
    const { dc } = live;
    dc.on('output', (e: DebugProtocol.OutputEvent) => {
      if (e.body.category === 'stdout') serial += e.body.output;
    });
    await dc.initializeRequest();
    await dc.launchRequest({ image: kernel, smp: 2, append: 'app=crash' } as DebugProtocol.LaunchRequestArguments);
    const stopped = nextEvent<Stopped>(dc, 'stopped');
    await dc.configurationDoneRequest();
    stop = await stopped;
    const printed = /^PANIC: Page Fault \(vector 14\) at RIP=(0x[0-9a-f]+) CR2=0x0 cpu=(\d+)$/m.exec(serial);
    expect(printed).not.toBeNull();
    // In the guest thread that faulted, on the CPU that faulted, named as the guest numbers it.
    const threads = (await dc.threadsRequest()).body.threads;
    liveThreads = threads.map((t) => t.name);
    const faulted = threads.find((t) => t.name.endsWith(` on CPU ${printed![2]}`));
    expect(faulted?.name).toMatch(/^crasher \(2\.\d+\) on CPU \d$/);
    // A short label for the Call Stack (it stands in for the thread's state); the message is the exception's.
    expect(stop).toEqual({
      reason: 'exception',
      threadId: faulted!.id,
      description: 'Paused on panic',
      text: 'panic',
      allThreadsStopped: true,
    });

    exception = (await dc.exceptionInfoRequest({ threadId: stop.threadId! })).body;
    const rip = printed![1]!;
    const [fn, where] = execFileSync('addr2line', ['-f', '-e', kernel, rip], { encoding: 'utf8' }).trim().split('\n');
    expect(fn).toBe('crash_write');
    const line = where!.split(':')[1];
    expect(exception).toEqual({
      exceptionId: 'panic',
      description: printed![0],
      breakMode: 'always',
      details: {
        message: printed![0],
        typeName: 'vector 14',
        stackTrace: expect.stringMatching(new RegExp(`^at ${rip} in crash_write at src/app_crash\\.c:${line}\\nfaulting instruction: mov`)),
      },
    });
    frames = (await dc.stackTraceRequest({ threadId: stop.threadId! })).body.stackFrames;
    // The panicking vCPU is inside the guest's panic path, below the trap frame of the fault.
    expect(frames.map((f) => f.name)).toEqual(expect.arrayContaining(['crash_write']));
  });

  it('writes a crash dump from the debug console and terminates the QEMU it launched', async () => {
    const { dc } = live;
    const [qemu] = qemuChildren(live.process.pid!);
    expect((await dc.evaluateRequest({ expression: `dump ${dump}`, context: 'repl' })).body.result).toBe('');
    expect(existsSync(dump)).toBe(true);
    const terminated = nextEvent(dc, 'terminated');
    await dc.terminateRequest();
    await terminated;
    expect(isAlive(qemu!)).toBe(false);
    await dc.disconnectRequest({});
    expect(await live.exited).toBe(0);
  });

  it('opens the dump post-mortem: same threads, exception and stack', async () => {
    post = await startAdapter();
    const { dc } = post;
    await dc.initializeRequest();
    await dc.launchRequest({ coreDump: dump, symbols: kernel } as DebugProtocol.LaunchRequestArguments);
    const stopped = nextEvent<Stopped>(dc, 'stopped');
    await dc.configurationDoneRequest();
    expect(await stopped).toEqual(stop);
    expect(qemuChildren(post.process.pid!)).toEqual([]);
    expect((await dc.threadsRequest()).body.threads.map((t) => t.name)).toEqual(liveThreads);
    expect((await dc.exceptionInfoRequest({ threadId: stop.threadId! })).body).toEqual(exception);
    const dumped = (await dc.stackTraceRequest({ threadId: stop.threadId! })).body.stackFrames;
    expect(dumped.map(shown)).toEqual(frames.map(shown));
  });

  it('serves scopes, values, memory and disassembly from the dump', async () => {
    const { dc } = post;
    const top = (await dc.stackTraceRequest({ threadId: stop.threadId!, levels: 1 })).body.stackFrames[0]!;
    expect((await dc.evaluateRequest({ expression: 'panic_frame.vector', frameId: top.id })).body.result).toBe('14');
    const scopes = (await dc.scopesRequest({ frameId: top.id })).body.scopes;
    expect(scopes.map((s) => s.name)).toEqual(['Locals', 'Arguments', 'Registers', 'Globals']);
    const regs = (await dc.variablesRequest({ variablesReference: scopes[2]!.variablesReference })).body.variables;
    expect(regs.find((r) => r.name === 'rip')?.value).toBe(top.instructionPointerReference);
    // A dump records the system registers as a group of their own.
    expect(regs.filter((r) => r.variablesReference > 0).map((r) => r.name)).toEqual(['system']);
    const rsp = regs.find((r) => r.name === 'rsp')!.value;
    const mem = (await dc.customRequest('readMemory', { memoryReference: rsp, count: 16 })).body;
    expect(Buffer.from(mem.data, 'base64')).toHaveLength(16);
    const insns = (await dc.customRequest('disassemble', { memoryReference: top.instructionPointerReference, instructionCount: 1 })).body
      .instructions;
    const objdump = execFileSync(
      'objdump',
      [
        '-d',
        `--start-address=${top.instructionPointerReference}`,
        `--stop-address=${BigInt(top.instructionPointerReference!) + 16n}`,
        kernel,
      ],
      { encoding: 'utf8' },
    );
    expect(insns[0].instruction.split(/\s+/)[0]).toBe(/^\s*[0-9a-f]+:\s+(?:[0-9a-f]{2} )+\s+(\S+)/m.exec(objdump)![1]);
    const { modules } = (await dc.modulesRequest({})).body;
    expect(modules).toEqual([expect.objectContaining({ path: kernel, symbolFilePath: kernel })]);
    const sources = (await dc.customRequest('loadedSources', {})).body.sources as DebugProtocol.Source[];
    expect(sources.map((s) => s.name)).toContain('app_crash.c');
  });

  it('refuses to run or change a crash dump, and keeps answering', async () => {
    const { dc } = post;
    const threadId = stop.threadId!;
    const top = (await dc.stackTraceRequest({ threadId, levels: 1 })).body.stackFrames[0]!;
    const refused: Array<[string, object, RegExp]> = [
      ['continue', { threadId }, /^cannot continue: a crash dump is read-only$/],
      ['next', { threadId }, /^cannot step: a crash dump is read-only$/],
      ['stepOut', { threadId }, /^cannot step: a crash dump is read-only$/],
      ['pause', { threadId }, /^the guest is not running$/],
      ['setExpression', { expression: 'panic_cpu', value: '3', frameId: top.id }, /a crash dump is read-only/],
      ['writeMemory', { memoryReference: top.instructionPointerReference, data: 'kA==' }, /a crash dump is read-only/],
    ];
    for (const [command, args, message] of refused) await expect(dc.customRequest(command, args), command).rejects.toThrow(message);
    const bp = (await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'crash_main' }] })).body.breakpoints[0];
    expect(bp).toMatchObject({ verified: false, message: expect.stringMatching(/read-only/) });
    expect((await dc.stackTraceRequest({ threadId })).body.stackFrames.map(shown)).toEqual(frames.map(shown));
    await dc.disconnectRequest({});
    expect(await post.exited).toBe(0);
  });
});
