// `duster attach DOMID` on a Xen dom0: find the domain with xl, start gdbsx for it on a free port,
// connect with the gdbsx dialect (`xl pause` stands in for the interrupt gdbsx lacks), and on the
// way out leave the domain paused or running exactly as it was found.
import { freeLoopbackPort } from '../qemu/index.js';
import { LiveTarget, type LiveTargetOptions } from '../targets/index.js';
import { NoSuchDomainError, XenError } from './errors.js';
import { findGdbsx, Gdbsx } from './gdbsx.js';
import { gdbsxBitness, kernelSymbols } from './guest.js';
import { Xl, type DomainConfig } from './xl.js';

export interface XenAttachOptions {
  /** The xl program (default: `xl` on PATH). */
  xl?: string;
  /** The gdbsx program (default: on PATH, else /usr/lib/xen-*\/bin). */
  gdbsx?: string;
  /** How long gdbsx may take to attach and start listening. */
  connectTimeoutMs?: number;
  /** One-line notes for the user (what cleanup had to repair). */
  log?: (line: string) => void;
}

export interface XenDomain {
  domid: number;
  name: string;
  config: DomainConfig;
  /** Paused when duster attached: it is left paused again. */
  wasPaused: boolean;
}

export interface XenAttachment {
  /** Stopped, through gdbsx; a Session takes it over with `start('interrupt')`. */
  target: LiveTarget;
  domain: XenDomain;
  /** The kernel xl booted, when it is an ELF readable here: the default symbols. */
  symbols?: string;
  /** `xen:DOMID (NAME)` */
  description: string;
  /**
   * Call once the session has detached (which removes the breakpoints, then `D` makes gdbsx
   * unpause the domain and exit), or instead of that on an error. Closes the connection, waits
   * for gdbsx to end and puts the domain back in the pause state it was found in. Safe to repeat.
   */
  cleanup(): Promise<void>;
}

// gdbsx attaches within a second on a quiet dom0; a loaded one (a nested test rig) takes several.
const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;

/** Attaches to a domain given by id or name (`5`, `xen:5`, `xen:web`). */
export async function attachXen(domain: string | number, opts: XenAttachOptions = {}): Promise<XenAttachment> {
  const xl = new Xl(opts.xl);
  const found = await xl.list(domain);
  if (found.domid === 0) throw new XenError('domain 0 is the dom0 itself: gdbsx debugs guest domains only');
  const config = await xl.config(found.domid);
  const bitness = gdbsxBitness(config);
  const gdbsx = await Gdbsx.start(findGdbsx(opts.gdbsx), found.domid, bitness, await freeLoopbackPort());
  const dom: XenDomain = { domid: found.domid, name: found.name, config, wasPaused: found.paused };
  const pauses = new PauseKeeper(xl, dom);
  let target: LiveTarget | undefined;
  let detaching = false;
  let cleaning: Promise<void> | undefined;
  // The connection closing before we sent `D` or closed it means gdbsx died: worth telling.
  let lost = false;
  const cleanup = () => (cleaning ??= finish(target, gdbsx, pauses, lost, opts.log));
  const beforeDetach = () => {
    detaching = true;
    return pauses.giveBackUserPause();
  };
  try {
    target = await connect(gdbsx, opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, {
      dialect: 'gdbsx',
      pause: () => pauses.pause(),
      beforeDetach,
    });
    gdbsx.connected();
    target.on('close', () => (lost ||= !detaching && !cleaning));
    await pauses.takeUserPause();
  } catch (e) {
    await cleanup();
    throw e;
  }
  const symbols = kernelSymbols(config);
  return { target, domain: dom, ...(symbols && { symbols }), description: `xen:${dom.domid} (${dom.name})`, cleanup };
}

/** `xen:ID`, `xen:NAME` or a bare domain id; undefined for anything else (a gdbstub address). */
export function parseXenTarget(text: string): string | undefined {
  if (text.startsWith('xen:') && text.length > 4) return text.slice(4);
  return /^\d+$/.test(text) ? text : undefined;
}

/** gdbsx accepts one connection once it has attached; until then connecting is refused. */
async function connect(gdbsx: Gdbsx, timeoutMs: number, opts: LiveTargetOptions): Promise<LiveTarget> {
  const address = `tcp:127.0.0.1:${gdbsx.port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await LiveTarget.connect(address, opts);
    } catch (e) {
      if (gdbsx.exit) throw new XenError(`cannot attach: ${gdbsx.describeExit()}`);
      if (Date.now() > deadline)
        throw new XenError(`gdbsx did not accept a connection on ${address} within ${timeoutMs} ms (${(e as Error).message})`);
    }
    await Promise.race([gdbsx.exited, new Promise((r) => setTimeout(r, 25))]);
  }
}

/**
 * Xen counts pauses: gdbsx holds one while the guest is stopped, a user's `xl pause` is another.
 * A domain found paused would never run under the debugger, so its pause is released while
 * gdbsx holds its own, and taken again just before `D` releases gdbsx's.
 */
class PauseKeeper {
  private holdingUserPause = false;

  constructor(
    private readonly xl: Xl,
    readonly domain: XenDomain,
  ) {}

  pause(): Promise<void> {
    return this.xl.pause(this.domain.domid);
  }

  async takeUserPause(): Promise<void> {
    if (!this.domain.wasPaused) return;
    await this.xl.unpause(this.domain.domid);
    this.holdingUserPause = true;
  }

  async giveBackUserPause(): Promise<void> {
    if (!this.holdingUserPause) return;
    await this.xl.pause(this.domain.domid);
    this.holdingUserPause = false;
  }

  /**
   * After gdbsx has gone, however it went: pause or unpause until the domain is as found. A gdbsx
   * that was killed leaves its own pause behind.
   */
  async restore(): Promise<'as found' | 'unpaused' | 'paused' | 'gone'> {
    let did: 'as found' | 'unpaused' | 'paused' = 'as found';
    for (let i = 0; i < 4; i++) {
      let paused: boolean;
      try {
        paused = (await this.xl.list(this.domain.domid)).paused;
      } catch (e) {
        if (e instanceof NoSuchDomainError) return 'gone';
        throw e;
      }
      if (paused === this.domain.wasPaused) return did;
      if (paused) await this.xl.unpause(this.domain.domid);
      else await this.xl.pause(this.domain.domid);
      did = paused ? 'unpaused' : 'paused';
    }
    throw new XenError(`domain ${this.domain.domid} did not return to its ${this.domain.wasPaused ? 'paused' : 'running'} state`);
  }
}

async function finish(
  target: LiveTarget | undefined,
  gdbsx: Gdbsx,
  pauses: PauseKeeper,
  lost: boolean,
  log: ((line: string) => void) | undefined,
): Promise<void> {
  // Closing our end makes a gdbsx that was not sent `D` detach and unpause by itself.
  await target?.close();
  await gdbsx.stop();
  const { domid, name, wasPaused } = pauses.domain;
  const outcome = await pauses.restore();
  if (lost)
    log?.(
      `${gdbsx.describeExit()} during the session; domain ${domid} (${name}) ${outcome === 'gone' ? 'no longer exists' : `left ${wasPaused ? 'paused' : 'running'} as found`}`,
    );
  else if (outcome === 'unpaused' || outcome === 'paused') log?.(`domain ${domid} (${name}) ${outcome} again, as it was found`);
}
