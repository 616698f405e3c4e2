import { RspMalformedError } from './errors.js';

export function toHex(buf: Uint8Array): string {
  return Buffer.from(buf).toString('hex');
}

export function fromHex(text: string): Buffer {
  // Node's hex decoding stops at the first pair that is not hex: a short result is the check,
  // without a second pass over every reply.
  const out = text.length % 2 === 0 ? Buffer.from(text, 'hex') : undefined;
  if (!out || out.length * 2 !== text.length) throw new RspMalformedError(`not hex: '${text.slice(0, 40)}'`);
  return out;
}

export function asciiToHex(text: string): string {
  return Buffer.from(text, 'utf8').toString('hex');
}

export function hexToAscii(text: string): string {
  return fromHex(text).toString('utf8');
}

/** Address/length as the stub wants them: lowercase hex, no prefix. */
export function hexNum(n: bigint | number): string {
  return n.toString(16);
}

/** Little-endian bytes to an unsigned bigint (x86 targets are little-endian). */
export function leToBigint(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

export function bigintToLe(value: bigint, size: number): Buffer {
  const out = Buffer.alloc(size);
  let v = BigInt.asUintN(size * 8, value);
  for (let i = 0; i < size; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}
