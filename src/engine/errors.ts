// The engine's own error: a request that makes no sense in the session's state or with its symbols
// (the message is the one line a front end shows).
export class EngineError extends Error {
  override name = 'EngineError';
}

/** One line naming what was wrong, without stack traces, whatever was thrown. */
export function errorLine(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
