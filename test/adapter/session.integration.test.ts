// Integration: a whole VS Code-style debugging session through the DAP adapter against QEMU running
// the reference unikernel (2 vCPUs, app=demo, symbols from the image): instruction, source and
// conditional breakpoints and a logpoint, stack/scopes/variables with struct expansion, memory,
// disassembly checked against objdump, gdb commands in the debug console, line and instruction
// stepping, a write watchpoint, pause, and a disconnect that leaves no QEMU behind.
import { execFileSync } from 'node:child_process';
import type { Server } from 'node:net';
import path from 'node:path';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKernel, connectClient, hex, isAlive, kernel, nextEvent, qemuChildren, root, symbols } from './support/fixture.js';

type Stopped = DebugProtocol.StoppedEvent['body'];

const demoSource = path.join(root, 'fixtures/unikernel/src/app_demo.c');

describe('DAP session against QEMU (integration)', () => {
  let dc: DebugClient;
  let server: Server;
  let sym: Map<string, bigint>;
  let qemuPid: number;
  let threadId: number;
  const output: Array<{ category?: string; output: string }> = [];

  const top = async () => (await dc.stackTraceRequest({ threadId, levels: 20 })).body.stackFrames[0]!;
  /** Continues (or steps) and returns the stop, following the vCPU that stopped. */
  const resume = async (request: () => Promise<unknown>): Promise<Stopped> => {
    const stopped = nextEvent<Stopped>(dc, 'stopped');
    await request();
    const s = await stopped;
    threadId = s.threadId!;
    return s;
  };
  const variables = async (ref: number) => (await dc.variablesRequest({ variablesReference: ref })).body.variables;

  beforeAll(async () => {
    buildKernel();
    sym = symbols();
    ({ dc, server } = await connectClient());
    dc.on('output', (e: DebugProtocol.OutputEvent) => output.push(e.body));
  });
  afterAll(async () => {
    await dc?.stop();
    server?.close();
  });

  it('initializes with the capabilities it implements', async () => {
    const r = await dc.initializeRequest();
    expect(r.body).toMatchObject({
      supportsConfigurationDoneRequest: true,
      supportsConditionalBreakpoints: true,
      supportsLogPoints: true,
      supportsInstructionBreakpoints: true,
      supportsDataBreakpoints: true,
      supportsDisassembleRequest: true,
      supportsReadMemoryRequest: true,
      supportsSteppingGranularity: true,
      supportTerminateDebuggee: true,
    });
  });

  it('launches the image stopped at its entry, with one thread per vCPU', async () => {
    const initialized = nextEvent(dc, 'initialized');
    const t0 = performance.now();
    await dc.launchRequest({ image: kernel, smp: 2, append: 'app=demo', stopOnEntry: true } as DebugProtocol.LaunchRequestArguments);
    await initialized;
    [qemuPid] = qemuChildren(process.pid);
    expect(qemuPid).toBeGreaterThan(0);
    const threads = (await dc.threadsRequest()).body.threads;
    expect(threads.map((t) => t.name)).toEqual(['CPU#0', 'CPU#1']);
    threadId = threads[0]!.id;

    const bp = await dc.customRequest('setInstructionBreakpoints', { breakpoints: [{ instructionReference: hex(sym.get('counter_tick')!) }] });
    expect(bp.body.breakpoints).toEqual([expect.objectContaining({ verified: true, instructionReference: hex(sym.get('counter_tick')!) })]);
    const entry = nextEvent<Stopped>(dc, 'stopped');
    await dc.configurationDoneRequest();
    expect(await entry).toMatchObject({ reason: 'entry', allThreadsStopped: true });
    console.info(`adapter: launch -> first stopped event in ${(performance.now() - t0).toFixed(0)} ms`);
  });

  let frameId: number;
  let rsp: bigint;

  it('stops at the instruction breakpoint with a symbolized stack', async () => {
    const s = await resume(() => dc.continueRequest({ threadId }));
    expect(s.reason).toBe('instruction breakpoint');
    expect(s.hitBreakpointIds).toHaveLength(1);
    const st = await dc.stackTraceRequest({ threadId });
    const [f0, f1] = st.body.stackFrames;
    expect(f0).toMatchObject({ name: 'counter_tick', line: 229, instructionPointerReference: hex(sym.get('counter_tick')!), source: { path: demoSource } });
    expect(f1).toMatchObject({ name: 'counter_thread', line: 242 });
    frameId = f0!.id;
  });

  it('lists scopes, registers and globals, and expands structs', async () => {
    const scopes = (await dc.scopesRequest({ frameId })).body.scopes;
    expect(scopes.map((s) => s.name)).toEqual(['Locals', 'Arguments', 'Registers', 'Globals']);
    const regs = await variables(scopes.find((s) => s.name === 'Registers')!.variablesReference);
    expect(regs.find((v) => v.name === 'rip')?.value).toBe(hex(sym.get('counter_tick')!));
    rsp = BigInt(regs.find((v) => v.name === 'rsp')!.value);

    const globals = await variables(scopes.find((s) => s.name === 'Globals')!.variablesReference);
    const config = globals.find((v) => v.name === 'demo_config')!;
    expect(config.type).toBe('struct config');
    const members = await variables(config.variablesReference);
    expect(members.map((m) => m.name)).toEqual(['name', 'max_items', 'bounds', 'flags', 'weights']);
    expect(members.find((m) => m.name === 'max_items')?.value).toBe('8');
    const bounds = await variables(members.find((m) => m.name === 'bounds')!.variablesReference);
    const bottomRight = await variables(bounds.find((m) => m.name === 'bottom_right')!.variablesReference);
    expect(bottomRight.map((m) => `${m.name}=${m.value}`)).toEqual(['x=30', 'y=40']);
    const weights = members.find((m) => m.name === 'weights')!;
    expect(weights.indexedVariables).toBe(4);
    const page = (await dc.variablesRequest({ variablesReference: weights.variablesReference, start: 2, count: 2 })).body.variables;
    expect(page.map((m) => `${m.name}=${m.value}`)).toEqual(['[2]=3', '[3]=4']);
  });

  it('evaluates C expressions for watch and hover, in hex on request', async () => {
    const r = await dc.evaluateRequest({ expression: 'demo_config.bounds.bottom_right.x + 2', frameId, context: 'watch' });
    expect(r.body.result).toBe('32');
    const h = await dc.evaluateRequest({ expression: 'demo_config.max_items', frameId, context: 'hover', format: { hex: true } } as DebugProtocol.EvaluateArguments);
    expect(h.body.result).toBe('0x8');
    await expect(dc.evaluateRequest({ expression: 'no_such_symbol', frameId, context: 'watch' })).rejects.toThrow(/no_such_symbol/);
  });

  it('reads the return address at rsp with readMemory', async () => {
    const r = await dc.customRequest('readMemory', { memoryReference: hex(rsp), count: 64 });
    expect(r.body.address).toBe(hex(rsp));
    const bytes = Buffer.from(r.body.data, 'base64');
    expect(bytes).toHaveLength(64);
    // At a function's first instruction [rsp] is the return address: inside counter_thread.
    const caller = (await dc.stackTraceRequest({ threadId })).body.stackFrames[1]!;
    expect(hex(bytes.readBigUInt64LE(0))).toBe(caller.instructionPointerReference);
  });

  it('disassembles around the pc as objdump does', async () => {
    const tick = sym.get('counter_tick')!;
    const r = await dc.customRequest('disassemble', { memoryReference: hex(tick), instructionOffset: -3, instructionCount: 8 });
    const insns = r.body.instructions as DebugProtocol.DisassembledInstruction[];
    expect(insns).toHaveLength(8);
    expect(insns[3]).toMatchObject({ address: hex(tick), symbol: 'counter_tick' });
    const dump = execFileSync('objdump', ['-d', `--start-address=${hex(tick)}`, `--stop-address=${hex(tick + 32n)}`, kernel], { encoding: 'utf8' });
    const rows = [...dump.matchAll(/^\s*([0-9a-f]+):\s+(?:[0-9a-f]{2} )+\s+(\S+)/gm)].map((m) => ({ address: `0x${m[1]}`, mnemonic: m[2]! }));
    for (const [i, row] of rows.slice(0, 4).entries()) {
      expect(insns[3 + i]!.address).toBe(row.address);
      expect(insns[3 + i]!.instruction.split(/\s+/)[0]).toBe(row.mnemonic);
    }
    // The instructions before the pc end exactly where counter_tick starts.
    const prev = insns[2]!;
    expect(BigInt(prev.address) + BigInt(prev.instructionBytes!.split(' ').length)).toBe(tick);
  });

  it('runs gdb commands typed in the debug console', async () => {
    const seen = output.length;
    const r = await dc.evaluateRequest({ expression: 'info registers rip', context: 'repl', frameId });
    expect(r.body.result).toBe('');
    const text = output.slice(seen).map((o) => o.output).join('');
    expect(text).toMatch(new RegExp(`^rip\\s+${hex(sym.get('counter_tick')!)}`, 'm'));
    await expect(dc.evaluateRequest({ expression: 'info bogus', context: 'repl' })).rejects.toThrow(/info: want one of/);
    // An expression that starts with a command's name is still an expression.
    expect((await dc.evaluateRequest({ expression: 'demo_config.max_items', context: 'repl', frameId })).body.result).toBe('8');
    const names = (await dc.completionsRequest({ text: 'dis', column: 4 })).body.targets.map((t) => t.label);
    expect(names).toEqual(expect.arrayContaining(['disable', 'disassemble']));
  });

  it('stops at a conditional source breakpoint and logs through a logpoint', async () => {
    await dc.customRequest('setInstructionBreakpoints', { breakpoints: [] });
    const set = await dc.setBreakpointsRequest({
      source: { path: demoSource },
      breakpoints: [{ line: 230, condition: 'demo_counter % 5 == 4' }, { line: 231, logMessage: 'tick {demo_counter}' }, { line: 300 }],
    });
    const [cond, log, none] = set.body.breakpoints;
    expect(cond).toMatchObject({ verified: true, line: 230 });
    expect(log).toMatchObject({ verified: true, line: 231 });
    expect(none).toMatchObject({ verified: false, message: `No line 300 in file "${demoSource}".` });

    const first = await resume(() => dc.continueRequest({ threadId }));
    expect(first).toMatchObject({ reason: 'breakpoint', hitBreakpointIds: [cond!.id] });
    expect((await top()).line).toBe(230);
    const at = Number((await dc.evaluateRequest({ expression: 'demo_counter', frameId: (await top()).id })).body.result);
    expect(at % 5).toBe(4);
    const seen = output.length;
    await resume(() => dc.continueRequest({ threadId }));
    const ticks = output.slice(seen).flatMap((o) => [...o.output.matchAll(/^tick (\d+)$/gm)].map((m) => Number(m[1])));
    expect(ticks).toEqual([at + 1, at + 2, at + 3, at + 4, at + 5]);
    await dc.setBreakpointsRequest({ source: { path: demoSource }, breakpoints: [] });
  });

  it('steps over, into and out by line', async () => {
    const over = await resume(() => dc.nextRequest({ threadId }));
    expect(over.reason).toBe('step');
    expect((await top()).line).toBe(231);
    await resume(() => dc.stepOutRequest({ threadId }));
    // The call is the last instruction of line 242: finishing lands on the first of line 243.
    expect(await top()).toMatchObject({ name: 'counter_thread', line: 243 });
    await resume(() => dc.stepInRequest({ threadId }));
    expect((await top()).name).toBe('thread_sleep');
  });

  it('steps one instruction', async () => {
    const pc = (await top()).instructionPointerReference;
    const s = await resume(() => dc.stepInRequest({ threadId, granularity: 'instruction' }));
    expect(s.reason).toBe('step');
    expect((await top()).instructionPointerReference).not.toBe(pc);
  });

  it('stops on a write to demo_counter with a data breakpoint', async () => {
    const info = await dc.dataBreakpointInfoRequest({ name: 'demo_counter', frameId: (await top()).id });
    expect(info.body).toMatchObject({ dataId: expect.stringMatching(/./), accessTypes: ['write', 'read', 'readWrite'] });
    expect(info.body.description).toContain(hex(sym.get('demo_counter')!));
    const set = await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.body.dataId!, accessType: 'write' }] });
    expect(set.body.breakpoints[0]).toMatchObject({ verified: true });
    const s = await resume(() => dc.continueRequest({ threadId }));
    expect(s).toMatchObject({ reason: 'data breakpoint', hitBreakpointIds: [set.body.breakpoints[0]!.id] });
    const [before, after] = s.description!.split(': ')[1]!.split(' → ').map(Number);
    expect(after).toBe(before! + 1);
    expect((await top()).name).toBe('counter_tick');
    await dc.setDataBreakpointsRequest({ breakpoints: [] });
  });

  it('pauses a running guest', async () => {
    const stopped = nextEvent<Stopped>(dc, 'stopped');
    await dc.continueRequest({ threadId });
    await new Promise((r) => setTimeout(r, 200));
    await dc.pauseRequest({ threadId });
    expect((await stopped).reason).toBe('pause');
    await expect(dc.pauseRequest({ threadId })).rejects.toThrow(/not running/);
  });

  it('forwards the guest serial console as stdout output', () => {
    expect(output.filter((o) => o.category === 'stdout').map((o) => o.output).join('')).toMatch(/demo/);
  });

  it('kills the QEMU it launched on disconnect with terminateDebuggee', async () => {
    expect(isAlive(qemuPid)).toBe(true);
    await dc.disconnectRequest({ terminateDebuggee: true });
    expect(isAlive(qemuPid)).toBe(false);
    expect(qemuChildren(process.pid)).toEqual([]);
  });
});
