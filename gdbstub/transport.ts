import { appendFileSync } from 'node:fs';
import net from 'node:net';
import { RspProtocolError } from './errors.js';

export type StubAddress = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

/** Parses `tcp:HOST:PORT` or `unix:PATH` (the forms QEMU's `-gdb` takes). */
export function parseStubAddress(text: string): StubAddress {
  if (text.startsWith('unix:')) {
    const path = text.slice(5).split(',')[0]!;
    if (!path) throw new RspProtocolError(`empty socket path in '${text}'`);
    return { kind: 'unix', path };
  }
  const m = /^tcp:(.*):(\d+)$/.exec(text);
  if (m) {
    const port = Number(m[2]);
    const host = m[1]!.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
    if (port < 1 || port > 65535) throw new RspProtocolError(`port out of range in '${text}'`);
    return { kind: 'tcp', host, port };
  }
  throw new RspProtocolError(`gdbstub address '${text}' is neither tcp:HOST:PORT nor unix:PATH`);
}

export function connectSocket(address: string | StubAddress, timeoutMs = 5000): Promise<net.Socket> {
  const a = typeof address === 'string' ? parseStubAddress(address) : address;
  return new Promise((resolve, reject) => {
    const sock = a.kind === 'tcp' ? net.connect({ host: a.host, port: a.port }) : net.connect({ path: a.path });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new RspProtocolError(`connecting to ${describe(a)} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.setNoDelay(true);
      resolve(sock);
    });
    sock.once('error', (e) => {
      clearTimeout(timer);
      reject(new RspProtocolError(`cannot connect to ${describe(a)}: ${e.message}`));
    });
  });
}

function describe(a: StubAddress): string {
  return a.kind === 'tcp' ? `tcp:${a.host}:${a.port}` : `unix:${a.path}`;
}

export interface PacketLogEntry {
  /** ms since the epoch, fractional. */
  time: number;
  direction: 'send' | 'recv';
  /** Raw bytes on the wire as latin1 text (`$...#cs`, `+`, `-`, `\x03`). */
  data: string;
}

export type PacketLog = ((entry: PacketLogEntry) => void) | { file: string };

export function makeLogger(log: PacketLog | undefined): ((e: PacketLogEntry) => void) | undefined {
  if (!log) return undefined;
  if (typeof log === 'function') return log;
  const file = log.file;
  return (e) => appendFileSync(file, `${e.time.toFixed(3)} ${e.direction === 'send' ? '->' : '<-'} ${JSON.stringify(e.data)}\n`);
}

/** Counters a benchmark reads: packets each way and how many times a caller waited on a reply. */
export interface PacketStats {
  sent: number;
  received: number;
  /** Request/response exchanges begun while no other request was in flight (i.e. round-trip waits). */
  roundTrips: number;
}
