import { RspMalformedError } from './errors.js';
import { parseThreadId, type ThreadId } from './thread-id.js';

export type WatchKind = 'watch' | 'rwatch' | 'awatch';

export type StopEvent =
  | {
      kind: 'signal';
      signal: number;
      thread?: ThreadId;
      watch?: { kind: WatchKind; address: bigint };
      /** `swbreak`/`hwbreak` when the stub reports the reason (QEMU 7.2 does not). */
      breakpoint?: 'sw' | 'hw';
      /** Expedited registers by regnum. */
      registers: Map<number, Buffer>;
      /** Every other key:value pair, verbatim. */
      extra: Map<string, string>;
    }
  | { kind: 'exited'; code: number; pid?: number }
  | { kind: 'terminated'; signal: number; pid?: number };

export const SIGINT = 2;
export const SIGTRAP = 5;

/** Parses `S`, `T`, `W` and `X` stop replies. */
export function parseStopReply(reply: string): StopEvent {
  const code = parseInt(reply.slice(1, 3), 16);
  if (!/^[STWX][0-9a-fA-F]{2}/.test(reply) || Number.isNaN(code)) throw new RspMalformedError(`not a stop reply: '${reply.slice(0, 40)}'`);
  const type = reply[0]!;
  if (type === 'W' || type === 'X') {
    const pidMatch = /;process:([0-9a-fA-F]+)/.exec(reply);
    const pid = pidMatch ? parseInt(pidMatch[1]!, 16) : undefined;
    return type === 'W'
      ? { kind: 'exited', code, ...(pid !== undefined && { pid }) }
      : { kind: 'terminated', signal: code, ...(pid !== undefined && { pid }) };
  }
  const ev: StopEvent & { kind: 'signal' } = { kind: 'signal', signal: code, registers: new Map(), extra: new Map() };
  if (type === 'S') return ev;
  for (const pair of reply.slice(3).split(';')) {
    if (!pair) continue;
    const colon = pair.indexOf(':');
    const key = colon < 0 ? pair : pair.slice(0, colon);
    const value = colon < 0 ? '' : pair.slice(colon + 1);
    if (key === 'thread') ev.thread = parseThreadId(value);
    else if (key === 'watch' || key === 'rwatch' || key === 'awatch') ev.watch = { kind: key, address: BigInt(`0x${value}`) };
    else if (key === 'swbreak') ev.breakpoint = 'sw';
    else if (key === 'hwbreak') ev.breakpoint = 'hw';
    else if (/^[0-9a-fA-F]+$/.test(key) && /^[0-9a-fA-F]*$/.test(value)) ev.registers.set(parseInt(key, 16), Buffer.from(value, 'hex'));
    else ev.extra.set(key, value);
  }
  return ev;
}
