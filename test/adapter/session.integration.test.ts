// Integration: a whole VS Code-style debugging session through `duster dap` on stdio against QEMU
// running the reference unikernel (2 vCPUs, app=demo, symbols from the image): instruction,
// function, source, conditional and hit-count breakpoints and a logpoint, modules and loaded
// sources, stack/scopes/variables with struct expansion and register groups, setVariable and
// setExpression, memory reads and writes, disassembly checked against objdump, gdb commands in the
// debug console, line and instruction stepping, write and read watchpoints, pause, and a
// disconnect that ends the adapter and leaves no QEMU behind.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildKernel,
  hex,
  isAlive,
  kernel,
  nextEvent,
  qemuChildren,
  root,
  startAdapter,
  stopAdapter,
  symbols,
  type StdioAdapter,
} from './support/fixture.js';

type Stopped = DebugProtocol.StoppedEvent['body'];

const fixtureSources = path.join(root, 'fixtures/unikernel/src');
const demoSource = path.join(fixtureSources, 'app_demo.c');

describe('DAP session against QEMU (integration)', () => {
  let adapter: StdioAdapter;
  let dc: DebugClient;
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
  /** Requests DebugClient has no method for. */
  const request = async <B>(command: string, args: object): Promise<B> => (await dc.customRequest(command, args)).body as B;
  const setExpression = (args: DebugProtocol.SetExpressionArguments) =>
    request<DebugProtocol.SetExpressionResponse['body']>('setExpression', args);
  const variables = async (ref: number) => (await dc.variablesRequest({ variablesReference: ref })).body.variables;

  beforeAll(async () => {
    buildKernel();
    sym = symbols();
    adapter = await startAdapter();
    dc = adapter.dc;
    dc.on('output', (e: DebugProtocol.OutputEvent) => output.push(e.body));
  });
  afterAll(() => stopAdapter(adapter));

  it('initializes with the capabilities it implements', async () => {
    const r = await dc.initializeRequest();
    const claimed = Object.entries(r.body ?? {})
      .filter(([, v]) => v === true)
      .map(([k]) => k)
      .sort();
    // Each one is exercised below (or, for exceptions and crash dumps, in crash.integration.test.ts).
    expect(claimed).toEqual([
      'supportTerminateDebuggee',
      'supportsCompletionsRequest',
      'supportsConditionalBreakpoints',
      'supportsConfigurationDoneRequest',
      'supportsDataBreakpointBytes',
      'supportsDataBreakpoints',
      'supportsDisassembleRequest',
      'supportsEvaluateForHovers',
      'supportsExceptionInfoRequest',
      'supportsFunctionBreakpoints',
      'supportsHitConditionalBreakpoints',
      'supportsInstructionBreakpoints',
      'supportsLoadedSourcesRequest',
      'supportsLogPoints',
      'supportsModulesRequest',
      'supportsReadMemoryRequest',
      'supportsSetExpression',
      'supportsSetVariable',
      'supportsSteppingGranularity',
      'supportsTerminateRequest',
      'supportsValueFormattingOptions',
      'supportsWriteMemoryRequest',
    ]);
  });

  it('launches the image stopped at its entry, with one thread per vCPU', async () => {
    const initialized = nextEvent(dc, 'initialized');
    const t0 = performance.now();
    await dc.launchRequest({ image: kernel, smp: 2, append: 'app=demo', stopOnEntry: true } as DebugProtocol.LaunchRequestArguments);
    await initialized;
    [qemuPid] = qemuChildren(adapter.process.pid!);
    expect(qemuPid).toBeGreaterThan(0);
    const threads = (await dc.threadsRequest()).body.threads;
    expect(threads.map((t) => t.name)).toEqual(['CPU 0', 'CPU 1']);
    threadId = threads[0]!.id;

    const bp = await dc.customRequest('setInstructionBreakpoints', {
      breakpoints: [{ instructionReference: hex(sym.get('counter_tick')!) }],
    });
    expect(bp.body.breakpoints).toEqual([expect.objectContaining({ verified: true, instructionReference: hex(sym.get('counter_tick')!) })]);
    // A Disassembly view left open from an earlier session asks with an empty reference before
    // configurationDone: no instructions yet, and no error for VS Code to show.
    expect((await dc.customRequest('disassemble', { memoryReference: '', instructionOffset: -50, instructionCount: 100 })).body).toEqual({
      instructions: [],
    });
    const entry = nextEvent<Stopped>(dc, 'stopped');
    await dc.configurationDoneRequest();
    expect(await entry).toMatchObject({ reason: 'entry', allThreadsStopped: true });
    console.info(`adapter: launch -> first stopped event in ${(performance.now() - t0).toFixed(0)} ms`);
    // The image's entry point, as the PVH note gives it (readelf), not QEMU's reset vector: the
    // first instruction of boot.S, in 32-bit protected mode.
    const note = /^\s+Xen\s+0x00000008\s+Unknown note type: \(0x00000012\)\s+description data: ((?:[0-9a-f]{2} ){8})/m.exec(
      execFileSync('readelf', ['-n', kernel], { encoding: 'utf8' }),
    )!;
    const pvhEntry = Buffer.from(note[1]!.replace(/ /g, ''), 'hex').readBigUInt64LE(0);
    expect(pvhEntry).toBe(sym.get('_start32'));
    const [frame] = (await dc.stackTraceRequest({ threadId, levels: 1 })).body.stackFrames;
    expect(frame).toMatchObject({
      name: '_start32',
      line: 57,
      source: { path: path.join(fixtureSources, 'boot.S') },
      instructionPointerReference: hex(pvhEntry),
    });
    const [first] = (await dc.customRequest('disassemble', { memoryReference: frame!.instructionPointerReference, instructionCount: 1 }))
      .body.instructions;
    expect(first).toMatchObject({ address: hex(pvhEntry), instruction: 'cli', line: 57 });
  });

  it('lists the image as its one module and the sources its line tables name', async () => {
    const { modules, totalModules } = (await dc.modulesRequest({})).body;
    expect(totalModules).toBe(1);
    // The address range is that of the PT_LOAD segments readelf lists.
    const loads = [
      ...execFileSync('readelf', ['-lW', kernel], { encoding: 'utf8' }).matchAll(
        /^\s*LOAD\s+\S+\s+(0x[0-9a-f]+)\s+\S+\s+\S+\s+(0x[0-9a-f]+)/gm,
      ),
    ].map((m) => [BigInt(m[1]!), BigInt(m[2]!)] as const);
    const start = loads.reduce((a, [v]) => (v < a ? v : a), loads[0]![0]);
    const end = loads.reduce((a, [v, size]) => (v + size > a ? v + size : a), 0n);
    expect(modules).toEqual([
      {
        id: 1,
        name: 'kernel.elf',
        path: kernel,
        symbolFilePath: kernel,
        symbolStatus: 'Symbols loaded.',
        addressRange: `${hex(start)}-${hex(end)}`,
      },
    ]);
    const { sources } = await request<DebugProtocol.LoadedSourcesResponse['body']>('loadedSources', {});
    const paths = sources.map((s) => s.path);
    // Every C and assembly file of the unikernel was compiled with -g, and kernel.h is included.
    for (const f of readdirSync(fixtureSources)) expect(paths, f).toContain(path.join(fixtureSources, f));
    expect(sources.find((s) => s.path === demoSource)?.name).toBe('app_demo.c');
  });

  let frameId: number;
  let rsp: bigint;

  it('stops at the instruction breakpoint with a symbolized stack', async () => {
    const s = await resume(() => dc.continueRequest({ threadId }));
    expect(s.reason).toBe('instruction breakpoint');
    expect(s.hitBreakpointIds).toHaveLength(1);
    const st = await dc.stackTraceRequest({ threadId });
    const [f0, f1] = st.body.stackFrames;
    expect(f0).toMatchObject({
      name: 'counter_tick',
      line: 229,
      instructionPointerReference: hex(sym.get('counter_tick')!),
      source: { path: demoSource },
    });
    const lookup = execFileSync('llvm-dwarfdump', [`--lookup=${hex(sym.get('counter_tick')!)}`, kernel], { encoding: 'utf8' });
    expect(f0!.column).toBe(Number(/Line info: file 'app_demo\.c', line 229, column (\d+)/.exec(lookup)![1]));
    expect(f1).toMatchObject({ name: 'counter_thread', line: 242 });
    frameId = f0!.id;
  });

  it('lists scopes, registers and globals, and expands structs', async () => {
    const scopes = (await dc.scopesRequest({ frameId })).body.scopes;
    expect(scopes.map((s) => s.name)).toEqual(['Locals', 'Arguments', 'Registers', 'Globals']);
    const regs = await variables(scopes.find((s) => s.name === 'Registers')!.variablesReference);
    expect(regs.find((v) => v.name === 'rip')?.value).toBe(hex(sym.get('counter_tick')!));
    rsp = BigInt(regs.find((v) => v.name === 'rsp')!.value);
    // QEMU's target.xml: integer registers are general (as gdb's `info registers` lists them), the
    // x87 registers and fctrl..fop are float, xmm0-15 and mxcsr vector; each group expands.
    const general = regs.filter((r) => r.variablesReference === 0).map((r) => r.name);
    expect(general.slice(0, 17)).toEqual([
      'rax',
      'rbx',
      'rcx',
      'rdx',
      'rsi',
      'rdi',
      'rbp',
      'rsp',
      'r8',
      'r9',
      'r10',
      'r11',
      'r12',
      'r13',
      'r14',
      'r15',
      'rip',
    ]);
    expect(general).toEqual(expect.arrayContaining(['eflags', 'cs', 'fs_base', 'cr0', 'cr3', 'efer']));
    expect(general.filter((n) => /^(st|xmm)\d|mxcsr|fctrl/.test(n))).toEqual([]);
    const groups = regs.filter((r) => r.variablesReference > 0);
    expect(groups.map((g) => `${g.name}: ${g.value}`)).toEqual(['float: 16 registers', 'vector: 17 registers']);
    const float = await variables(groups[0]!.variablesReference);
    expect(float.map((r) => r.name)).toEqual([
      'st0',
      'st1',
      'st2',
      'st3',
      'st4',
      'st5',
      'st6',
      'st7',
      'fctrl',
      'fstat',
      'ftag',
      'fiseg',
      'fioff',
      'foseg',
      'fooff',
      'fop',
    ]);
    // The x87 control word after reset is 0x37f.
    expect(float.find((r) => r.name === 'fctrl')?.value).toBe('0x37f');
    const vector = await variables(groups[1]!.variablesReference);
    expect(vector.map((r) => r.name)).toEqual([...Array.from({ length: 16 }, (_, i) => `xmm${i}`), 'mxcsr']);
    expect(vector.find((r) => r.name === 'mxcsr')?.value).toBe('0x1f80');

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
    const hexMembers = (
      await dc.variablesRequest({
        variablesReference: config.variablesReference,
        format: { hex: true },
      } as DebugProtocol.VariablesArguments)
    ).body.variables;
    expect(hexMembers.find((m) => m.name === 'max_items')?.value).toBe('0x8');
  });

  it('sets variables, struct members, array elements and registers, and sets expressions', async () => {
    const scopes = (await dc.scopesRequest({ frameId })).body.scopes;
    const globals = await variables(scopes.find((s) => s.name === 'Globals')!.variablesReference);
    const config = await variables(globals.find((v) => v.name === 'demo_config')!.variablesReference);
    const configRef = globals.find((v) => v.name === 'demo_config')!.variablesReference;
    const invalidated = nextEvent<DebugProtocol.InvalidatedEvent['body']>(dc, 'invalidated');
    const set = await dc.setVariableRequest({ variablesReference: configRef, name: 'max_items', value: '9' });
    expect(set.body).toMatchObject({
      value: '9',
      type: 'int',
      variablesReference: 0,
      memoryReference: config.find((m) => m.name === 'max_items')!.memoryReference,
    });
    expect((await invalidated).areas).toEqual(['variables']);
    expect((await dc.evaluateRequest({ expression: 'demo_config.max_items', frameId })).body.result).toBe('9');
    const mem = await request<DebugProtocol.ReadMemoryResponse['body']>('readMemory', {
      memoryReference: set.body.memoryReference!,
      count: 4,
    });
    expect(Buffer.from(mem!.data!, 'base64').readInt32LE(0)).toBe(9);
    // The same scope, listed again, shows the new value.
    expect((await variables(configRef)).find((m) => m.name === 'max_items')?.value).toBe('9');

    const weights = config.find((m) => m.name === 'weights')!;
    expect(
      (await dc.setVariableRequest({ variablesReference: weights.variablesReference, name: '[2]', value: 'demo_config.max_items * 2' }))
        .body.value,
    ).toBe('18');
    expect((await dc.evaluateRequest({ expression: 'demo_config.weights[2]', frameId })).body.result).toBe('18');

    const x = await setExpression({ expression: 'demo_config.bounds.bottom_right.x', value: '0x1f', frameId, format: { hex: true } });
    expect(x).toMatchObject({ value: '0x1f', type: 'int' });
    expect((await dc.evaluateRequest({ expression: 'demo_config.bounds.bottom_right.x', frameId })).body.result).toBe('31');

    const regsRef = scopes.find((s) => s.name === 'Registers')!.variablesReference;
    const rax = (await variables(regsRef)).find((r) => r.name === 'rax')!.value;
    expect((await dc.setVariableRequest({ variablesReference: regsRef, name: 'rax', value: '0x1234' })).body.value).toBe('4660');
    expect((await dc.evaluateRequest({ expression: '$rax', frameId })).body.result).toBe('4660');
    expect((await variables(regsRef)).find((r) => r.name === 'rax')?.value).toBe('4660');

    await expect(dc.setVariableRequest({ variablesReference: regsRef, name: 'float', value: '1' })).rejects.toThrow(
      /^float cannot be assigned/,
    );
    await expect(dc.setVariableRequest({ variablesReference: configRef, name: 'nope', value: '1' })).rejects.toThrow(
      /no variable named 'nope'/,
    );
    await expect(setExpression({ expression: 'demo_config.max_items', value: 'no_such_thing', frameId })).rejects.toThrow(/no_such_thing/);
    await expect(setExpression({ expression: '1 + 2', value: '3', frameId })).rejects.toThrow(/not an lvalue/);

    // Put everything back as the guest had it.
    await setExpression({ expression: 'demo_config.max_items', value: '8', frameId });
    await setExpression({ expression: 'demo_config.weights[2]', value: '3', frameId });
    await setExpression({ expression: 'demo_config.bounds.bottom_right.x', value: '30', frameId });
    await setExpression({ expression: '$rax', value: rax, frameId });
    expect((await dc.evaluateRequest({ expression: '$rax', frameId })).body.result).toBe(rax);
  });

  it('evaluates C expressions for watch and hover, in hex on request', async () => {
    const r = await dc.evaluateRequest({ expression: 'demo_config.bounds.bottom_right.x + 2', frameId, context: 'watch' });
    expect(r.body.result).toBe('32');
    const h = await dc.evaluateRequest({
      expression: 'demo_config.max_items',
      frameId,
      context: 'hover',
      format: { hex: true },
    } as DebugProtocol.EvaluateArguments);
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

  it('writes memory, and tells the client what changed', async () => {
    const at = (await dc.evaluateRequest({ expression: 'demo_config.weights[3]', frameId })).body.memoryReference!;
    expect(BigInt(at)).toBe(sym.get('demo_config')! + 48n);
    const changed = nextEvent<DebugProtocol.MemoryEvent['body']>(dc, 'memory');
    const w = await request<DebugProtocol.WriteMemoryResponse['body']>('writeMemory', {
      memoryReference: at,
      data: Buffer.from([77, 0, 0, 0]).toString('base64'),
    });
    expect(w?.bytesWritten).toBe(4);
    expect(await changed).toEqual({ memoryReference: at, offset: 0, count: 4 });
    expect((await dc.evaluateRequest({ expression: 'demo_config.weights[3]', frameId })).body.result).toBe('77');
    await request('writeMemory', { memoryReference: at, data: Buffer.from([4, 0, 0, 0]).toString('base64') });
    expect((await dc.evaluateRequest({ expression: 'demo_config.weights', frameId })).body.result).toBe('{1, 2, 3, 4}');
  });

  it('disassembles around the pc as objdump does', async () => {
    const tick = sym.get('counter_tick')!;
    const r = await dc.customRequest('disassemble', { memoryReference: hex(tick), instructionOffset: -3, instructionCount: 8 });
    const insns = r.body.instructions as DebugProtocol.DisassembledInstruction[];
    expect(insns).toHaveLength(8);
    expect(insns[3]).toMatchObject({ address: hex(tick), symbol: 'counter_tick' });
    const dump = execFileSync('objdump', ['-d', `--start-address=${hex(tick)}`, `--stop-address=${hex(tick + 32n)}`, kernel], {
      encoding: 'utf8',
    });
    const rows = [...dump.matchAll(/^\s*([0-9a-f]+):\s+(?:[0-9a-f]{2} )+\s+(\S+)/gm)].map((m) => ({
      address: `0x${m[1]}`,
      mnemonic: m[2]!,
    }));
    for (const [i, row] of rows.slice(0, 4).entries()) {
      expect(insns[3 + i]!.address).toBe(row.address);
      expect(insns[3 + i]!.instruction.split(/\s+/)[0]).toBe(row.mnemonic);
    }
    // The instructions before the pc end exactly where counter_tick starts.
    const prev = insns[2]!;
    expect(BigInt(prev.address) + BigInt(prev.instructionBytes!.split(' ').length)).toBe(tick);
    // Each instruction names the source line it was compiled from (the view shows those lines
    // between the instructions), as addr2line reads the line table.
    const lines = execFileSync('addr2line', ['-e', kernel, ...insns.map((i) => i.address)], { encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(insns.map((i) => `${i.location?.path}:${i.line}`)).toEqual(lines.map((l) => l.replace(/ \(discriminator \d+\)$/, '')));
    expect(insns[3]!.location).toEqual({ name: 'app_demo.c', path: demoSource });
    expect(insns[3]!.line).toBe(229);
  });

  it('runs gdb commands typed in the debug console', async () => {
    const seen = output.length;
    const r = await dc.evaluateRequest({ expression: 'info registers rip', context: 'repl', frameId });
    expect(r.body.result).toBe('');
    const text = output
      .slice(seen)
      .map((o) => o.output)
      .join('');
    expect(text).toMatch(new RegExp(`^rip\\s+${hex(sym.get('counter_tick')!)}`, 'm'));
    await expect(dc.evaluateRequest({ expression: 'info bogus', context: 'repl' })).rejects.toThrow(/info: want one of/);
    // An expression that starts with a command's name is still an expression.
    expect((await dc.evaluateRequest({ expression: 'demo_config.max_items', context: 'repl', frameId })).body.result).toBe('8');
    const names = (await dc.completionsRequest({ text: 'dis', column: 4 })).body.targets.map((t) => t.label);
    expect(names).toEqual(expect.arrayContaining(['disable', 'disassemble']));
    // Expressions complete too: globals and functions by prefix, members after `.` and `->`.
    const complete = async (text: string) => (await dc.completionsRequest({ text, column: text.length + 1, frameId })).body.targets;
    expect(await complete('p demo_co')).toEqual([
      { label: 'demo_config', type: 'variable', start: 3, length: 7 },
      { label: 'demo_counter', type: 'variable', start: 3, length: 7 },
    ]);
    expect((await complete('counter_t')).map((t) => `${t.label}:${t.type}`)).toEqual(['counter_thread:function', 'counter_tick:function']);
    expect(await complete('demo_config.bounds.b')).toEqual([{ label: 'bottom_right', type: 'property', start: 20, length: 1 }]);
    expect((await complete('tree_root->')).map((t) => t.label)).toEqual(['key', 'left', 'right']);
    expect(await complete('demo_config.max_items + 0x1')).toEqual([]);
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

  it('stops every third time with a hit condition', async () => {
    const [bp] = (await dc.setBreakpointsRequest({ source: { path: demoSource }, breakpoints: [{ line: 230, hitCondition: '% 3' }] })).body
      .breakpoints;
    expect(bp).toMatchObject({ verified: true, line: 230 });
    const counter = async () => Number((await dc.evaluateRequest({ expression: 'demo_counter', frameId: (await top()).id })).body.result);
    expect(await resume(() => dc.continueRequest({ threadId }))).toMatchObject({ reason: 'breakpoint', hitBreakpointIds: [bp!.id] });
    const first = await counter();
    await resume(() => dc.continueRequest({ threadId }));
    expect(await counter()).toBe(first + 3);
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
    try {
      expect(set.body.breakpoints[0]).toMatchObject({ verified: true });
      const s = await resume(() => dc.continueRequest({ threadId }));
      expect(s).toMatchObject({ reason: 'data breakpoint', hitBreakpointIds: [set.body.breakpoints[0]!.id] });
      const [before, after] = s.description!.split(': ')[1]!.split(' → ').map(Number);
      expect(after).toBe(before! + 1);
      expect((await top()).name).toBe('counter_tick');
    } finally {
      await dc.setDataBreakpointsRequest({ breakpoints: [] });
    }
  });

  it('stops on a read of demo_config.bounds with a read data breakpoint', async () => {
    const info = await dc.dataBreakpointInfoRequest({ name: 'demo_config.bounds.bottom_right.x', frameId: (await top()).id });
    const set = await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.body.dataId!, accessType: 'read' }] });
    expect(set.body.breakpoints[0]).toMatchObject({ verified: true });
    const s = await resume(() => dc.continueRequest({ threadId }));
    expect(s).toMatchObject({ reason: 'data breakpoint', description: 'demo_config.bounds.bottom_right.x = 30' });
    // point_area(&demo_config.bounds) is the only reader.
    expect((await top()).name).toBe('point_area');

    // By address and size, watching reads and writes: counter_tick's demo_counter++ is the only access.
    const at = hex(sym.get('demo_counter')!);
    const byAddress = await dc.dataBreakpointInfoRequest({
      name: at,
      asAddress: true,
      bytes: 8,
    } as DebugProtocol.DataBreakpointInfoArguments);
    expect(byAddress.body).toMatchObject({ description: `*${at} (8 bytes at ${at})`, accessTypes: ['write', 'read', 'readWrite'] });
    const access = await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: byAddress.body.dataId!, accessType: 'readWrite' }] });
    try {
      expect(access.body.breakpoints[0]).toMatchObject({ verified: true, message: `*${at}: 8 bytes at ${at}` });
      expect(await resume(() => dc.continueRequest({ threadId }))).toMatchObject({
        reason: 'data breakpoint',
        hitBreakpointIds: [access.body.breakpoints[0]!.id],
      });
      // A watchpoint reports after the accessing instruction. Which access comes first depends on where
      // the other vCPU was stopped (it may be between the load and the store of demo_counter++), so the
      // stop must follow one of the instructions objdump shows touching demo_counter.
      const tick = sym.get('counter_tick')!;
      const dump = execFileSync(
        'objdump',
        ['-d', '--no-show-raw-insn', `--start-address=${hex(tick)}`, `--stop-address=${hex(tick + 0x80n)}`, kernel],
        { encoding: 'utf8' },
      );
      const insns = [...dump.matchAll(/^\s*([0-9a-f]+):\s+(.*)$/gm)].map((m) => ({ address: BigInt(`0x${m[1]}`), text: m[2]! }));
      const after = insns.flatMap((insn, i) => (insn.text.includes('<demo_counter>') && insns[i + 1] ? [hex(insns[i + 1]!.address)] : []));
      expect(after.length).toBeGreaterThanOrEqual(2);
      const stop = await top();
      expect(stop.name).toBe('counter_tick');
      expect(after).toContain(stop.instructionPointerReference);
    } finally {
      await dc.setDataBreakpointsRequest({ breakpoints: [] });
    }
  });

  it('stops at a function breakpoint where gdb places it', async () => {
    const gdb = execFileSync('gdb', ['-nx', '-batch', '-ex', 'break ring_put', kernel], { encoding: 'utf8' });
    const [, address, line] = /Breakpoint 1 at (0x[0-9a-f]+): file src\/app_demo\.c, line (\d+)\./.exec(gdb)!;
    const set = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'ring_put' }] });
    expect(set.body.breakpoints[0]).toMatchObject({ verified: true, instructionReference: address });
    const s = await resume(() => dc.continueRequest({ threadId }));
    expect(s).toMatchObject({ reason: 'function breakpoint', hitBreakpointIds: [set.body.breakpoints[0]!.id] });
    expect(await top()).toMatchObject({ name: 'ring_put', line: Number(line), instructionPointerReference: address });
    await dc.setFunctionBreakpointsRequest({ breakpoints: [] });
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
    expect(
      output
        .filter((o) => o.category === 'stdout')
        .map((o) => o.output)
        .join(''),
    ).toMatch(/demo/);
  });

  it('kills the QEMU it launched on disconnect with terminateDebuggee, and exits', async () => {
    expect(isAlive(qemuPid)).toBe(true);
    await dc.disconnectRequest({ terminateDebuggee: true });
    expect(await adapter.exited).toBe(0);
    expect(isAlive(qemuPid)).toBe(false);
  });
});
