import { RspMalformedError } from './errors.js';

/** Packets larger than this are refused: no real stub sends them, a corrupted stream might. */
export const MAX_PACKET_BYTES = 16 * 1024 * 1024;

export type DecodedItem =
  | { kind: 'packet'; payload: Buffer; raw: Buffer }
  | { kind: 'bad-checksum'; raw: Buffer }
  | { kind: 'notification'; raw: Buffer }
  | { kind: 'ack' }
  | { kind: 'nack' };

export function checksum(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum = (sum + bytes[i]!) & 0xff;
  return sum;
}

/** Frames a payload as `$...#cs`, escaping the bytes RSP reserves. */
export function encodePacket(payload: string | Uint8Array): Buffer {
  return Buffer.from(
    encodePacketText(
      typeof payload === 'string' ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('latin1'),
    ),
    'latin1',
  );
}

const RESERVED = /[#$}*]/;

/**
 * The same frame as latin1 text (a payload is latin1 text: one char a byte). Most packets escape
 * nothing: they are framed without copying them byte by byte.
 */
export function encodePacketText(payload: string): string {
  const body = RESERVED.test(payload) ? payload.replace(/[#$}*]/g, (c) => `}${String.fromCharCode(c.charCodeAt(0) ^ 0x20)}`) : payload;
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum = (sum + body.charCodeAt(i)) & 0xff;
  return `$${body}#${HEX2[sum]}`;
}

const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * Undoes `}` escaping and `*` run-length encoding in a received packet body. The decoded length is
 * counted first: a few megabytes of run lengths can claim gigabytes, which are refused past `max`.
 */
export function decodeBody(raw: Uint8Array, max = MAX_PACKET_BYTES): Buffer {
  const src = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  // Most replies (hex memory, registers) have neither escapes nor run lengths: they are their own decoding.
  if (src.indexOf(0x7d) < 0 && src.indexOf(0x2a) < 0) return src;
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const b = src[i]!;
    if (b === 0x7d && i + 1 < src.length) i++;
    else if (b === 0x2a && i + 1 < src.length && n > 0) {
      const repeat = src[++i]! - 29;
      if (repeat < 0) throw new RspMalformedError(`bad run-length count byte 0x${src[i]!.toString(16)}`);
      n += repeat - 1;
    }
    n++;
  }
  if (n > max) throw new RspMalformedError(`run-length encoding expands past ${max} bytes`);
  const out = Buffer.allocUnsafe(n);
  let o = 0;
  for (let i = 0; i < src.length; i++) {
    const b = src[i]!;
    if (b === 0x7d && i + 1 < src.length) {
      out[o++] = src[++i]! ^ 0x20;
    } else if (b === 0x2a && i + 1 < src.length && o > 0) {
      const repeat = src[++i]! - 29;
      out.fill(out[o - 1]!, o, o + repeat);
      o += repeat;
    } else {
      out[o++] = b;
    }
  }
  return out;
}

type State = 'idle' | 'body' | 'cs1' | 'cs2';

/**
 * Byte pump: feed it whatever the socket delivers, in chunks split anywhere, and it yields framed
 * items. Bytes outside a frame that are not acks (line noise, stray 0x03) are skipped.
 */
export class PacketDecoder {
  private state: State = 'idle';
  private notification = false;
  private body: Buffer[] = [];
  private bodyLen = 0;
  private csHigh = 0;

  constructor(private readonly maxPacketBytes = MAX_PACKET_BYTES) {}

  feed(chunk: Uint8Array): DecodedItem[] {
    const items: DecodedItem[] = [];
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let i = 0;
    while (i < buf.length) {
      switch (this.state) {
        case 'idle': {
          const b = buf[i++]!;
          if (b === 0x2b) items.push({ kind: 'ack' });
          else if (b === 0x2d) items.push({ kind: 'nack' });
          else if (b === 0x24 || b === 0x25) {
            this.notification = b === 0x25;
            this.state = 'body';
            this.body = [];
            this.bodyLen = 0;
          }
          break;
        }
        case 'body': {
          const hash = buf.indexOf(0x23, i);
          const end = hash < 0 ? buf.length : hash;
          this.bodyLen += end - i;
          if (this.bodyLen > this.maxPacketBytes) {
            this.state = 'idle';
            this.body = [];
            throw new RspMalformedError(`packet larger than ${this.maxPacketBytes} bytes refused`);
          }
          // A body whose frame ends in this chunk is used in place; one that goes on in the next is
          // copied, as the caller may reuse the chunk.
          const part = buf.subarray(i, end);
          this.body.push(hash >= 0 && hash + 2 < buf.length ? part : Buffer.from(part));
          i = end;
          if (hash >= 0) {
            i++;
            this.state = 'cs1';
          }
          break;
        }
        case 'cs1':
          this.csHigh = hexDigit(buf[i++]!);
          this.state = 'cs2';
          break;
        case 'cs2': {
          const low = hexDigit(buf[i++]!);
          const raw = this.body.length === 1 ? this.body[0]! : Buffer.concat(this.body);
          this.body = [];
          this.state = 'idle';
          if (this.notification) items.push({ kind: 'notification', raw });
          else if (this.csHigh < 0 || low < 0 || ((this.csHigh << 4) | low) !== checksum(raw)) items.push({ kind: 'bad-checksum', raw });
          else items.push({ kind: 'packet', payload: decodeBody(raw, this.maxPacketBytes), raw });
          break;
        }
      }
    }
    return items;
  }
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}
