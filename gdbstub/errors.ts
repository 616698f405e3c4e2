/** Base of every error the RSP client raises, so callers can catch the family at once. */
export class RspProtocolError extends Error {
  override name = 'RspProtocolError';
}

/** The stub answered `Exx`. */
export class RspError extends RspProtocolError {
  override name = 'RspError';
  constructor(
    readonly packet: string,
    readonly code: number,
  ) {
    super(`stub rejected '${packet.slice(0, 40)}' with E${code.toString(16).padStart(2, '0')}`);
  }
}

/** No reply within the request's deadline; the connection stays usable. */
export class RspTimeoutError extends RspProtocolError {
  override name = 'RspTimeoutError';
  constructor(
    readonly packet: string,
    readonly timeoutMs: number,
    why = 'no reply',
  ) {
    super(`${why} to '${packet.slice(0, 40)}' within ${timeoutMs} ms`);
  }
}

/** The stub closed the connection (or it was closed locally); every pending request fails with this. */
export class RspClosedError extends RspProtocolError {
  override name = 'RspClosedError';
  constructor(reason: string) {
    super(`gdbstub connection closed: ${reason}`);
  }
}

/** The stub sent something we cannot accept (oversized packet, malformed reply). */
export class RspMalformedError extends RspProtocolError {
  override name = 'RspMalformedError';
}

/** The stub does not implement a command we need (empty reply). */
export class RspUnsupportedError extends RspProtocolError {
  override name = 'RspUnsupportedError';
  constructor(readonly packet: string) {
    super(`stub does not support '${packet.slice(0, 40)}'`);
  }
}

/** A request that the stub cannot serve in the current run state (e.g. memory read while running). */
export class RspStateError extends RspProtocolError {
  override name = 'RspStateError';
}
