// The adapter as a program of its own, DAP on stdin/stdout with duster's gdb commands in the debug
// console: what the VS Code extension bundles and runs (the server `duster dap` runs, without the
// rest of the CLI). No top-level await: VS Code may load it with require().
import { serveStreams } from '../../adapter/index.js';
import { gdbConsole } from '../commands/console-language.js';

void serveStreams(process.stdin, process.stdout, gdbConsole);
