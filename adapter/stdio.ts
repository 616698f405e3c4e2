// The adapter as a program of its own, DAP on stdin/stdout: what the VS Code extension bundles
// and runs (the same server `duster dap` runs, without the rest of the CLI).
import { serveStreams } from './server.js';

await serveStreams(process.stdin, process.stdout);
