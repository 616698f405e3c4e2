// `duster dap [--port N]`: the Debug Adapter Protocol server VS Code starts. On stdio by default;
// with --port it listens on 127.0.0.1 only (never all interfaces) and serves one session per
// connection, printing the port it took (useful with --port 0).
import type { AddressInfo } from 'node:net';
import { serveStreams, serveTcp } from '../../../adapter/index.js';
import { gdbConsole } from '../../commands/console-language.js';
import { intOption, parseArgs } from '../args.js';
import type { Io } from '../io.js';

const HELP = `Usage: duster dap [--port N]
  Serve the Debug Adapter Protocol on stdin/stdout (how VS Code runs it).
  --port N         listen on 127.0.0.1:N instead (0: any free port), one session per connection`;

export async function dapCommand(argv: string[], io: Io): Promise<number> {
  if (argv.includes('--help')) {
    io.stdout.write(HELP + '\n');
    return 0;
  }
  const p = parseArgs(argv, { port: {} });
  if (p.positionals.length) {
    io.stderr.write(HELP + '\n');
    return 2;
  }
  const port = intOption(p, 'port', 0, 65535);
  if (port === undefined) {
    await serveStreams(io.stdin, io.stdout, gdbConsole);
    return 0;
  }
  const server = await serveTcp(port, gdbConsole);
  io.stdout.write(`duster dap: listening on 127.0.0.1:${(server.address() as AddressInfo).port}\n`);
  await new Promise((resolve) => server.on('close', resolve));
  return 0;
}
