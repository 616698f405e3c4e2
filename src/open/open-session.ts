// The one way to open a debugging session, for every front end: boot an image in QEMU, attach to a
// gdbstub, attach to a Xen domain through gdbsx, or open a crash dump. Symbols are loaded first (a
// bad ELF fails before anything touches the guest), the target second, and the session takes over
// where the guest stands with its OS plugin chosen from the symbols. Whatever was started is
// stopped again on failure, and by `close`.
import { Program } from '../engine/program.js';
import { Session } from '../engine/session.js';
import type { PlacedStop } from '../engine/stop-event.js';
import { detectGuestOs } from '../os/index.js';
import { planBoot } from './boot-plan.js';
import type { QemuInstance } from '../qemu/index.js';
import type { Target } from '../targets/index.js';
import type { XenAttachOptions } from '../xen/index.js';

// Each kind loads its own target code when opened: a crash report needs no gdbstub client, QEMU
// launcher or Xen tools (node's net and child_process among them) at startup.
const live = async () => (await import('../targets/live.js')).LiveTarget;

export interface LaunchConfig {
  kind: 'launch';
  /** What QEMU's -kernel takes (PVH or multiboot ELF), or its symbol file `IMAGE.dbg` (see boot-plan.ts). */
  image: string;
  /** The ELF with debug info (default: `IMAGE.dbg` beside the image, else the image itself). */
  symbols?: string;
  smp?: number;
  memory?: string;
  append?: string;
  qemuArgs?: readonly string[];
  /** Source directories as recorded in the debug info (keys) and where they are here (values). */
  sourceMap?: Readonly<Record<string, string>>;
}

/** A gdbstub someone else started: `tcp:HOST:PORT` or `unix:PATH`. */
export interface AttachConfig {
  kind: 'attach';
  target: string;
  symbols?: string;
}

/** A Xen domain by id or name, on a dom0 (runs gdbsx for it). */
export interface XenConfig {
  kind: 'xen';
  domain: string;
  /** Default: the kernel xl booted the domain with. */
  symbols?: string;
  xen?: XenAttachOptions;
}

/** A QEMU or Xen crash dump, read-only. */
export interface DumpConfig {
  kind: 'dump';
  file: string;
  symbols: string;
}

export type SessionConfig = LaunchConfig | AttachConfig | XenConfig | DumpConfig;

export interface OpenedSession {
  session: Session;
  /** Where the session opened: the image's first instruction, an interrupted guest, a dump's panic. */
  stop: PlacedStop;
  /** What was opened, for one line to the user (`xen:3 (web)`, the gdbstub address, the dump file). */
  description: string;
  /** The symbol file loaded, when there is one. */
  symbols?: string;
  /** The QEMU this session started (a launch), and the image it booted. */
  qemu?: QemuInstance;
  image?: string;
  /**
   * Ends the session: `terminate` kills the QEMU it started; otherwise it detaches (removing every
   * breakpoint) and leaves the guest running. Closes the target and the symbols. Safe to repeat.
   */
  close(opts?: { terminate?: boolean }): Promise<void>;
}

export async function openSession(config: SessionConfig): Promise<OpenedSession> {
  switch (config.kind) {
    case 'launch':
      return openLaunch(config);
    case 'attach':
      return open(config.symbols, config.target, async () => (await live()).connect(config.target), 'interrupt');
    case 'xen': {
      const { attachXen } = await import('../xen/index.js');
      const xen = await attachXen(config.domain, config.xen);
      const symbols = config.symbols ?? xen.symbols;
      return open(symbols, xen.description, async () => xen.target, 'interrupt', { cleanup: () => xen.cleanup() }).catch(
        async (e: unknown) => {
          await xen.cleanup();
          throw e;
        },
      );
    }
    case 'dump':
      return open(config.symbols, config.file, async () => (await import('../targets/dump/index.js')).openDump(config.file), 'dump');
  }
}

async function openLaunch(cfg: LaunchConfig): Promise<OpenedSession> {
  const plan = await planBoot(cfg.image, cfg.symbols);
  const { launchQemu } = await import('../qemu/index.js');
  const qemu = await launchQemu({
    image: plan.boot,
    smp: cfg.smp ?? 2,
    ...(cfg.memory !== undefined && { memory: cfg.memory }),
    ...(cfg.append !== undefined && { append: cfg.append }),
    extraArgs: [...(cfg.qemuArgs ?? [])],
    gdb: 'unix',
    paused: true,
    // A guest panic then stops the VM and raises QMP GUEST_PANICKED instead of going unnoticed.
    pvpanic: true,
  });
  try {
    const opened = await open(plan.symbols, qemu.gdbAddress!, async () => (await live()).connect(qemu.gdbAddress!), 'entry', {
      qemu,
      ...(cfg.sourceMap && { sourceMap: cfg.sourceMap }),
    });
    for (const w of plan.warnings) opened.session.warn(w);
    return { ...opened, image: plan.boot };
  } catch (e) {
    await qemu.kill();
    throw e;
  }
}

async function open(
  symbols: string | undefined,
  description: string,
  openTarget: () => Promise<Target>,
  kind: 'entry' | 'interrupt' | 'dump',
  extra: { qemu?: QemuInstance; cleanup?: () => Promise<void>; sourceMap?: Readonly<Record<string, string>> } = {},
): Promise<OpenedSession> {
  const program = symbols ? await Program.load(symbols) : undefined;
  for (const [from, to] of Object.entries(extra.sourceMap ?? {})) program?.sourcePaths.substitute(from, to);
  let target: Target;
  try {
    target = await openTarget();
  } catch (e) {
    program?.close();
    throw e;
  }
  const { qemu } = extra;
  const session = new Session(target, { ...(qemu && { machine: qemu }), detectOs: detectGuestOs });
  let closing: Promise<void> | undefined;
  const close = (opts: { terminate?: boolean } = {}) =>
    (closing ??= (async () => {
      try {
        if (opts.terminate && qemu) await qemu.kill();
        else if (session.isAlive && target.kind === 'live') await session.detach();
      } finally {
        await target.close();
        await extra.cleanup?.();
        program?.close();
      }
    })());
  try {
    if (program) await session.loadProgram(program);
    const stop = await session.start(kind);
    // Whether the symbols belong to this guest, asked once here (a mismatch is a session warning).
    if (program) await session.verifySymbols();
    return { session, stop, description, ...(symbols && { symbols }), ...(qemu && { qemu }), close };
  } catch (e) {
    await target.close();
    program?.close();
    throw e;
  }
}
