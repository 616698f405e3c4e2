// `duster dap` over stdio, run from source (DebugClient spawns RUNTIME FILE with no further args).
import { main } from '../../../src/cli/main.js';

process.exitCode = await main(['dap']);
