/** What the stub said it supports in its qSupported reply (all false for stubs without qSupported). */
export interface StubFeatures {
  /** Largest packet the stub accepts, in bytes, if it said. */
  packetSize: number | undefined;
  xferFeatures: boolean;
  vContSupported: boolean;
  multiprocess: boolean;
  noAckMode: boolean;
  swbreak: boolean;
  hwbreak: boolean;
  /** `X` binary memory writes (and `x` reads). */
  binaryUpload: boolean;
  /** Every feature as sent: `+`/`-` become 'true'/'false', `name=value` keeps the value. */
  raw: Map<string, string>;
}

export const CLIENT_FEATURES = 'qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn-;vContSupported+;xmlRegisters=i386';

export function parseSupported(reply: string): StubFeatures {
  const raw = new Map<string, string>();
  for (const item of reply.split(';')) {
    if (!item) continue;
    const eq = item.indexOf('=');
    if (eq >= 0) raw.set(item.slice(0, eq), item.slice(eq + 1));
    else if (item.endsWith('+')) raw.set(item.slice(0, -1), 'true');
    else if (item.endsWith('-')) raw.set(item.slice(0, -1), 'false');
    else raw.set(item, 'true');
  }
  const on = (k: string) => raw.get(k) === 'true';
  const size = raw.get('PacketSize');
  return {
    packetSize: size ? parseInt(size, 16) : undefined,
    xferFeatures: on('qXfer:features:read'),
    vContSupported: on('vContSupported'),
    multiprocess: on('multiprocess'),
    noAckMode: on('QStartNoAckMode'),
    swbreak: on('swbreak'),
    hwbreak: on('hwbreak'),
    binaryUpload: on('x') || on('binary-upload') || on('X'),
    raw,
  };
}

export function noFeatures(): StubFeatures {
  return {
    packetSize: undefined,
    xferFeatures: false,
    vContSupported: false,
    multiprocess: false,
    noAckMode: false,
    swbreak: false,
    hwbreak: false,
    binaryUpload: false,
    raw: new Map(),
  };
}
