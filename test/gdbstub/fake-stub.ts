// A scripted RSP server for what real QEMU cannot produce: corruption, silence, hang-ups, gdbsx.
import net from 'node:net';
import { checksum, PacketDecoder } from '../../gdbstub/index.js';

export type Script = (packet: string, stub: FakeStub) => string | undefined | void;

export function frame(body: string): string {
  return `$${body}#${checksum(Buffer.from(body, 'latin1')).toString(16).padStart(2, '0')}`;
}

export class FakeStub {
  readonly received: string[] = [];
  readonly rawIn: string[] = [];
  socket: net.Socket | undefined;
  private constructor(
    readonly server: net.Server,
    readonly address: string,
  ) {}

  static async start(script: Script): Promise<FakeStub> {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as net.AddressInfo;
    const stub = new FakeStub(server, `tcp:127.0.0.1:${port}`);
    server.on('connection', (sock) => {
      stub.socket = sock;
      // The ack and the reply go out as two writes: without this, Nagle holds the reply ~40 ms.
      sock.setNoDelay(true);
      const d = new PacketDecoder();
      sock.on('data', (chunk) => {
        stub.rawIn.push(chunk.toString('latin1'));
        for (const item of d.feed(chunk)) {
          if (item.kind !== 'packet') continue;
          const p = item.payload.toString('latin1');
          stub.received.push(p);
          sock.write('+');
          const reply = script(p, stub);
          if (reply !== undefined) sock.write(frame(reply));
        }
      });
    });
    return stub;
  }

  write(text: string): void {
    this.socket?.write(text);
  }

  async stop(): Promise<void> {
    this.socket?.destroy();
    await new Promise((r) => this.server.close(r));
  }
}

/** A gdbsx-like stub: no qSupported, no Z, 0-based vCPU ids, PC = bp + 1 after int3. */
export function gdbsxScript(memory: Buffer, base: bigint): Script {
  const regs = Buffer.alloc(17 * 8 + 7 * 4);
  regs.writeBigUInt64LE(base + 1n, 128);
  return (p) => {
    if (p === 'g') return regs.toString('hex');
    if (p.startsWith('G')) {
      Buffer.from(p.slice(1), 'hex').copy(regs);
      return 'OK';
    }
    let m = /^m([0-9a-f]+),([0-9a-f]+)$/.exec(p);
    if (m) {
      const off = Number(BigInt(`0x${m[1]}`) - base);
      const len = parseInt(m[2]!, 16);
      if (len > 2047) return 'E01';
      return memory.subarray(off, off + len).toString('hex');
    }
    m = /^M([0-9a-f]+),([0-9a-f]+):([0-9a-f]*)$/.exec(p);
    if (m) {
      Buffer.from(m[3]!, 'hex').copy(memory, Number(BigInt(`0x${m[1]}`) - base));
      return 'OK';
    }
    if (p === 'qfThreadInfo') return 'm0,1';
    if (p === 'qsThreadInfo') return 'l';
    if (p.startsWith('Hc') || p.startsWith('Hg')) return 'OK';
    if (p === 'c' || p === 's') return 'T05thread:0;';
    if (p === '?') return 'S05';
    return '';
  };
}
