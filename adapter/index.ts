// The Debug Adapter Protocol server over the duster engine.
export { DusterDebugSession } from './session.js';
export { serveStreams, serveTcp } from './server.js';
export { CAPABILITIES } from './capabilities.js';
export type { CommandConsole, ConsoleLanguage } from './console.js';
