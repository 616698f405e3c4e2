// Fuzzing the DAP adapter: random requests with random arguments (plausible values from the live
// session mixed with junk of every JSON type) against a real session on the reference unikernel in
// QEMU. Each request gets a response within a time bound: success, or an error whose one-line
// message is the adapter's own (no leaked JavaScript internals). After each, the guest is stopped
// again if the request resumed it, and real requests prove the session still works: the same
// threads as at the start, a backtrace, and a global's address and code bytes as nm and the ELF
// file have them.
// Left out on purpose: disconnect/terminate (they end the session), writeMemory and assignments
// (they would change the guest under test), and console commands that detach, kill, quit, set or dump.
import type { Server } from 'node:net';
import path from 'node:path';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findCommand } from '../../src/commands/interpreter.js';
import { buildKernel, connectClient, hex, kernel, nextEvent, root, symbols } from '../adapter/support/fixture.js';
import { below, Budget, pick, rng, Tally } from '../support/fuzz.js';
import { imageSections } from '../support/guest-memory.js';

type Stopped = DebugProtocol.StoppedEvent['body'];

const COMMANDS = [
  'threads',
  'stackTrace',
  'scopes',
  'variables',
  'evaluate',
  'completions',
  'setBreakpoints',
  'setFunctionBreakpoints',
  'setInstructionBreakpoints',
  'dataBreakpointInfo',
  'setDataBreakpoints',
  'setExceptionBreakpoints',
  'readMemory',
  'disassemble',
  'continue',
  'next',
  'stepIn',
  'stepOut',
  'pause',
  'exceptionInfo',
  'launch',
  'attach',
  'configurationDone',
  'source',
  'goto',
  'restart',
  'loadedSources',
  'modules',
  'stepBack',
  'setVariable',
  'setExpression',
  'cancel',
];
/** The arguments each request needs (and the breakpoint field it takes), so most requests get past validation. */
const NEEDS: Record<string, string[]> = {
  stackTrace: ['threadId', 'startFrame', 'levels'],
  scopes: ['frameId'],
  variables: ['variablesReference', 'start', 'count', 'format'],
  evaluate: ['expression', 'frameId', 'context', 'format'],
  completions: ['text', 'column'],
  setBreakpoints: ['source', 'breakpoints'],
  setFunctionBreakpoints: ['breakpoints'],
  setInstructionBreakpoints: ['breakpoints'],
  dataBreakpointInfo: ['name', 'frameId', 'variablesReference'],
  setDataBreakpoints: ['breakpoints'],
  setExceptionBreakpoints: ['filters'],
  readMemory: ['memoryReference', 'count', 'offset'],
  disassemble: ['memoryReference', 'instructionCount', 'instructionOffset', 'resolveSymbols'],
  continue: ['threadId'],
  next: ['threadId', 'granularity'],
  stepIn: ['threadId', 'granularity'],
  stepOut: ['threadId', 'granularity'],
  pause: ['threadId'],
  exceptionInfo: ['threadId'],
};
const BREAKPOINT_FIELD: Record<string, string[]> = {
  setBreakpoints: ['line', 'condition', 'hitCondition', 'logMessage'],
  setFunctionBreakpoints: ['name', 'condition'],
  setInstructionBreakpoints: ['instructionReference', 'offset'],
  setDataBreakpoints: ['dataId', 'accessType', 'condition'],
};
const RESUMING = new Set(['continue', 'next', 'stepIn', 'stepOut', 'configurationDone']);
const SESSION_ENDING = new Set(['detach', 'kill', 'quit', 'set', 'dump']);
/** What a message must not look like: internals leaking instead of the adapter's own words. */
const LEAK = /Cannot read propert|is not a function|is not iterable|undefined|NaN|\[object Object\]|\.js:\d+|Maximum call stack/;
const demoSource = path.join(root, 'fixtures/unikernel/src/app_demo.c');

const isAssignment = (s: string) => /(^|[^=!<>])=($|[^=])|\+\+|--/.test(s);
const endsSession = (s: string) => {
  const word = /^\s*([A-Za-z][\w-]*)/.exec(s)?.[1];
  return word !== undefined && SESSION_ENDING.has(findCommand(word).name);
};

describe('DAP requests with random arguments (integration)', () => {
  let dc: DebugClient;
  let server: Server;
  let sym: Map<string, bigint>;
  let counterBytes: Buffer;
  let stops = 0;
  let lastStop: Stopped | undefined;
  let terminated = false;
  let firstThreads: string[] | undefined;
  // Live handles the generator draws on.
  const threadIds: number[] = [];
  const frames: number[] = [];
  const refs: number[] = [];
  const dataIds: string[] = [];

  beforeAll(async () => {
    buildKernel();
    sym = symbols();
    ({ dc, server } = await connectClient());
    dc.on('stopped', (e: DebugProtocol.StoppedEvent) => {
      stops++;
      lastStop = e.body;
    });
    dc.on('terminated', () => (terminated = true));
    await dc.initializeRequest();
    const stopped = nextEvent<Stopped>(dc, 'stopped');
    await dc.launchRequest({ image: kernel, smp: 2, append: 'app=demo' } as DebugProtocol.LaunchRequestArguments);
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'worker_step' }] });
    await dc.configurationDoneRequest();
    await stopped;
    // The code of counter_tick in the image: memory the guest never writes.
    const text = (await imageSections(kernel)).find((s) => s.name === '.text')!;
    const at = Number(sym.get('counter_tick')! - text.address);
    counterBytes = Buffer.from(text.bytes!.subarray(at, at + 32));
  }, 60_000);
  afterAll(async () => {
    await dc?.stop();
    server?.close();
  });

  function junk(random: () => number, depth = 0): unknown {
    switch (below(random, depth > 1 ? 6 : 8)) {
      case 0:
        return pick(random, [0, -1, 1, 2, 3, 1.5, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 53), 1e300, -0]);
      case 1:
      case 4:
        return junkString(random);
      case 2:
        return random() < 0.5;
      case 3:
        return null;
      case 5:
        return below(random, 1 << 20) - (1 << 19);
      case 6:
        return Array.from({ length: below(random, 4) }, () => junk(random, depth + 1));
      default:
        return Object.fromEntries(Array.from({ length: below(random, 4) }, () => [pick(random, KEYS), junk(random, depth + 1)]));
    }
  }

  function junkString(random: () => number): string {
    if (random() < 0.5)
      return pick(random, [
        '',
        ' ',
        'x',
        '0x',
        '0x1000',
        '-1',
        '💥',
        'a\nb',
        '\0',
        '%s%n',
        '0xffffffffffffffffff',
        '../../etc/passwd',
        '{',
        '$',
        '@',
      ]);
    return String.fromCharCode(...Array.from({ length: below(random, 24) }, () => below(random, 0x3000)));
  }

  const symbolRef = (random: () => number) => hex(pick(random, [...sym.values()]) + BigInt(below(random, 64)));
  const expression = (random: () => number): string => {
    const e = pick(random, [
      'demo_counter',
      'w',
      '*w',
      'w->name',
      'w->id',
      '$rip',
      '$sp',
      'sizeof(struct thread)',
      '&demo_counter',
      '*&demo_counter@4',
      'bt',
      'info threads',
      'info registers',
      'p w',
      'p/x *w',
      'x/4gx $sp',
      'list',
      'frame 1',
      'up',
      'down',
      'thread 2',
      'break worker_step',
      'tbreak counter_tick',
      'delete',
      'watch demo_counter',
      'finish',
      'next',
      'step',
      'stepi',
      'continue',
      'info breakpoints',
      'info locals',
      'ptype struct thread',
      'disassemble',
      'gthread 1',
      'help',
      junkString(random),
      `(${junkString(random)})`,
      `${symbolRef(random)}`,
      `{int} ${symbolRef(random)}`,
    ]);
    return isAssignment(e) || endsSession(e) ? 'demo_counter' : e;
  };
  const breakpoint = (random: () => number, command: string) => {
    const b: Record<string, unknown> = {};
    const [main, ...optional] = BREAKPOINT_FIELD[command] ?? ['line'];
    if (random() < 0.9) b[main!] = value(random, main!);
    for (const k of [...optional, pick(random, KEYS)]) if (random() < 0.25) b[k] = random() < 0.8 ? value(random, k) : junk(random);
    return b;
  };
  let current = '';

  function value(random: () => number, key: string): unknown {
    switch (key) {
      case 'threadId':
        return random() < 0.7 ? pick(random, threadIds) : pick(random, [1, 2, 0, 3, -1, 1000]);
      case 'frameId':
        return frames.length && random() < 0.8 ? pick(random, frames) : below(random, 1 << 20);
      case 'variablesReference':
        return refs.length && random() < 0.8 ? pick(random, refs) : below(random, 1 << 20);
      case 'memoryReference':
      case 'instructionReference':
        return random() < 0.8 ? symbolRef(random) : pick(random, ['0x0', '0xffffffffffffffff', '0x10000000000000000', 'zzz', ' 0x1000 ']);
      case 'expression':
        return expression(random);
      case 'context':
        return pick(random, ['watch', 'repl', 'hover', 'clipboard', 'variables']);
      case 'source':
        return random() < 0.8 ? { path: pick(random, [demoSource, '/src/app_demo.c', 'app_demo.c', '']) } : junk(random);
      case 'breakpoints':
        return Array.from({ length: below(random, 4) }, () => breakpoint(random, current));
      case 'condition':
        return pick(random, ['1', '0', 'w->id == 1', 'demo_counter > 5', '((', 'nope']);
      case 'hitCondition':
        return pick(random, ['1', '3', '>2', '%2', 'x']);
      case 'logMessage':
        return pick(random, ['hit {w->id}', 'x={demo_counter}', '{', '{nope}']);
      case 'line':
        return pick(random, [150, 158, 160, 170, 177, 230, 1, 0, 99999]);
      case 'name':
        return pick(random, ['worker_step', 'counter_tick', 'demo_counter', 'w', 'fib', 'app_demo.c:158', '*0x100000', 'nope']);
      case 'dataId':
        return dataIds.length && random() < 0.7 ? pick(random, dataIds) : `${symbolRef(random)}:${pick(random, [1, 2, 4, 8, 3, 0])}:x`;
      case 'accessType':
        return pick(random, ['read', 'write', 'readWrite', 'execute']);
      case 'granularity':
        return pick(random, ['statement', 'line', 'instruction', 'page']);
      case 'format':
        return { hex: random() < 0.5 };
      case 'filters':
        return random() < 0.8 ? [] : ['uncaught'];
      case 'asAddress':
      case 'resolveSymbols':
      case 'stopOnEntry':
        return random() < 0.5;
      case 'count':
      case 'bytes':
      case 'instructionCount':
        return pick(random, [0, 1, 8, 16, 64, 256, 4096, 2 ** 24, 2 ** 24 + 1, -1]);
      case 'offset':
      case 'instructionOffset':
      case 'startFrame':
      case 'levels':
      case 'start':
      case 'column':
        return pick(random, [0, 1, 2, 5, 20, -1, -50, 2 ** 31]);
      case 'image':
      case 'symbols':
        return pick(random, [kernel, '/nonexistent', '']);
      case 'target':
        return pick(random, ['tcp:127.0.0.1:1', 'unix:/nonexistent', 'junk']);
      case 'text':
        return pick(random, ['', 'b', 'in', 'info ', 'p']);
      default:
        return junk(random);
    }
  }

  /** Waits for a stop the request may have started; pauses the guest if it is still running. */
  async function settle(resumed: boolean, stopsBefore: number, label: string): Promise<void> {
    if (!resumed) return;
    const deadline = Date.now() + 1500;
    while (stops === stopsBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (stops > stopsBefore) return;
    const stopped = nextEvent<Stopped>(dc, 'stopped');
    const paused = await dc.customRequest('pause', { threadId: threadIds[0] }).then(
      () => 'ok',
      (e: Error) => e.message,
    );
    await Promise.race([
      stopped,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`${label}: the guest did not stop after pause (pause answered: ${paused})`)), 10_000),
      ),
    ]);
  }

  /** Real requests: the session still answers correctly. Refreshes the handles the generator uses. */
  async function verify(label: string): Promise<void> {
    expect(terminated, `${label}: the session ended`).toBe(false);
    // The same threads as at the start (the demo's guest threads, and vCPUs running none); their
    // states and vCPUs change as the guest runs.
    const threads = (await dc.threadsRequest()).body.threads.map((t) => `${t.id} ${t.name.split(' ')[0]}`).sort();
    if (!firstThreads) firstThreads = threads;
    expect(threads, label).toEqual(firstThreads);
    threadIds.splice(0, threadIds.length, ...threads.map((t) => Number.parseInt(t)));
    const threadId = lastStop?.threadId ?? threadIds[0]!;
    const stack = (await dc.stackTraceRequest({ threadId, levels: 8 })).body.stackFrames;
    expect(stack.length, label).toBeGreaterThan(0);
    const v = await dc.evaluateRequest({ expression: '&demo_counter', context: 'watch' });
    expect(v.body.result, label).toContain(hex(sym.get('demo_counter')!));
    const mem = await dc.customRequest('readMemory', { memoryReference: hex(sym.get('counter_tick')!), count: 32 });
    expect(Buffer.from(mem.body.data, 'base64').equals(counterBytes), `${label}: counter_tick's code reads as in the image`).toBe(true);
    frames.length = 0;
    refs.length = 0;
    frames.push(...stack.map((f) => f.id));
    for (const s of (await dc.scopesRequest({ frameId: stack[0]!.id })).body.scopes) {
      refs.push(s.variablesReference);
      for (const x of (await dc.variablesRequest({ variablesReference: s.variablesReference })).body.variables)
        if (x.variablesReference) refs.push(x.variablesReference);
    }
  }

  const CI = 60;
  const budget = new Budget(CI, 0.2, 3000);
  it(
    `answers random requests (${CI} in npm test) and stays usable after each`,
    async () => {
      await verify('before');
      const random = rng(0xda9);
      const tally = new Tally('DAP requests');
      for (let i = 0; budget.more(i); i++) {
        const command = random() < 0.95 ? pick(random, COMMANDS) : junkString(random);
        current = command;
        const keys = [
          ...(NEEDS[command] ?? []).filter(() => random() < 0.85),
          ...Array.from({ length: below(random, 3) }, () => pick(random, KEYS)),
        ];
        const args: unknown =
          random() < 0.05 ? junk(random) : Object.fromEntries(keys.map((k) => [k, random() < 0.9 ? value(random, k) : junk(random)]));
        const label = `#${i} ${command} ${JSON.stringify(args)}`;
        const stopsBefore = stops;
        const t = performance.now();
        let ok = true;
        let message = '';
        const response = dc.customRequest(command, args).then(
          (r) => {
            if (command === 'dataBreakpointInfo' && typeof r.body?.dataId === 'string') dataIds.push(r.body.dataId);
          },
          (e: Error) => {
            ok = false;
            message = e.message;
          },
        );
        const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000));
        expect(await Promise.race([response.then(() => 'answered'), timer]), `${label}: no response`).toBe('answered');
        const ms = performance.now() - t;
        tally.add({ ok, error: ok ? undefined : 'error response', ms, peakGrowth: 0 });
        if (!ok) {
          expect(message, label).not.toMatch(/\n/);
          expect(message, label).not.toMatch(LEAK);
          expect(message.length, label).toBeGreaterThan(0);
        }
        await settle(ok && RESUMING.has(command), stopsBefore, label);
        await verify(label);
      }
      tally.report();
      expect(tally.ok).toBeGreaterThan(0);
      expect(tally.refused).toBeGreaterThan(0);
    },
    budget.timeout,
  );
});

const KEYS = [
  'threadId',
  'frameId',
  'variablesReference',
  'memoryReference',
  'instructionReference',
  'count',
  'offset',
  'instructionOffset',
  'instructionCount',
  'expression',
  'context',
  'source',
  'breakpoints',
  'line',
  'name',
  'dataId',
  'accessType',
  'filters',
  'granularity',
  'startFrame',
  'levels',
  'format',
  'start',
  'text',
  'column',
  'asAddress',
  'bytes',
  'resolveSymbols',
  'image',
  'target',
  'symbols',
  'stopOnEntry',
  'qemuArgs',
  'lines',
  'data',
];
