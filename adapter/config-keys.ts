// The properties a launch or attach configuration may have. One duster does not know is refused
// by name: a misspelt `imgae` or `stopOnentry` would otherwise be ignored, and the session would
// quietly do something else than asked.
import { ArgumentError, type Args } from './args.js';

export const CONFIG_KEYS = {
  launch: ['image', 'coreDump', 'symbols', 'smp', 'memory', 'append', 'qemuArgs', 'stopOnEntry', 'cwd', 'sourceMap'],
  attach: ['target', 'symbols', 'stopOnEntry', 'cwd'],
} as const;

/** What VS Code itself puts in every configuration (its own properties start with `__`). */
const CLIENT_KEYS = new Set([
  'type',
  'request',
  'name',
  'noDebug',
  'preLaunchTask',
  'postDebugTask',
  'internalConsoleOptions',
  'presentation',
  'debugServer',
  'suppressMultipleSessionWarning',
  'suppressDebugToolbar',
  'suppressDebugStatusbar',
  'suppressDebugView',
  'suppressSaveBeforeStart',
  'windows',
  'osx',
  'linux',
]);

export function refuseUnknownKeys(args: Args, request: keyof typeof CONFIG_KEYS): void {
  const known: readonly string[] = CONFIG_KEYS[request];
  const unknown = Object.keys(args.raw).filter((k) => !known.includes(k) && !CLIENT_KEYS.has(k) && !k.startsWith('__'));
  if (unknown.length) {
    const names = unknown.map((k) => `'${k}'`).join(', ');
    throw new ArgumentError(
      `unknown ${unknown.length > 1 ? 'properties' : 'property'} ${names} in the ${request} configuration (duster's ${request} takes ${known.join(', ')})`,
    );
  }
}
