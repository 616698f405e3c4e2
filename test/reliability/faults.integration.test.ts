// Fault injection between duster and a real QEMU: at each point of a scripted session (attach,
// break, continue, bt, step, detach) the proxy drops the connection, corrupts a checksum, delays a
// reply beyond the timeout, or injects garbage; or QEMU is killed mid-command. duster must end each
// case with success or one clear TargetError within its timeout, never hang; a fresh attach must
// find the guest usable, free of our breakpoints and running on, with its memory as it was (read by
// QEMU: read-only sections and .data as before, no memory or register write in the packet log).
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Program } from '../../src/engine/program.js';
import { Session } from '../../src/engine/session.js';
import { type QemuInstance } from '../../src/qemu/index.js';
import { bootGuest } from '../support/guest.js';
import { LiveTarget, TargetError } from '../../src/targets/index.js';
import { imageSections, snapshot, snapshotDifferences, writesIn, type ImageSection } from '../support/guest-memory.js';
import { RspProxy, type Fault } from '../support/rsp-proxy.js';

const root = path.resolve(import.meta.dirname, '../../fixtures/unikernel');
const kernel = path.join(root, 'build/gcc-O0/kernel.elf');
const TIMEOUT = 400;

type Phase = 'attach' | 'break' | 'continue' | 'bt' | 'step' | 'detach';
// Not 'break': it sends nothing (code breakpoints go out with the next resume, so 'continue' has
// their faults; live-packets checks that).
const PHASES: Phase[] = ['attach', 'continue', 'bt', 'step', 'detach'];
type FaultKind = 'close' | 'corrupt' | 'delay' | 'garbage';

function nm(name: string): bigint {
  const line = execFileSync('nm', [kernel], { encoding: 'utf8' })
    .split('\n')
    .find((l) => l.endsWith(` ${name}`))!;
  return BigInt(`0x${line.split(' ')[0]}`);
}

/** Corrupts the checksum of the first packet in a chunk. */
function corrupt(chunk: Buffer): Buffer {
  const s = chunk.toString('latin1');
  const hash = s.indexOf('#');
  if (hash < 0 || hash + 2 >= s.length) return chunk;
  const bad = s.slice(0, hash + 1) + (s[hash + 1] === '0' ? '1' : '0') + s.slice(hash + 2);
  return Buffer.from(bad, 'latin1');
}

let program: Program;
let sections: ImageSection[];

/**
 * The scripted session through `proxy`, with `fault` injected while `phase` runs. Resolves with
 * the error it ended with, if any, and how long it took.
 */
async function faultySession(
  proxy: RspProxy,
  phase: Phase,
  fault: (dir: 'c2s' | 's2c', chunk: Buffer) => ReturnType<Fault> | undefined,
): Promise<{ error?: unknown; ms: number }> {
  let current: Phase | undefined = 'attach';
  proxy.fault = (dir, chunk) => (current === phase ? (fault(dir, chunk) ?? chunk) : chunk);
  const started = Date.now();
  try {
    const target = await LiveTarget.connect(proxy.address, { timeoutMs: TIMEOUT, stepTimeoutMs: TIMEOUT });
    const s = new Session(target);
    await s.loadProgram(program);
    await s.start('interrupt');
    current = 'break';
    const bp = await s.addBreakpoint({ kind: 'address', address: nm('counter_tick') });
    current = 'continue';
    await s.continue();
    current = 'bt';
    const thread = s.stop?.kind === 'exited' ? 1 : (s.stop?.thread ?? 1);
    await s.backtrace(thread);
    current = 'step';
    await s.deletePoint(bp.id);
    await s.stepInstruction(thread);
    current = 'detach';
    await s.detach();
    return { ms: Date.now() - started };
  } catch (error) {
    return { error, ms: Date.now() - started };
  }
}

/** One clear line within the time bound, if the session failed at all. */
function expectCleanEnd(r: { error?: unknown; ms: number }): void {
  if (r.error) {
    expect(r.error).toBeInstanceOf(TargetError);
    expect((r.error as Error).message).not.toContain('\n');
  }
  expect(r.ms).toBeLessThan(TIMEOUT * 10 + 3000);
}

/** A fresh attach works and leaves the guest running on, with no breakpoint of ours left to stop it. */
async function freshAttach(q: QemuInstance): Promise<void> {
  const fresh = await LiveTarget.connect(q.gdbAddress!, { timeoutMs: 2000 });
  const s = new Session(fresh);
  await s.start('interrupt');
  await s.detach();
  const seen = q.serialText.length;
  await q.waitForSerial(/(step|counter)[^\n]*\n/, 10_000, seen);
}

beforeAll(async () => {
  execFileSync('make', ['-s', '-C', root]);
  program = await Program.load(kernel);
  sections = await imageSections(kernel);
});
afterAll(() => program?.close());

describe('fault injection against QEMU (integration)', () => {
  let q: QemuInstance;
  let readOnly: Map<string, Buffer>;
  let data: Buffer;

  beforeAll(async () => {
    q = await bootGuest({ image: kernel, smp: 2, append: 'app=demo', gdb: 'unix' });
    await q.waitForSerial(/worker-\d step/, 20_000);
    readOnly = await snapshot(q, sections, false);
    data = (await snapshot(q, sections, true)).get('.data')!;
  });
  afterAll(async () => {
    await q?.kill();
  });

  const faults: FaultKind[] = ['close', 'corrupt', 'delay', 'garbage'];

  for (const phase of PHASES) {
    for (const fault of faults) {
      it(`${fault} during ${phase}`, async () => {
        const proxy = await RspProxy.start(q.gdbAddress!);
        let fired = false;
        const r = await faultySession(proxy, phase, (dir, chunk) => {
          if (dir !== 's2c' || fired || !chunk.includes(0x24 /* $ */)) return undefined;
          fired = true;
          switch (fault) {
            case 'close':
              return 'close';
            case 'corrupt':
              return corrupt(chunk);
            case 'garbage':
              return Buffer.concat([Buffer.from('\x00garbage#zz$$##\xff', 'latin1'), chunk]);
            case 'delay':
              return new Promise((resolve) => setTimeout(() => resolve(chunk), TIMEOUT * 3));
          }
        });
        await proxy.close();
        expect(fired).toBe(true);
        expectCleanEnd(r);
        expect(writesIn(proxy.packets)).toEqual([]);
        await freshAttach(q);
        expect(snapshotDifferences(readOnly, await snapshot(q, sections, false), sections)).toEqual([]);
        expect((await snapshot(q, sections, true)).get('.data')!.equals(data)).toBe(true);
      });
    }
  }
});

describe('QEMU killed mid-command (integration)', () => {
  // Each QEMU that proves attaching again works is the next phase's victim.
  let victim: QemuInstance;
  const boot = async () => {
    const q = await bootGuest({ image: kernel, smp: 2, append: 'app=demo', gdb: 'unix' });
    await q.waitForSerial(/worker-\d step/, 20_000);
    return q;
  };
  beforeAll(async () => {
    victim = await boot();
  });
  afterAll(async () => {
    await victim?.kill();
  });

  for (const phase of PHASES) {
    it(`during ${phase}: one clear line, no hang, and attaching again works`, async () => {
      const q = victim;
      const proxy = await RspProxy.start(q.gdbAddress!);
      let killed = false;
      const r = await faultySession(proxy, phase, (dir) => {
        if (dir === 'c2s' && !killed) {
          killed = true;
          q.proc.kill('SIGKILL');
        }
        return undefined;
      });
      await proxy.close();
      await q.kill();
      expect(killed).toBe(true);
      expect(r.error).toBeInstanceOf(TargetError);
      expectCleanEnd(r);
      console.info(`killed during ${phase}: ${(r.error as Error).message} (${r.ms} ms)`);
      // The same code attaches to the next QEMU as if nothing had happened.
      victim = await boot();
      await freshAttach(victim);
    });
  }

  it('duster run: QEMU killed under a continue: one line per failed command, exit status 1', async () => {
    const duster = path.resolve(root, '../../bin/duster.js');
    const child = spawn('node', [duster, 'run', kernel, '--append', 'app=demo', '--batch', '-ex', 'continue', '-ex', 'bt'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    for (let i = 0; i < 200 && !out.includes('Continuing.'); i++) await new Promise((r) => setTimeout(r, 50));
    const qemu = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(child.pid)], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .find(([, c]) => c?.startsWith('qemu-system'));
    expect(qemu).toBeDefined();
    const t = Date.now();
    process.kill(Number(qemu![0]), 'SIGKILL');
    const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000))]);
    expect(code).toBe(1);
    expect(Date.now() - t).toBeLessThan(5000);
    // One line per command that met the dead stub (continue, then bt), each saying what happened.
    const lines = err.trim().split('\n');
    expect(lines, err).toEqual([
      expect.stringMatching(/^cannot wait for stop: gdbstub connection closed/),
      expect.stringMatching(/^cannot read registers: gdbstub connection closed/),
    ]);
  });
});
