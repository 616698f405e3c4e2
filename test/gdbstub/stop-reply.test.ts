import { describe, expect, it } from 'vitest';
import { formatThreadId, parseStopReply, parseStubAddress, parseSupported, parseThreadId, RspMalformedError } from '../../gdbstub/index.js';

describe('stop replies', () => {
  it('parses T with thread and watch address', () => {
    const ev = parseStopReply('T05thread:p01.02;watch:0000000000106028;');
    expect(ev).toMatchObject({ kind: 'signal', signal: 5, thread: { pid: 1, tid: 2 }, watch: { kind: 'watch', address: 0x106028n } });
    expect(parseStopReply('T05rwatch:10;')).toMatchObject({ watch: { kind: 'rwatch', address: 0x10n } });
    expect(parseStopReply('T05awatch:ff;thread:1;')).toMatchObject({ watch: { kind: 'awatch', address: 0xffn }, thread: { tid: 1 } });
  });

  it('parses reasons, expedited registers and unknown keys', () => {
    const ev = parseStopReply('T05swbreak:;10:0010100000000000;core:1;');
    if (ev.kind !== 'signal') throw new Error('kind');
    expect(ev.breakpoint).toBe('sw');
    expect(ev.registers.get(16)?.toString('hex')).toBe('0010100000000000');
    expect(ev.extra.get('core')).toBe('1');
    expect(parseStopReply('T05hwbreak:;')).toMatchObject({ breakpoint: 'hw' });
  });

  it('parses S, W and X', () => {
    expect(parseStopReply('S02')).toMatchObject({ kind: 'signal', signal: 2 });
    expect(parseStopReply('W00')).toEqual({ kind: 'exited', code: 0 });
    expect(parseStopReply('W01;process:1a')).toEqual({ kind: 'exited', code: 1, pid: 26 });
    expect(parseStopReply('X09')).toEqual({ kind: 'terminated', signal: 9 });
    expect(() => parseStopReply('OK')).toThrow(RspMalformedError);
  });
});

describe('thread ids, features, addresses', () => {
  it('round-trips multiprocess and plain thread ids', () => {
    expect(parseThreadId('p01.0a')).toEqual({ pid: 1, tid: 10 });
    expect(parseThreadId('p1.-1')).toEqual({ pid: 1, tid: -1 });
    expect(parseThreadId('0')).toEqual({ tid: 0 });
    expect(formatThreadId({ pid: 1, tid: 2 }, true)).toBe('p1.2');
    expect(formatThreadId({ tid: 2 }, true)).toBe('p1.2');
    expect(formatThreadId({ tid: -1 }, false)).toBe('-1');
    expect(() => parseThreadId('zz')).toThrow(/bad thread id 'zz'/);
  });

  it('parses QEMU 7.2 qSupported', () => {
    const f = parseSupported('PacketSize=1000;qXfer:features:read+;vContSupported+;multiprocess+');
    expect(f).toMatchObject({
      packetSize: 4096,
      xferFeatures: true,
      vContSupported: true,
      multiprocess: true,
      noAckMode: false,
      binaryUpload: false,
      swbreak: false,
    });
    expect(parseSupported('QStartNoAckMode+;swbreak+;hwbreak+;binary-upload+')).toMatchObject({
      noAckMode: true,
      swbreak: true,
      hwbreak: true,
      binaryUpload: true,
    });
  });

  it('parses stub addresses', () => {
    expect(parseStubAddress('tcp:127.0.0.1:1234')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 1234 });
    expect(parseStubAddress('tcp:[::1]:99')).toEqual({ kind: 'tcp', host: '::1', port: 99 });
    expect(parseStubAddress('unix:/tmp/g.sock')).toEqual({ kind: 'unix', path: '/tmp/g.sock' });
    expect(() => parseStubAddress('localhost:1')).toThrow(/neither tcp:HOST:PORT nor unix:PATH/);
    expect(() => parseStubAddress('tcp:h:70000')).toThrow(/port out of range/);
  });
});
