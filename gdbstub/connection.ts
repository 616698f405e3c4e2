import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { encodePacketText, MAX_PACKET_BYTES, PacketDecoder } from './codec.js';
import { RspClosedError, RspMalformedError, RspTimeoutError } from './errors.js';
import { connectSocket, makeLogger, type PacketLog, type PacketLogEntry, type PacketStats, type StubAddress } from './transport.js';

export interface ConnectionOptions {
  /** Default per-request deadline. QEMU never answers some requests (bad thread id, stepping a halted vCPU). */
  timeoutMs?: number;
  log?: PacketLog;
  maxPacketBytes?: number;
  connectTimeoutMs?: number;
}

export interface RequestOptions {
  timeoutMs?: number;
}

interface Pending {
  packet: string;
  /** The stub acknowledged receiving it (ack mode only). */
  acked?: boolean;
  resolve: (reply: string) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

interface Queued {
  packet: string;
  opts: RequestOptions;
  resolve: (reply: string) => void;
  reject: (e: Error) => void;
  /** Set while held back during a resync, so a request never waits longer than its deadline. */
  heldTimer?: NodeJS.Timeout;
}

/** A packet whose reply cannot be confused with any other, used to find our place after a timeout. */
export interface SyncProbe {
  packet: string;
  matches: (reply: string) => boolean;
}

const STOP_SHAPE = /^(?:[ST][0-9a-fA-F]{2}|[WX][0-9a-fA-F]{2})/;
const CONSOLE = /^O(?:[0-9a-fA-F]{2})+$/;

export type ConnectionEvents = {
  /** An asynchronous stop reply (after a resume), raw payload. */
  stop: [string];
  /** `O` console output, decoded to text. */
  console: [string];
  close: [RspClosedError];
};

/**
 * One RSP session over a byte stream: acks, request/response matching (in order, pipelined), timeouts
 * that leave the session usable, asynchronous stop and console packets as events.
 */
export class RspConnection extends EventEmitter<ConnectionEvents> {
  readonly stats: PacketStats = { sent: 0, received: 0, roundTrips: 0 };
  private readonly decoder: PacketDecoder;
  private readonly logger: ((e: PacketLogEntry) => void) | undefined;
  private readonly timeoutMs: number;
  private readonly inFlight: Pending[] = [];
  /** Requests held back while we resynchronise after a timeout. */
  private readonly held: Queued[] = [];
  private lastSent: string | undefined;
  private noAck = false;
  private closedError: RspClosedError | undefined;
  private resyncing = false;
  /** What this turn of the event loop wrote so far (latin1 text), sent as one socket write at its end. */
  private outgoing = '';
  private holdingAcks = false;
  private heldAcks = 0;
  private resyncTimer: NodeJS.Timeout | undefined;
  /** Replies still owed by requests that timed out, when no sync probe is available. */
  private orphans = 0;
  /**
   * Send a request only once the last one is answered (gdbsx: a packet arriving while it waits
   * for the ack of its reply is lost, so pipelined replies come back short and out of step).
   */
  oneAtATime = false;
  /** Requests waiting for their turn in one-at-a-time mode. */
  private readonly waiting: Queued[] = [];
  syncProbe: SyncProbe | undefined = { packet: 'qC', matches: (r) => r.startsWith('QC') };

  constructor(
    private readonly socket: net.Socket,
    opts: ConnectionOptions = {},
  ) {
    super();
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.decoder = new PacketDecoder(opts.maxPacketBytes ?? MAX_PACKET_BYTES);
    this.logger = makeLogger(opts.log);
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('close', () => this.shutdown('the stub closed the connection'));
    socket.on('error', (e) => this.shutdown(e.message));
  }

  static async connect(address: string | StubAddress, opts: ConnectionOptions = {}): Promise<RspConnection> {
    return new RspConnection(await connectSocket(address, opts.connectTimeoutMs), opts);
  }

  get closed(): boolean {
    return this.closedError !== undefined;
  }

  get pendingCount(): number {
    return this.inFlight.length + this.held.length + this.waiting.length;
  }

  /** Stop sending and expecting acks (after the stub accepted QStartNoAckMode). */
  setNoAckMode(): void {
    this.noAck = true;
  }

  request(packet: string, opts: RequestOptions = {}): Promise<string> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      const q: Queued = { packet, opts, resolve, reject };
      if (!this.resyncing) return this.dispatch(q);
      const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
      q.heldTimer = setTimeout(() => {
        this.held.splice(this.held.indexOf(q), 1);
        reject(new RspTimeoutError(packet, timeoutMs, 'stub still out of step (resync probe unanswered), no reply'));
      }, timeoutMs);
      this.held.push(q);
    });
  }

  /** Whether requests sent now reach the stub in order before a packet sent after them (none held back). */
  get inOrder(): boolean {
    return !this.resyncing && !this.oneAtATime;
  }

  /**
   * While on, the acks of replies wait (see StubQuirks.acksMayWait); turned off, they go out,
   * with whatever is written next.
   */
  holdAcks(on: boolean): void {
    this.holdingAcks = on;
    if (on) return;
    for (; this.heldAcks > 0; this.heldAcks--) this.write('+', false);
  }

  /** Sends a packet that has no immediate reply (resume commands: the answer is a later stop). */
  send(packet: string): void {
    if (this.closedError) throw this.closedError;
    this.write(encodePacketText(packet), true);
  }

  /** The 0x03 byte: asks a running target to stop. */
  interrupt(): void {
    if (this.closedError) throw this.closedError;
    this.write('\x03', false);
  }

  close(): void {
    this.socket.destroy();
    this.shutdown('closed locally');
  }

  private dispatch(q: Queued): void {
    if (this.oneAtATime && this.inFlight.length > 0) {
      this.waiting.push(q);
      return;
    }
    clearTimeout(q.heldTimer);
    const timeoutMs = q.opts.timeoutMs ?? this.timeoutMs;
    const entry: Pending = {
      packet: q.packet,
      resolve: q.resolve,
      reject: q.reject,
      timer: setTimeout(() => this.onTimeout(entry, timeoutMs), timeoutMs),
    };
    if (this.inFlight.length === 0) this.stats.roundTrips++;
    this.inFlight.push(entry);
    this.write(encodePacketText(q.packet), true);
  }

  private onTimeout(entry: Pending, timeoutMs: number): void {
    // Replies come in order, so once one is missing the others' replies cannot be matched safely:
    // fail everything in flight and find our place again before sending more.
    const abandoned = this.inFlight.splice(0);
    for (const p of abandoned) {
      clearTimeout(p.timer);
      p.reject(
        p === entry
          ? new RspTimeoutError(p.packet, timeoutMs)
          : new RspTimeoutError(p.packet, timeoutMs, `abandoned after '${entry.packet.slice(0, 20)}' got no reply; no reply`),
      );
    }
    if (this.syncProbe) this.startResync(timeoutMs);
    else this.orphans += abandoned.length;
    this.next();
  }

  /** One-at-a-time mode: the next waiting request goes out once nothing is in flight. */
  private next(): void {
    const q = this.inFlight.length === 0 ? this.waiting.shift() : undefined;
    if (q) this.dispatch(q);
  }

  private startResync(timeoutMs: number): void {
    this.resyncing = true;
    const probe = this.syncProbe!;
    this.write(encodePacketText(probe.packet), true);
    clearTimeout(this.resyncTimer);
    // The probe itself may be ignored (e.g. the target is running): ask again until it is answered.
    this.resyncTimer = setTimeout(() => this.startResync(timeoutMs), timeoutMs);
  }

  private finishResync(): void {
    clearTimeout(this.resyncTimer);
    this.resyncing = false;
    for (const q of this.held.splice(0)) this.dispatch(q);
  }

  private write(bytes: string, remember: boolean): void {
    if (remember) this.lastSent = bytes;
    if (bytes !== '+' && bytes !== '-') {
      this.stats.sent++;
      this.logger?.({ time: performance.timeOrigin + performance.now(), direction: 'send', data: bytes });
    }
    if (this.outgoing === '') setImmediate(this.flush);
    this.outgoing += bytes;
  }

  /**
   * Everything written in one turn of the event loop goes out in one socket write of one buffer:
   * the ack of a reply with the request its handler sends next, a pipelined burst of requests
   * together. A write costs more than the bytes it carries (and a corked socket's writev of many
   * small chunks more than one of their sum).
   */
  private readonly flush = (): void => {
    const out = this.outgoing;
    this.outgoing = '';
    if (out !== '' && !this.socket.destroyed) this.socket.write(Buffer.from(out, 'latin1'));
  };

  private onData(chunk: Buffer): void {
    this.logger?.({ time: performance.timeOrigin + performance.now(), direction: 'recv', data: chunk.toString('latin1') });
    let items;
    try {
      items = this.decoder.feed(chunk);
    } catch (e) {
      // Oversized packet: its request cannot be answered; the decoder skips to the next frame.
      const head = this.inFlight.shift();
      if (head) {
        clearTimeout(head.timer);
        head.reject(e as RspMalformedError);
      }
      return;
    }
    for (const item of items) {
      switch (item.kind) {
        case 'ack': {
          const first = this.inFlight.find((p) => !p.acked);
          if (first) first.acked = true;
          break;
        }
        case 'nack':
          if (this.lastSent) this.write(this.lastSent, false);
          break;
        case 'bad-checksum':
          if (!this.noAck) this.write('-', false);
          break;
        case 'notification':
          break;
        case 'packet':
          this.stats.received++;
          if (!this.noAck && this.holdingAcks) this.heldAcks++;
          else if (!this.noAck) this.write('+', false);
          this.onPacket(item.payload.toString('latin1'));
          break;
      }
    }
  }

  private onPacket(reply: string): void {
    if (CONSOLE.test(reply)) {
      this.emit('console', Buffer.from(reply.slice(1), 'hex').toString('utf8'));
      return;
    }
    if (this.resyncing) {
      if (this.syncProbe!.matches(reply)) this.finishResync();
      else if (STOP_SHAPE.test(reply)) this.emit('stop', reply);
      return;
    }
    if (this.orphans > 0) {
      this.orphans--;
      return;
    }
    const head = this.inFlight[0];
    // A repeated resync probe answered late: only the probe packet itself can own this reply.
    if (this.syncProbe?.matches(reply) && head?.packet !== this.syncProbe.packet) return;
    // All-stop: with nothing in flight, only a stop after a resume can arrive. In ack mode a reply
    // comes after the ack of its request, so a stop before that ack is unsolicited too (QEMU sends
    // one when a debugger connects to a running guest).
    if (!head || (!this.noAck && !head.acked && STOP_SHAPE.test(reply))) {
      if (STOP_SHAPE.test(reply)) this.emit('stop', reply);
      return;
    }
    this.inFlight.shift();
    clearTimeout(head.timer);
    head.resolve(reply);
    this.next();
  }

  private shutdown(reason: string): void {
    if (this.closedError) return;
    const err = new RspClosedError(reason);
    this.closedError = err;
    clearTimeout(this.resyncTimer);
    for (const p of this.inFlight.splice(0)) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    for (const q of [...this.held.splice(0), ...this.waiting.splice(0)]) {
      clearTimeout(q.heldTimer);
      q.reject(err);
    }
    this.emit('close', err);
  }
}
