// Where the adapter talks DAP: the stdio of `duster dap` (how VS Code starts it), or a TCP port on
// 127.0.0.1 serving one session per connection (for debugging the adapter and for tests).
import net from 'node:net';
import type { ConsoleLanguage } from './console.js';
import { DusterDebugSession } from './session.js';

/** Serves one session on these streams; resolves when the client closes them. */
export function serveStreams(input: NodeJS.ReadableStream, output: NodeJS.WritableStream, language?: ConsoleLanguage): Promise<void> {
  const session = new DusterDebugSession(language);
  return new Promise((resolve) => {
    session.on('close', () => resolve());
    session.start(input, output);
  });
}

/** Listens on 127.0.0.1 only (port 0 picks a free one); every connection is a new session. */
export function serveTcp(port: number, language?: ConsoleLanguage): Promise<net.Server> {
  const server = net.createServer((socket) => {
    const session = new DusterDebugSession(language);
    session.setRunAsServer(true);
    session.start(socket, socket);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
