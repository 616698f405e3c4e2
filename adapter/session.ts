// The DAP session: decodes requests, routes each to its handler and turns the handler's result or
// error into the response. No debugging happens here.
import { DebugSession, Response } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { errorLine } from '../src/engine/errors.js';
import { Args } from './args.js';
import { CAPABILITIES } from './capabilities.js';
import type { ConsoleLanguage } from './console.js';
import { AdapterContext, type Handler } from './context.js';
import { breakpointHandlers } from './handlers/breakpoints.js';
import { evaluateHandlers } from './handlers/evaluate.js';
import { lifecycleHandlers } from './handlers/lifecycle.js';
import { memoryHandlers } from './handlers/memory.js';
import { runHandlers } from './handlers/run.js';
import { sourceHandlers } from './handlers/sources.js';
import { stackHandlers } from './handlers/stack.js';
import { variableHandlers } from './handlers/variables.js';

/**
 * Requests a client sends by itself to fill its views. VS Code shows an error with showUser as a
 * notification, which for these is noise: the view shows the failure itself (a watch, the Debug
 * Console), or the request raced a resume (a frame that expired as the guest went on).
 */
const VIEW_REQUESTS = new Set([
  'threads',
  'stackTrace',
  'scopes',
  'variables',
  'evaluate',
  'source',
  'loadedSources',
  'modules',
  'disassemble',
  'readMemory',
  'completions',
  'exceptionInfo',
  'dataBreakpointInfo',
]);

const HANDLERS = new Map<string, Handler>(
  Object.entries({
    ...lifecycleHandlers,
    ...breakpointHandlers,
    ...stackHandlers,
    ...variableHandlers,
    ...evaluateHandlers,
    ...memoryHandlers,
    ...runHandlers,
    ...sourceHandlers,
  }),
);

export class DusterDebugSession extends DebugSession {
  private readonly ctx: AdapterContext;

  /** `language`: the debug console's command language (without one the console evaluates expressions only). */
  constructor(language?: ConsoleLanguage) {
    super();
    this.ctx = new AdapterContext(
      (e) => this.sendEvent(e),
      {
        lineToClient: (l) => this.convertDebuggerLineToClient(l),
        lineFromClient: (l) => this.convertClientLineToDebugger(l),
        columnToClient: (c) => this.convertDebuggerColumnToClient(c),
        columnFromClient: (c) => this.convertClientColumnToDebugger(c),
      },
      language,
    );
    // Engine lines and columns are 1-based, as compilers record them.
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
  }

  protected override initializeRequest(response: DebugProtocol.InitializeResponse): void {
    response.body = CAPABILITIES;
    this.sendResponse(response);
  }

  protected override dispatchRequest(request: DebugProtocol.Request): void {
    // The base class handles initialize (client line/column/path conventions). It refuses a
    // client that leaves pathFormat out, whose paths the protocol says are then native paths.
    if (request.command === 'initialize') return super.dispatchRequest(withDefaultPathFormat(request));
    const response: DebugProtocol.Response = new Response(request);
    const handler = HANDLERS.get(request.command);
    if (!handler) return this.fail(response, `duster does not implement the '${request.command}' request`);
    const after: Array<() => void> = [];
    Promise.resolve()
      .then(() => handler(this.ctx, Args.of(request.arguments), { after: (fn) => after.push(fn) }))
      .then(
        (body) => {
          if (body) response.body = body;
          this.sendResponse(response);
          for (const fn of after) fn();
          if (request.command === 'disconnect') this.shutdown();
        },
        (e: unknown) => this.fail(response, errorLine(e)),
      );
  }

  private fail(response: DebugProtocol.Response, message: string): void {
    // One line whatever the client sent: an argument echoed in the message may hold control characters.
    // eslint-disable-next-line no-control-regex -- control characters are what this escapes
    const line = message.replace(/[\x00-\x1f\x7f]/g, (c) => (c === '\n' ? '\\n' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
    this.sendErrorResponse(response, { id: 1, format: line, showUser: !VIEW_REQUESTS.has(response.command) });
  }

  /** The client went away (or disconnected): never leave a QEMU we started behind. */
  override shutdown(): void {
    const d = this.ctx.debuggee;
    this.ctx.debuggee = undefined;
    const done = d ? d.close(d.request === 'launch').catch(() => undefined) : Promise.resolve();
    void done.then(() => super.shutdown());
  }
}

function withDefaultPathFormat(request: DebugProtocol.Request): DebugProtocol.Request {
  const args = request.arguments as DebugProtocol.InitializeRequestArguments | undefined;
  return args?.pathFormat === undefined ? { ...request, arguments: { ...args, pathFormat: 'path' } } : request;
}
