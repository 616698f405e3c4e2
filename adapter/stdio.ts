// The adapter as a program of its own, DAP on stdin/stdout: what the VS Code extension bundles
// and runs (the same server `duster dap` runs, without the rest of the CLI). No top-level await:
// VS Code loads it with require() (see vscode-extension/adapter-bundle.mjs).
import { serveStreams } from './server.js';

void serveStreams(process.stdin, process.stdout);
