// `duster dap` as the VS Code extension runs it (DebugClient starts RUNTIME FILE, no arguments).
import { main } from '../../../dist/src/cli/main.js';

process.exitCode = await main(['dap']);
