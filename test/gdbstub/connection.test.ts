import { afterEach, describe, expect, it } from 'vitest';
import {
  breakpointAddressForPc,
  GdbClient,
  RspClosedError,
  RspConnection,
  RspError,
  RspMalformedError,
  RspStateError,
  RspTimeoutError,
  RspUnsupportedError,
  type PacketLogEntry,
} from '../../gdbstub/index.js';
import { FakeStub, frame, gdbsxScript } from './fake-stub.js';

let stub: FakeStub | undefined;
let conn: RspConnection | undefined;
afterEach(async () => {
  conn?.close();
  await stub?.stop();
  stub = conn = undefined;
});

describe('RspConnection against a scripted stub', () => {
  it('matches pipelined replies in order, logs packets and counts round trips', async () => {
    stub = await FakeStub.start((p) => `r${p}`);
    const log: PacketLogEntry[] = [];
    conn = await RspConnection.connect(stub.address, { log: (e) => log.push(e) });
    const replies = await Promise.all(['a', 'b', 'c'].map((p) => conn!.request(p)));
    expect(replies).toEqual(['ra', 'rb', 'rc']);
    expect(conn.stats).toMatchObject({ sent: 3, received: 3, roundTrips: 1 });
    expect(log.filter((e) => e.direction === 'send').map((e) => e.data)).toEqual(['$a#61', '$b#62', '$c#63']);
    expect(log.every((e) => e.time > 1e12)).toBe(true);
  });

  it('nacks a corrupted reply and resends our packet when nacked', async () => {
    let first = true;
    stub = await FakeStub.start((p, s) => {
      if (first) {
        first = false;
        s.write('$OK#00'); // bad checksum: the client must answer '-'
        s.write('-'); // and on our '-' the client resends its last packet
        return undefined;
      }
      return `got ${p}`;
    });
    conn = await RspConnection.connect(stub.address);
    await expect(conn.request('ping')).resolves.toBe('got ping');
    expect(stub.rawIn.join('')).toContain('-');
    expect(stub.received).toEqual(['ping', 'ping']);
  });

  it('skips garbage and notifications between packets', async () => {
    stub = await FakeStub.start((_p, s) => {
      s.write(`noise\x00%Stop:T05#aa${frame('OK')}`);
    });
    conn = await RspConnection.connect(stub.address);
    await expect(conn.request('x')).resolves.toBe('OK');
  });

  it('times out, discards the late reply, and stays usable', async () => {
    const late: (() => void)[] = [];
    stub = await FakeStub.start((p, s) => {
      if (p === 'slow') late.push(() => s.write(frame('late')));
      else if (p === 'qC') {
        for (const f of late.splice(0)) f();
        return 'QCp01.01';
      } else return `r${p}`;
    });
    conn = await RspConnection.connect(stub.address, { timeoutMs: 100 });
    await expect(conn.request('slow')).rejects.toBeInstanceOf(RspTimeoutError);
    await expect(conn.request('next')).resolves.toBe('rnext');
  });

  it('times out requests a stub never answers and recovers via the probe', async () => {
    stub = await FakeStub.start((p) => (p === 'Hgp1.63' ? undefined : p === 'qC' ? 'QCp01.01' : `r${p}`));
    conn = await RspConnection.connect(stub.address, { timeoutMs: 100 });
    await expect(conn.request('Hgp1.63')).rejects.toBeInstanceOf(RspTimeoutError);
    // Requests made while resynchronising wait for the probe's answer, then go out.
    await expect(Promise.all([conn.request('a'), conn.request('b')])).resolves.toEqual(['ra', 'rb']);
    expect(stub.received).toEqual(['Hgp1.63', 'qC', 'a', 'b']);
  });

  it('discards late answers to a probe that had to be repeated', async () => {
    let probes = 0;
    stub = await FakeStub.start((p, s) => {
      if (p === 'qC' && ++probes === 2) {
        s.write(frame('QC1') + frame('QC1')); // answers both probes at once
        return undefined;
      }
      return p === 'qC' || p === 'silent' ? undefined : `r${p}`;
    });
    conn = await RspConnection.connect(stub.address, { timeoutMs: 80 });
    await expect(conn.request('silent')).rejects.toBeInstanceOf(RspTimeoutError);
    await expect(conn.request('next', { timeoutMs: 1000 })).resolves.toBe('rnext');
  });

  it('rejects every pending request at once when the stub hangs up', async () => {
    stub = await FakeStub.start((_p, s) => {
      s.socket?.destroy();
    });
    conn = await RspConnection.connect(stub.address);
    const results = await Promise.allSettled([conn.request('a'), conn.request('b')]);
    for (const r of results) expect(r.status === 'rejected' && r.reason).toBeInstanceOf(RspClosedError);
    await expect(conn.request('c')).rejects.toBeInstanceOf(RspClosedError);
  });

  it('refuses an oversized packet and keeps going', async () => {
    stub = await FakeStub.start((p) => (p === 'big' ? 'x'.repeat(64) : 'OK'));
    conn = await RspConnection.connect(stub.address, { maxPacketBytes: 32 });
    await expect(conn.request('big')).rejects.toBeInstanceOf(RspMalformedError);
    await expect(conn.request('small')).resolves.toBe('OK');
  });

  it('takes a stop sent before its request was acked as unsolicited (QEMU on connect), not as the reply', async () => {
    stub = await FakeStub.start((p) => `r${p}`);
    stub.server.on('connection', (sock) => sock.write(frame('T02thread:01;')));
    conn = await RspConnection.connect(stub.address);
    const stops: string[] = [];
    conn.on('stop', (r) => stops.push(r));
    await expect(conn.request('qSupported')).resolves.toBe('rqSupported');
    expect(stops).toEqual(['T02thread:01;']);
  });

  it('delivers O packets as console output, never as the reply', async () => {
    stub = await FakeStub.start((_p, s) => {
      s.write(frame(`O${Buffer.from('hi\n').toString('hex')}`));
      return 'OK';
    });
    conn = await RspConnection.connect(stub.address);
    const out: string[] = [];
    conn.on('console', (t) => out.push(t));
    await expect(conn.request('qRcmd,00')).resolves.toBe('OK');
    expect(out).toEqual(['hi\n']);
  });
});

describe('GdbClient with the gdbsx dialect', () => {
  it('uses the fixed layout, 0-based threads, int3 breakpoints by memory write, no interrupt', async () => {
    const base = 0x100000n;
    const memory = Buffer.alloc(8192, 0x90);
    stub = await FakeStub.start(gdbsxScript(memory, base));
    const client = await GdbClient.connect(stub.address, { dialect: 'gdbsx' });
    conn = client.conn;
    expect(client.quirks).toMatchObject({ dialect: 'gdbsx', swBreakpointPcOffset: 1n, canInterrupt: false, maxMemoryRead: 2047 });
    expect(client.layout.gSize).toBe(164);
    expect(await client.threads()).toEqual([{ tid: 0 }, { tid: 1 }]);
    expect((await client.readRegisters()).get('rip')).toBe(base + 1n);
    expect(breakpointAddressForPc(client.quirks, base + 1n)).toBe(base);
    // no p: falls back to g
    expect(await client.readRegister('rip')).toBe(base + 1n);
    await client.writeRegister('rax', 0x1234n);
    expect((await client.readRegisters()).get('rax')).toBe(0x1234n);
    // 5000 bytes: three chunks of <= 2047
    memory.fill(0xab, 0, 5000);
    expect((await client.readMemory(base, 5000)).equals(Buffer.alloc(5000, 0xab))).toBe(true);
    expect(stub.received.filter((p) => p.startsWith('m')).map((p) => p.split(',')[1])).toEqual(['7ff', '7ff', '38a']);
    await client.insertBreakpoint('sw', base + 16n);
    expect(memory[16]).toBe(0xcc);
    await client.removeBreakpoint('sw', base + 16n);
    expect(memory[16]).toBe(0xab);
    expect(() => client.interrupt()).toThrow(RspStateError);
    await client.cont({ tid: 0 });
    // The stop arrives before we ask for it: it must not be lost.
    await new Promise((r) => setTimeout(r, 50));
    const stop = await client.waitForStop(1000);
    expect(stop).toMatchObject({ kind: 'signal', signal: 5, thread: { tid: 0 } });
    expect(stub.received).toContain('Hc0');
    await expect(client.request('m100000,800')).rejects.toBeInstanceOf(RspError);
  });

  it('sends one request at a time: real gdbsx loses a packet that arrives while it waits for an ack', async () => {
    const base = 0x100000n;
    const memory = Buffer.alloc(8192, 0x5a);
    stub = await FakeStub.start(gdbsxScript(memory, base));
    const log: PacketLogEntry[] = [];
    const client = await GdbClient.connect(stub.address, { dialect: 'gdbsx', log: (e) => log.push(e) });
    conn = client.conn;
    const [regs, bytes] = await Promise.all([client.readRegisters({ tid: 1 }), client.readMemory(base, 5000)]);
    expect(regs.get('rip')).toBe(base + 1n);
    expect(bytes.equals(Buffer.alloc(5000, 0x5a))).toBe(true);
    // Hg1, g and three m requests: each sent only after the reply to the one before.
    const order = log.filter((e) => e.data !== '+').map((e) => e.direction);
    expect(order).toEqual(['send', 'recv', 'send', 'recv', 'send', 'recv', 'send', 'recv', 'send', 'recv']);
  });

  it('refuses requests while the target runs', async () => {
    stub = await FakeStub.start((p) => (p.startsWith('qSupported') ? 'PacketSize=1000;vContSupported+' : p === 'qC' ? 'QC1' : ''));
    const client = await GdbClient.connect(stub.address);
    conn = client.conn;
    await client.cont();
    await expect(client.readRegisters()).rejects.toBeInstanceOf(RspStateError);
  });
});

describe('packet log and held requests', () => {
  it('writes a packet log file with direction and timestamps', async () => {
    const { mkdtempSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const file = `${mkdtempSync(`${tmpdir()}/duster-log-`)}/rsp.log`;
    stub = await FakeStub.start(() => 'OK');
    conn = await RspConnection.connect(stub.address, { log: { file } });
    await conn.request('qC');
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines[0]).toMatch(/^\d+\.\d{3} -> "\$qC#b4"$/);
    expect(lines.some((l) => / <- ".*\$OK#9a"$/.test(l))).toBe(true);
  });

  it('fails requests held behind an unanswered resync probe at their own deadline', async () => {
    stub = await FakeStub.start(() => undefined);
    conn = await RspConnection.connect(stub.address, { timeoutMs: 80 });
    await expect(conn.request('a')).rejects.toBeInstanceOf(RspTimeoutError);
    await expect(conn.request('b')).rejects.toThrow(/resync probe unanswered/);
    expect(conn.pendingCount).toBe(0);
  });
});

describe('GdbClient with a generic stub', () => {
  it('enters no-ack mode, writes binary X, formats vCont per thread and detaches with D;pid', async () => {
    const memory = Buffer.alloc(64);
    stub = await FakeStub.start((p) => {
      if (p.startsWith('qSupported')) return 'PacketSize=100;QStartNoAckMode+;vContSupported+;multiprocess+;binary-upload+';
      if (p === 'QStartNoAckMode' || p.startsWith('D;') || p.startsWith('Z0')) return 'OK';
      if (p === 'qC') return 'QCp1.1';
      const x = /^X([0-9a-f]+),([0-9a-f]+):/s.exec(p);
      if (x) {
        Buffer.from(p.slice(x[0].length), 'latin1').copy(memory, parseInt(x[1]!, 16));
        return 'OK';
      }
      if (p.startsWith('vCont;')) return 'T05thread:p1.2;';
      return '';
    });
    const client = await GdbClient.connect(stub.address);
    conn = client.conn;
    expect(client.quirks.dialect).toBe('generic');
    const acksBefore = stub.rawIn.join('').split('+').length;
    const data = Buffer.from([0x24, 0x23, 0x7d, 0x2a, 0, 1, 2, 0xff, ...Array(50).fill(7)]);
    await client.writeMemory(0n, data);
    expect(memory.subarray(0, data.length)).toEqual(data);
    // PacketSize 0x100 limits each X to (256 - 40) / 2 = 108 bytes: one packet here.
    expect(stub.received.filter((p) => p.startsWith('X'))).toHaveLength(1);
    expect(stub.rawIn.join('').split('+').length).toBe(acksBefore);
    await expect(client.insertBreakpoint('hw', 0x10n)).rejects.toBeInstanceOf(RspUnsupportedError);
    await client.insertBreakpoint('sw', 0x10n);
    await client.resume([{ action: 's', thread: { pid: 1, tid: 2 } }, { action: 'c' }]);
    expect(await client.waitForStop(1000)).toMatchObject({ thread: { pid: 1, tid: 2 } });
    expect(stub.received).toContain('vCont;s:p1.2;c');
    await client.detach();
    expect(stub.received.at(-1)).toBe('D;1');
  });
});
