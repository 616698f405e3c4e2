import { describe, expect, it } from 'vitest';
import { checksum, decodeBody, encodePacket, PacketDecoder, RspMalformedError } from '../../gdbstub/index.js';

const frame = (body: string) => `$${body}#${checksum(Buffer.from(body, 'latin1')).toString(16).padStart(2, '0')}`;

describe('codec', () => {
  it('frames with a two-digit checksum', () => {
    expect(encodePacket('g').toString()).toBe('$g#67');
    expect(encodePacket('').toString()).toBe('$#00');
  });

  it('escapes $ # } * and decodes them back', () => {
    const payload = Buffer.from([0x24, 0x23, 0x7d, 0x2a, 0x41]);
    const wire = encodePacket(payload);
    expect(wire.toString('latin1')).toBe(`$}\x04}\x03}]}\x0aA#${wire.toString('latin1').slice(-2)}`);
    const [item] = new PacketDecoder().feed(wire);
    expect(item).toMatchObject({ kind: 'packet' });
    expect((item as { payload: Buffer }).payload).toEqual(payload);
  });

  it('expands run-length encoding', () => {
    // the count byte minus 29 is how many more copies: ' ' = 3, '"' = 5
    expect(decodeBody(Buffer.from('0* ')).toString()).toBe('0000');
    expect(decodeBody(Buffer.from('a*"b')).toString()).toBe('aaaaaab');
  });

  it('rejects a bad run-length count', () => {
    expect(() => decodeBody(Buffer.from('a*\x01'))).toThrow(RspMalformedError);
  });

  it('reports acks, nacks, bad checksums and skips garbage and notifications', () => {
    const d = new PacketDecoder();
    const items = d.feed(Buffer.from(`junk\x03+-${frame('OK')}$OK#00%Stop:T05#00xx${frame('E14')}`, 'latin1'));
    expect(items.map((i) => i.kind)).toEqual(['ack', 'nack', 'packet', 'bad-checksum', 'notification', 'packet']);
  });

  it('reassembles packets split at every byte boundary', () => {
    const wire = Buffer.from(`+${frame('T05thread:p01.02;')}${frame('0* 1')}`, 'latin1');
    for (let cut = 0; cut <= wire.length; cut++) {
      const d = new PacketDecoder();
      const items = [...d.feed(wire.subarray(0, cut)), ...d.feed(wire.subarray(cut))];
      expect(items.map((i) => (i.kind === 'packet' ? i.payload.toString() : i.kind))).toEqual(['ack', 'T05thread:p01.02;', '00001']);
    }
  });

  it('handles a byte-at-a-time stream', () => {
    const d = new PacketDecoder();
    const out: string[] = [];
    for (const b of Buffer.from(frame('abc}]'), 'latin1'))
      for (const i of d.feed(Buffer.from([b]))) if (i.kind === 'packet') out.push(i.payload.toString());
    expect(out).toEqual(['abc}']);
  });

  it('refuses oversized packets with a typed error and recovers', () => {
    const d = new PacketDecoder(8);
    expect(() => d.feed(Buffer.from('$0123456789abcdef#00'))).toThrow(RspMalformedError);
    expect(d.feed(Buffer.from(frame('OK'))).map((i) => i.kind)).toEqual(['packet']);
  });
});
