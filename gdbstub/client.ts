import { EventEmitter } from 'node:events';
import { StopCache } from './cache.js';
import { RspConnection, type ConnectionOptions } from './connection.js';
import { RspClosedError, RspError, RspMalformedError, RspStateError, RspUnsupportedError } from './errors.js';
import { CLIENT_FEATURES, noFeatures, parseSupported, type StubFeatures } from './features.js';
import { asciiToHex, bigintToLe, fromHex, hexNum, hexToAscii, leToBigint, toHex } from './hex.js';
import { gdbsxLayout, layoutFromTargetXml, type RegisterLayout } from './layout.js';
import { detectDialect, quirksFor, x87PhysicalName, x87StackOrder, type StubDialect, type StubQuirks } from './quirks.js';
import { parseCodeSegmentBases, QEMU_ALL_REGISTERS } from './qemu-monitor.js';
import { parseStopReply, type StopEvent } from './stop-reply.js';
import { formatThreadId, parseThreadId, type ThreadId } from './thread-id.js';
import type { PacketStats, StubAddress } from './transport.js';

export interface ClientOptions extends ConnectionOptions {
  /** Skip detection (e.g. force 'gdbsx'). */
  dialect?: StubDialect;
  /** Memory requests kept in flight at once when reading or writing in chunks. */
  pipelineWindow?: number;
}

export type BreakpointKind = 'sw' | 'hw' | 'write' | 'read' | 'access';
const Z_TYPE: Record<BreakpointKind, number> = { sw: 0, hw: 1, write: 2, read: 3, access: 4 };

export interface ResumeAction {
  action: 'c' | 's';
  /** Omitted: the default action for every thread not named elsewhere. */
  thread?: ThreadId;
  signal?: number;
}

export type ClientEvents = {
  stop: [StopEvent];
  console: [string];
  close: [RspClosedError];
};

const X86_INT3 = 0xcc;

/** Typed RSP commands over one connection, for QEMU's gdbstub and Xen's gdbsx. */
export class GdbClient extends EventEmitter<ClientEvents> {
  readonly cache = new StopCache();
  private running = false;
  /** Original bytes under breakpoints we wrote as int3 ourselves (stubs without Z0). */
  private readonly softBreakpoints = new Map<bigint, number>();
  private zSupported: boolean | undefined;
  private pValid = true;
  private selectedG: string | undefined;
  /** An Hg has been sent on this connection. */
  private pickedG = false;
  private readonly window: number;
  private nextStop: Promise<StopEvent> | undefined;
  private settleStop: { resolve: (e: StopEvent) => void; reject: (e: Error) => void } | undefined;

  private constructor(
    readonly conn: RspConnection,
    readonly features: StubFeatures,
    readonly quirks: StubQuirks,
    readonly layout: RegisterLayout,
    opts: ClientOptions,
  ) {
    super();
    this.window = opts.pipelineWindow ?? 16;
    conn.on('stop', (reply) => this.onStop(reply));
    conn.on('console', (text) => this.emit('console', text));
    conn.on('close', (e) => {
      // Nothing runs any more as far as we can tell: later requests fail as closed, not as "running".
      this.running = false;
      this.settleStop?.reject(e);
      this.settleStop = undefined;
      this.emit('close', e);
    });
  }

  /** Connects and negotiates: qSupported, no-ack mode, dialect, register layout. */
  static async connect(address: string | StubAddress, opts: ClientOptions = {}): Promise<GdbClient> {
    const conn = await RspConnection.connect(address, opts);
    try {
      return await GdbClient.negotiate(conn, opts);
    } catch (e) {
      conn.close();
      throw e;
    }
  }

  static async negotiate(conn: RspConnection, opts: ClientOptions = {}): Promise<GdbClient> {
    const supported = opts.dialect === 'gdbsx' ? '' : await conn.request(CLIENT_FEATURES);
    const features = supported ? parseSupported(supported) : noFeatures();
    if (features.noAckMode && (await conn.request('QStartNoAckMode')) === 'OK') conn.setNoAckMode();
    const dialect = opts.dialect ?? detectDialect(supported, supported ? await conn.request('qqemu.sstep') : '');
    const quirks = quirksFor(dialect);
    conn.oneAtATime = !quirks.pipelines;
    // qC is the resync probe after a timeout; only keep it if the stub answers it.
    const probe = conn.syncProbe;
    conn.syncProbe = undefined;
    if (quirks.answersCurrentThread ?? (await conn.request('qC')).startsWith('QC')) conn.syncProbe = probe;
    const layout = features.xferFeatures
      ? await layoutFromTargetXml((annex) => readXfer(conn, 'features', annex, features.packetSize))
      : gdbsxLayout();
    return new GdbClient(conn, features, quirks, layout, opts);
  }

  get stats(): PacketStats {
    return this.conn.stats;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Sends a packet and returns its reply; `Exx` becomes RspError. */
  async request(packet: string, timeoutMs?: number): Promise<string> {
    if (this.running) throw new RspStateError(`target is running; '${packet.slice(0, 20)}' needs it stopped (interrupt first)`);
    const reply = await this.conn.request(packet, timeoutMs === undefined ? {} : { timeoutMs });
    if (reply.length === 3 && reply[0] === 'E') {
      const err = /^E([0-9a-fA-F]{2})$/.exec(reply);
      if (err) throw new RspError(packet, parseInt(err[1]!, 16));
    }
    return reply;
  }

  /** A request whose only good answer is OK. */
  private async command(packet: string): Promise<void> {
    const reply = await this.request(packet);
    if (reply === '') throw new RspUnsupportedError(packet);
    if (reply !== 'OK') throw new RspMalformedError(`'${packet.slice(0, 20)}' answered '${reply.slice(0, 40)}', expected OK`);
  }

  threadText(t: ThreadId): string {
    return formatThreadId(t, this.features.multiprocess);
  }

  /** Why the target is stopped (`?`). QEMU also forgets every breakpoint when asked this. */
  async haltReason(): Promise<StopEvent> {
    const ev = parseStopReply(await this.request('?'));
    // Until a client picks one, the general thread is the stub's current thread, the one `?` names.
    if (!this.pickedG) this.followStop(ev);
    return ev;
  }

  /**
   * The thread a stop names becomes the stub's general thread (gdb relies on this too, after `?`
   * as after a resume): its registers need no Hg first.
   */
  private followStop(ev: StopEvent): void {
    if (ev.kind === 'signal' && ev.thread) this.selectedG = this.threadText(ev.thread);
  }

  /**
   * Makes `thread` the stub's general thread (registers and memory) unless it is already. The Hg is
   * sent synchronously, before any packet the caller sends next, and counts as selected at once: a
   * request queued behind it already runs on that thread.
   */
  private selectG(thread: ThreadId | undefined): Promise<void> | undefined {
    if (!thread) return undefined;
    const t = this.threadText(thread);
    if (this.selectedG === t) return undefined;
    this.selectedG = t;
    this.pickedG = true;
    return this.command(`Hg${t}`).catch((e: unknown) => {
      if (this.selectedG === t) this.selectedG = undefined;
      throw e;
    });
  }

  /** Without a thread, registers come from whichever thread `Hg` last selected (after a stop: the one that stopped). */
  private cacheKey(thread: ThreadId | undefined): string {
    return thread ? this.threadText(thread) : (this.selectedG ?? '');
  }

  async readRegisters(thread?: ThreadId): Promise<Map<string, bigint>> {
    const key = this.cacheKey(thread);
    const cached = this.cache.getRegisters(key);
    if (cached) return cached;
    const [, g] = await Promise.all([this.selectG(thread), this.request('g')]);
    const decoded = this.layout.decode(fromHex(g));
    const values = this.quirks.x87PhysicalOrder ? x87StackOrder(decoded) : decoded;
    this.cache.setRegisters(key, values);
    return values;
  }

  async readRegister(name: string, thread?: ThreadId): Promise<bigint> {
    const cached = this.cache.getRegisters(this.cacheKey(thread))?.get(name);
    if (cached !== undefined) return cached;
    const info = this.layout.get(name);
    // A stack register of a stub that numbers them physically: from the whole set, reordered.
    if (this.pValid && !(this.quirks.x87PhysicalOrder && /^st[0-7]$/.test(name))) {
      const [, reply] = await Promise.all([this.selectG(thread), this.request(`p${hexNum(info.regnum)}`)]);
      if (reply !== '') return leToBigint(fromHex(reply));
      this.pValid = false;
    }
    const all = await this.readRegisters(thread);
    const v = all.get(name);
    if (v === undefined) throw new RspMalformedError(`'g' reply too short for register '${name}'`);
    return v;
  }

  async writeRegister(name: string, value: bigint, thread?: ThreadId): Promise<void> {
    if (this.quirks.x87PhysicalOrder && /^st[0-7]$/.test(name)) name = x87PhysicalName(name, await this.readRegister('fstat', thread));
    const info = this.layout.get(name);
    this.cache.clear();
    await this.selectG(thread);
    if (this.pValid) {
      const reply = await this.request(`P${hexNum(info.regnum)}=${toHex(bigintToLe(value, info.bitsize / 8))}`);
      if (reply === 'OK') return;
      if (reply !== '') throw new RspMalformedError(`'P' answered '${reply.slice(0, 40)}'`);
      this.pValid = false;
    }
    const g = fromHex(await this.request('g'));
    await this.command(`G${toHex(this.layout.encodeInto(g, name, value))}`);
  }

  /** Runs `fn` over chunks with at most `window` requests in flight; results in chunk order. */
  private async pipelined<T>(count: number, fn: (i: number) => Promise<T>, window = this.window): Promise<T[]> {
    const out: T[] = new Array(count);
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const i = next++;
        out[i] = await fn(i);
      }
    };
    await Promise.all(Array.from({ length: Math.min(window, count) }, worker));
    return out;
  }

  /**
   * Reads memory in the stub's largest chunks, `window` of them in flight (default: the client's),
   * through `thread`'s view of memory (its page tables; QEMU reads through Hg's vCPU), or without
   * one through the stub's current general thread.
   */
  async readMemory(address: bigint, length: number, window?: number, thread?: ThreadId): Promise<Buffer> {
    const key = this.cacheKey(thread);
    const cached = this.cache.getMemory(address, length, key);
    if (cached) return cached;
    const chunk = this.quirks.maxMemoryRead;
    const count = Math.ceil(length / chunk);
    const parts = await this.pipelined(
      count,
      async (i) => {
        const n = Math.min(chunk, length - i * chunk);
        // Each chunk re-selects: a read through another thread may have been sent in between.
        const [, reply] = await Promise.all([this.selectG(thread), this.request(`m${hexNum(address + BigInt(i * chunk))},${hexNum(n)}`)]);
        const bytes = fromHex(reply);
        if (bytes.length !== n) throw new RspMalformedError(`'m' returned ${bytes.length} bytes, asked for ${n}`);
        return bytes;
      },
      window,
    );
    const data = Buffer.concat(parts);
    this.cache.putMemory(address, data, key);
    return data;
  }

  async writeMemory(address: bigint, data: Uint8Array, thread?: ThreadId): Promise<void> {
    this.cache.clear();
    const packetSize = this.features.packetSize ?? 4096;
    const binary = this.features.binaryUpload;
    // Header `Maddr,len:` is at most ~40 bytes; hex doubles the data, binary at worst doubles too (escapes).
    const chunk = Math.max(1, Math.min(this.quirks.maxMemoryRead, Math.floor((packetSize - 40) / 2)));
    const count = Math.ceil(data.length / chunk);
    await this.pipelined(count, async (i) => {
      const part = data.subarray(i * chunk, Math.min(data.length, (i + 1) * chunk));
      const head = `${hexNum(address + BigInt(i * chunk))},${hexNum(part.length)}:`;
      await Promise.all([
        this.selectG(thread),
        this.command(binary ? `X${head}${Buffer.from(part).toString('latin1')}` : `M${head}${toHex(part)}`),
      ]);
    });
  }

  /**
   * Inserts a breakpoint or watchpoint. Software breakpoints fall back to writing int3 when the stub
   * has no Z0 (gdbsx); `length` is the x86 kind for breakpoints and the byte count for watchpoints.
   */
  async insertBreakpoint(kind: BreakpointKind, address: bigint, length = 1): Promise<void> {
    if (kind === 'sw' && this.zSupported === false) return this.insertSoftBreakpoint(address);
    const reply = await this.request(`Z${Z_TYPE[kind]},${hexNum(address)},${hexNum(length)}`);
    if (reply === 'OK') {
      if (kind === 'sw') this.zSupported = true;
      return;
    }
    if (reply !== '') throw new RspMalformedError(`'Z${Z_TYPE[kind]}' answered '${reply.slice(0, 40)}'`);
    if (kind !== 'sw') throw new RspUnsupportedError(`Z${Z_TYPE[kind]}`);
    this.zSupported = false;
    return this.insertSoftBreakpoint(address);
  }

  async removeBreakpoint(kind: BreakpointKind, address: bigint, length = 1): Promise<void> {
    if (kind === 'sw' && this.softBreakpoints.has(address)) {
      const original = this.softBreakpoints.get(address)!;
      await this.writeMemory(address, Buffer.from([original]));
      this.softBreakpoints.delete(address);
      return;
    }
    await this.command(`z${Z_TYPE[kind]},${hexNum(address)},${hexNum(length)}`);
  }

  /**
   * Breakpoint changes go out now, each as one Z/z packet, and a resume sent after them reaches
   * the stub after them with nothing of theirs behind it (no int3 written through memory; acks
   * held while the guest runs, as the stub allows).
   */
  get breakpointPacketsInOrder(): boolean {
    return this.zSupported === true && this.softBreakpoints.size === 0 && this.quirks.acksMayWait && this.conn.inOrder;
  }

  /** True when we wrote an int3 at `address` ourselves (stubs without Z0). */
  hasSoftBreakpoint(address: bigint): boolean {
    return this.softBreakpoints.has(address);
  }

  private async insertSoftBreakpoint(address: bigint): Promise<void> {
    if (this.softBreakpoints.has(address)) return;
    const [original] = await this.readMemory(address, 1);
    await this.writeMemory(address, Buffer.from([X86_INT3]));
    this.softBreakpoints.set(address, original!);
  }

  /**
   * Resumes with per-thread actions (`vCont;s:p1.2;c`). Without vCont, only one action is possible:
   * `Hc` selects its thread, then `c`/`s`. The stop arrives later as a 'stop' event (see waitForStop).
   */
  async resume(actions: ResumeAction[]): Promise<void> {
    if (actions.length === 0) throw new RspStateError('resume needs at least one action');
    if (this.features.vContSupported) {
      const parts = actions.map((a) => {
        const verb = a.signal !== undefined ? `${a.action.toUpperCase()}${a.signal.toString(16).padStart(2, '0')}` : a.action;
        return a.thread ? `${verb}:${this.threadText(a.thread)}` : verb;
      });
      this.startRunning(`vCont;${parts.join(';')}`);
      return;
    }
    if (actions.length > 1) throw new RspUnsupportedError('vCont (several resume actions)');
    const a = actions[0]!;
    if (a.thread) await this.command(`Hc${this.threadText(a.thread)}`);
    this.startRunning(a.action);
  }

  cont(thread?: ThreadId): Promise<void> {
    return this.resume([thread ? { action: 'c', thread } : { action: 'c' }]);
  }

  step(thread: ThreadId): Promise<void> {
    return this.resume([{ action: 's', thread }]);
  }

  private startRunning(packet: string): void {
    this.cache.clear();
    this.selectedG = undefined;
    this.running = true;
    // Replies to requests still in flight are not acknowledged until the stop.
    if (this.quirks.acksMayWait) this.conn.holdAcks(true);
    // Created before sending, so a stop that arrives before anyone calls waitForStop is not lost.
    this.nextStop = new Promise<StopEvent>((resolve, reject) => {
      this.settleStop = { resolve, reject };
    });
    this.nextStop.catch(() => undefined);
    this.conn.send(packet);
  }

  /** Resolves with the stop that ends the current (or last) run; rejects on timeout or close. */
  waitForStop(timeoutMs = 10_000): Promise<StopEvent> {
    if (!this.nextStop) return Promise.reject(new RspStateError('the target has not been resumed'));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RspStateError(`no stop within ${timeoutMs} ms`)), timeoutMs);
    });
    return Promise.race([this.nextStop, timeout]).finally(() => clearTimeout(timer));
  }

  private onStop(reply: string): void {
    this.running = false;
    this.conn.holdAcks(false);
    this.cache.clear();
    const ev = parseStopReply(reply);
    this.followStop(ev);
    this.settleStop?.resolve(ev);
    this.settleStop = undefined;
    this.emit('stop', ev);
  }

  /** Stops a running target with 0x03; the stop (SIGINT) arrives as a 'stop' event. */
  interrupt(): void {
    if (!this.quirks.canInterrupt)
      throw new RspStateError(`${this.quirks.dialect} cannot interrupt a running target; pause the domain instead`);
    this.conn.interrupt();
  }

  /**
   * Read as gdb reads it: `m` lists until `l`. gdbsx sends its whole list in one reply that ends in
   * `l` (`m0,1l`) and answers qsThreadInfo with nothing.
   */
  async threads(): Promise<ThreadId[]> {
    const out: ThreadId[] = [];
    for await (const t of this.threadList()) out.push(t);
    return out;
  }

  /** The same list a reply at a time, for a caller that needs only its start (QEMU: one thread per reply). */
  async *threadList(): AsyncGenerator<ThreadId, void, undefined> {
    let count = 0;
    for (let reply = await this.request('qfThreadInfo'); reply !== 'l' && reply !== ''; reply = await this.request('qsThreadInfo')) {
      if (!reply.startsWith('m')) throw new RspMalformedError(`thread list reply '${reply.slice(0, 40)}'`);
      const last = reply.endsWith('l');
      for (const t of reply.slice(1, last ? -1 : undefined).split(',')) {
        count++;
        yield parseThreadId(t);
      }
      if (last) return;
      // A stub that never says `l` would keep us asking forever.
      if (count > MAX_THREADS) throw new RspMalformedError(`thread list: more than ${MAX_THREADS} threads`);
    }
  }

  async threadExtraInfo(thread: ThreadId): Promise<string> {
    return hexToAscii(await this.request(`qThreadExtraInfo,${this.threadText(thread)}`));
  }

  async currentThread(): Promise<ThreadId> {
    const reply = await this.request('qC');
    if (!reply.startsWith('QC')) throw new RspUnsupportedError('qC');
    return parseThreadId(reply.slice(2));
  }

  /** Sends a monitor command (qRcmd); returns the output the stub printed. */
  async monitor(command: string): Promise<string> {
    let output = '';
    const collect = (text: string) => (output += text);
    this.conn.on('console', collect);
    try {
      const reply = await this.request(`qRcmd,${asciiToHex(command)}`);
      if (reply === '') throw new RspUnsupportedError('qRcmd');
      if (reply !== 'OK') output += hexToAscii(reply);
      return output;
    } finally {
      this.conn.off('console', collect);
    }
  }

  /** Detaches and leaves the target running. */
  async detach(pid = 1): Promise<void> {
    try {
      await this.command(this.features.multiprocess ? `D;${hexNum(pid)}` : 'D');
    } catch (e) {
      if (!(e instanceof RspClosedError && this.quirks.hangsUpOnDetach)) throw e;
    }
    this.conn.close();
  }

  /** QEMU: each vCPU's code segment base by cpu_index, which the register packets leave out. */
  async qemuCodeSegmentBases(): Promise<Map<number, bigint>> {
    return parseCodeSegmentBases(await this.monitor(QEMU_ALL_REGISTERS));
  }

  /** QEMU single-step flags (SSTEP_ENABLE=1, NOIRQ=2, NOTIMER=4). */
  async qemuSstepFlags(): Promise<number> {
    return parseInt((await this.request('qqemu.sstep')).replace(/^0x/, ''), 16);
  }

  async setQemuSstepFlags(flags: number): Promise<void> {
    await this.command(`Qqemu.sstep=${flags.toString(16)}`);
  }

  /** QEMU: make `m`/`M` address guest physical memory (on) or virtual (off). */
  async setQemuPhysicalMemoryMode(on: boolean): Promise<void> {
    this.cache.clear();
    await this.command(`Qqemu.PhyMemMode:${on ? 1 : 0}`);
  }

  close(): void {
    this.conn.close();
  }
}

/** QEMU allows 1024 vCPUs at most and Xen 4096; a longer list is a stub that never ends it. */
const MAX_THREADS = 4096;
/** QEMU's target.xml with its includes is ~10 KB; an object past this never ends. */
const MAX_XFER_BYTES = 1 << 20;

/** Reads a whole qXfer object (`l` ends it, `m` means more follows). */
async function readXfer(conn: RspConnection, object: string, annex: string, packetSize = 0x400): Promise<string> {
  let text = '';
  const what = `qXfer:${object}:read:${annex}`;
  // As much as one reply can carry: the packet size less the `m`/`l` and the framing (as gdb asks).
  const chunk = Math.max(0x100, packetSize - 5);
  for (;;) {
    const reply = await conn.request(`${what}:${hexNum(text.length)},${hexNum(chunk)}`);
    if (reply === '' || reply.startsWith('E')) throw new RspMalformedError(`${what} failed: '${reply}'`);
    text += reply.slice(1);
    if (reply[0] === 'l') return text;
    if (reply[0] !== 'm') throw new RspMalformedError(`qXfer reply starts with '${reply[0]}'`);
    if (reply.length === 1) throw new RspMalformedError(`${what}: an empty 'm' reply (more data promised, none sent)`);
    if (text.length > MAX_XFER_BYTES) throw new RspMalformedError(`${what}: more than ${MAX_XFER_BYTES} bytes`);
  }
}
