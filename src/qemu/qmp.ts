// Minimal QMP client over QEMU's unix socket: capabilities handshake, `execute`, events.
import { EventEmitter } from 'node:events';
import net from 'node:net';

export class QmpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QmpError';
  }
}

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

const MAX_LINE = 16 * 1024 * 1024;

export class QmpClient extends EventEmitter<{ event: [QmpEvent]; close: []; greeting: [] }> {
  private buf = '';
  private readonly pending: Pending[] = [];
  private greeted!: Promise<void>;
  private closed = false;

  private constructor(private readonly sock: net.Socket) {
    super();
  }

  static async connect(path: string, timeoutMs = 5000): Promise<QmpClient> {
    const sock = net.createConnection({ path });
    const c = new QmpClient(sock);
    c.greeted = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new QmpError(`QMP ${path}: no greeting within ${timeoutMs} ms`)), timeoutMs);
      c.once('greeting', () => {
        clearTimeout(timer);
        resolve();
      });
      sock.once('error', (e) => {
        clearTimeout(timer);
        reject(new QmpError(`QMP ${path}: ${e.message}`));
      });
    });
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => c.onData(d));
    sock.on('close', () => c.onClose());
    sock.on('error', () => undefined);
    await c.greeted;
    await c.execute('qmp_capabilities');
    return c;
  }

  execute(command: string, args?: Record<string, unknown>, timeoutMs = 30_000): Promise<unknown> {
    if (this.closed) return Promise.reject(new QmpError(`QMP ${command}: connection closed`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.pending.findIndex((p) => p.timer === timer);
        // A timed-out request stays queued so the late reply is consumed in order, but it no longer waits.
        if (i >= 0) this.pending[i] = { resolve: () => undefined, reject: () => undefined, timer };
        reject(new QmpError(`QMP ${command}: no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.push({ resolve, reject, timer });
      this.sock.write(JSON.stringify(args ? { execute: command, arguments: args } : { execute: command }) + '\n');
    });
  }

  close(): void {
    this.sock.destroy();
  }

  private onData(d: string): void {
    this.buf += d;
    if (this.buf.length > MAX_LINE) {
      this.sock.destroy(new QmpError('QMP: line too long'));
      return;
    }
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl).trim();
      this.buf = this.buf.slice(nl + 1);
      if (line) this.onMessage(line);
    }
  }

  private onMessage(line: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    if ('QMP' in msg) {
      this.emit('greeting');
    } else if ('event' in msg) {
      this.emit('event', msg as unknown as QmpEvent);
    } else if ('return' in msg || 'error' in msg) {
      const p = this.pending.shift();
      if (!p) return;
      clearTimeout(p.timer);
      if ('error' in msg) {
        const e = msg.error as { class?: string; desc?: string };
        p.reject(new QmpError(`QMP: ${e.desc ?? e.class ?? 'error'}`));
      } else {
        p.resolve(msg.return);
      }
    }
  }

  private onClose(): void {
    this.closed = true;
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(new QmpError('QMP: connection closed'));
    }
    this.emit('close');
  }
}
