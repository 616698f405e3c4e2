// A byte-forwarding proxy between a debugger (gdb or duster) and a gdbstub that counts and logs RSP
// packets in both directions: the same yardstick for both debuggers in benchmarks, and a place to
// inject faults (drop, corrupt, delay, garbage) that a real QEMU never produces.
import net from 'node:net';

export interface ProxyPacket {
  dir: 'c2s' | 's2c';
  /** Milliseconds since the proxy started. */
  t: number;
  /** `$...#cs` payload, `+`, `-`, or `\x03`. */
  data: string;
}

export type Fault = (dir: 'c2s' | 's2c', chunk: Buffer) => Buffer | 'drop' | 'close' | Promise<Buffer | 'drop' | 'close'>;

export class RspProxy {
  readonly packets: ProxyPacket[] = [];
  private server!: net.Server;
  private readonly t0 = Date.now();
  private readonly sockets = new Set<net.Socket>();
  fault?: Fault;

  private constructor(private readonly upstream: net.NetConnectOpts) {}

  /** Listens on 127.0.0.1:0 and forwards each connection to `upstream` (`tcp:H:P` or `unix:PATH`). */
  static async start(upstream: string): Promise<RspProxy> {
    const opts: net.NetConnectOpts = upstream.startsWith('unix:')
      ? { path: upstream.slice(5) }
      : { host: upstream.split(':')[1]!, port: Number(upstream.split(':')[2]) };
    const p = new RspProxy(opts);
    p.server = net.createServer((client) => p.accept(client));
    await new Promise<void>((resolve) => p.server.listen(0, '127.0.0.1', resolve));
    return p;
  }

  get address(): string {
    return `tcp:127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Packets (not acks) sent by the debugger. */
  get requestCount(): number {
    return this.packets.filter((p) => p.dir === 'c2s' && (p.data.startsWith('$') || p.data === '\x03')).length;
  }

  reset(): void {
    this.packets.length = 0;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    const server = net.createConnection(this.upstream);
    // RSP is many tiny request/reply packets: Nagle's algorithm would add delayed-ACK stalls.
    client.setNoDelay(true);
    server.setNoDelay(true);
    this.sockets.add(client).add(server);
    const parsers = { c2s: new PacketSplitter(), s2c: new PacketSplitter() };
    const pipe = (from: net.Socket, to: net.Socket, dir: 'c2s' | 's2c') => {
      from.on('data', async (chunk: Buffer) => {
        for (const data of parsers[dir].push(chunk)) this.packets.push({ dir, t: Date.now() - this.t0, data });
        const out = this.fault ? await this.fault(dir, chunk) : chunk;
        if (out === 'close') {
          client.destroy();
          server.destroy();
        } else if (out !== 'drop') {
          to.write(out);
        }
      });
      from.on('close', () => to.destroy());
      from.on('error', () => to.destroy());
    };
    pipe(client, server, 'c2s');
    pipe(server, client, 's2c');
  }
}

/** Splits a byte stream into `$...#xx` packets, acks and interrupts (for counting only). */
class PacketSplitter {
  private buf = '';

  push(chunk: Buffer): string[] {
    this.buf += chunk.toString('latin1');
    const out: string[] = [];
    for (;;) {
      const c = this.buf[0];
      if (c === undefined) break;
      if (c === '+' || c === '-' || c === '\x03') {
        out.push(c);
        this.buf = this.buf.slice(1);
        continue;
      }
      if (c !== '$' && c !== '%') {
        this.buf = this.buf.slice(1);
        continue;
      }
      const hash = this.buf.indexOf('#');
      if (hash < 0 || this.buf.length < hash + 3) break;
      out.push(this.buf.slice(0, hash + 3));
      this.buf = this.buf.slice(hash + 3);
    }
    return out;
  }
}
