// What every request handler gets: the debuggee (once launch/attach succeeded), the way to send
// events, and the client's line and column numbering.
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { Args } from './args.js';
import type { ConsoleLanguage } from './console.js';
import type { Debuggee } from './debuggee.js';

export interface LineNumbering {
  lineToClient(line: number): number;
  lineFromClient(line: number): number;
  columnToClient(column: number): number;
  columnFromClient(column: number): number;
}

class NoDebuggeeError extends Error {
  override name = 'NoDebuggeeError';
  constructor() {
    super('no guest is being debugged: send launch or attach first');
  }
}

export class AdapterContext {
  debuggee: Debuggee | undefined;

  constructor(
    readonly send: (e: DebugProtocol.Event) => void,
    readonly numbering: LineNumbering,
    /** The debug console's command language (none: the console evaluates expressions only). */
    readonly language: ConsoleLanguage | undefined,
  ) {}

  require(): Debuggee {
    if (!this.debuggee) throw new NoDebuggeeError();
    return this.debuggee;
  }
}

/** Lets a handler act right after its response went out (a resume, the initialized event). */
export interface Reply {
  after(fn: () => void): void;
}

/** A request handler: validated arguments in, response body out; a throw becomes an error response. */
export type Handler = (ctx: AdapterContext, args: Args, reply: Reply) => Promise<object | void>;
