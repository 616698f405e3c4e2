// The one way integration tests boot the reference unikernel: the build they name, made if needed,
// in QEMU (TCG) with its gdbstub on a private unix socket (or 127.0.0.1), optionally waiting for a
// serial line; and, for engine tests, a Session attached to it with the guest's symbols and OS
// plugin. `useGuest` registers the boot and the teardown as the file's beforeAll/afterAll.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { Program } from '../../src/engine/program.js';
import { Session } from '../../src/engine/session.js';
import { detectGuestOs } from '../../src/os/index.js';
import { launchQemu, type LaunchOptions, type QemuInstance } from '../../src/qemu/index.js';
import { LiveTarget } from '../../src/targets/index.js';

export const fixtureRoot = path.resolve(import.meta.dirname, '../../fixtures/unikernel');

/** The reference unikernel's ELF for a build (`gcc-O0`, `gcc-O2`, `clang-O2`), made if needed. */
export function referenceKernel(build = 'gcc-O0'): string {
  execFileSync('make', ['-s', '-C', fixtureRoot]);
  return path.join(fixtureRoot, 'build', build, 'kernel.elf');
}

/** A source file of the reference unikernel (`app_demo.c`, `sched.c`, ...). */
export function referenceSource(file: string): string {
  return path.join(fixtureRoot, 'src', file);
}

export interface GuestOptions extends Partial<LaunchOptions> {
  /** The reference unikernel's build, when no `image` is given (default gcc-O0). */
  build?: string;
  /** The app the kernel runs (`append: app=NAME`; default demo). */
  app?: string;
  /** A serial line to wait for before returning (the guest running, past its boot). */
  waitFor?: RegExp;
}

export async function bootGuest(opts: GuestOptions = {}): Promise<QemuInstance> {
  const { build, app = 'demo', waitFor, ...launch } = opts;
  const q = await launchQemu({ smp: 2, gdb: 'unix', append: `app=${app}`, ...launch, image: launch.image ?? referenceKernel(build) });
  if (waitFor) {
    try {
      await q.waitForSerial(waitFor, 20_000);
    } catch (e) {
      await q.kill();
      throw e;
    }
  }
  return q;
}

export interface AttachOptions extends GuestOptions {
  /** How the session takes the guest over (default: at its first instruction, booted paused). */
  start?: 'interrupt';
  /** Load the kernel's symbols (default true); the OS plugin comes with them (`os: false`: none). */
  symbols?: boolean;
  os?: boolean;
}

export interface AttachedGuest {
  qemu: QemuInstance;
  target: LiveTarget;
  session: Session;
  kernel: string;
}

/** Boots a guest and attaches an engine Session with the kernel's symbols and OS plugin. */
export async function attachGuest(opts: AttachOptions = {}): Promise<AttachedGuest> {
  const { start, symbols = true, os = true, ...rest } = opts;
  const kernel = rest.image ?? referenceKernel(rest.build);
  const qemu = await bootGuest({ paused: !start, ...rest, image: kernel });
  try {
    const target = await LiveTarget.connect(qemu.gdbAddress!);
    const session = new Session(target, os ? { detectOs: detectGuestOs } : {});
    if (symbols) await session.loadProgram(await Program.load(kernel));
    await (start ? session.start(start) : session.start());
    return { qemu, target, session, kernel };
  } catch (e) {
    await qemu.kill();
    throw e;
  }
}

/** Tears an attached guest down: the target first, then its QEMU. */
export async function detachGuest(g: AttachedGuest | undefined): Promise<void> {
  await g?.target.close();
  await g?.qemu.kill();
}

/**
 * An attached guest for the whole file: booted in beforeAll, killed in afterAll. The returned object
 * is filled in by beforeAll; read it inside tests only.
 */
export function useGuest(opts: AttachOptions = {}): AttachedGuest {
  const guest = {} as AttachedGuest;
  beforeAll(async () => {
    Object.assign(guest, await attachGuest(opts));
  });
  afterAll(async () => {
    if (guest.qemu) await detachGuest(guest);
  });
  return guest;
}
