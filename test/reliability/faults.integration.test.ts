// Fault injection between duster and a real QEMU: at each point of a scripted session (attach,
// break, continue, step, detach) the proxy drops the connection, corrupts a checksum, delays a
// reply beyond the timeout, or injects garbage. duster must end each case with success or one
// clear TargetError within its timeout, never hang, and a fresh attach must find the guest usable
// and free of our breakpoints.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Session } from '../../src/engine/session.js';
import { launchQemu, type QemuInstance } from '../../src/qemu/index.js';
import { LiveTarget, TargetError } from '../../src/targets/index.js';
import { RspProxy } from '../support/rsp-proxy.js';

const root = path.resolve(import.meta.dirname, '../../fixtures/unikernel');
const kernel = path.join(root, 'build/gcc-O0/kernel.elf');
const TIMEOUT = 400;

type Phase = 'attach' | 'break' | 'continue' | 'step' | 'detach';
type FaultKind = 'close' | 'corrupt' | 'delay' | 'garbage';

function nm(name: string): bigint {
  const line = execFileSync('nm', [kernel], { encoding: 'utf8' }).split('\n').find((l) => l.endsWith(` ${name}`))!;
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

describe('fault injection against QEMU (integration)', () => {
  let q: QemuInstance;
  const tick = () => nm('counter_tick');

  beforeAll(async () => {
    execFileSync('make', ['-s', '-C', root]);
    q = await launchQemu({ image: kernel, smp: 2, append: 'app=demo', gdb: 'unix' });
    await q.waitForSerial(/worker-\d step/, 20_000);
  });
  afterAll(async () => {
    await q?.kill();
  });

  const phases: Phase[] = ['attach', 'break', 'continue', 'step', 'detach'];
  const faults: FaultKind[] = ['close', 'corrupt', 'delay', 'garbage'];

  for (const phase of phases) {
    for (const fault of faults) {
      it(`${fault} during ${phase}`, async () => {
        const proxy = await RspProxy.start(q.gdbAddress!);
        let current: Phase | undefined = 'attach';
        let fired = false;
        proxy.fault = async (dir, chunk) => {
          if (dir !== 's2c' || fired || current !== phase || !chunk.includes(0x24 /* $ */)) return chunk;
          fired = true;
          switch (fault) {
            case 'close': return 'close';
            case 'corrupt': return corrupt(chunk);
            case 'garbage': return Buffer.concat([Buffer.from('\x00garbage#zz$$##\xff', 'latin1'), chunk]);
            case 'delay':
              await new Promise((r) => setTimeout(r, TIMEOUT * 3));
              return chunk;
          }
        };
        const started = Date.now();
        let error: unknown;
        try {
          const target = await LiveTarget.connect(proxy.address, { timeoutMs: TIMEOUT, stepTimeoutMs: TIMEOUT });
          const s = new Session(target);
          await s.start('interrupt');
          current = 'break';
          const bp = await s.addBreakpoint({ kind: 'address', address: tick() });
          current = 'continue';
          await s.continue();
          current = 'step';
          await s.deletePoint(bp.id);
          await s.stepInstruction();
          current = 'detach';
          await s.detach();
          current = undefined;
        } catch (e) {
          error = e;
        }
        const elapsed = Date.now() - started;
        await proxy.close();
        if (error) {
          expect(error).toBeInstanceOf(TargetError);
          expect((error as Error).message).not.toContain('\n');
        }
        expect(elapsed).toBeLessThan(TIMEOUT * 10 + 3000);

        // A fresh attach works, finds no stale breakpoint of ours, and the guest runs on after detach.
        const fresh = await LiveTarget.connect(q.gdbAddress!, { timeoutMs: 2000 });
        const s2 = new Session(fresh);
        await s2.start('interrupt');
        await s2.detach();
        const seen = q.serialText.length;
        await q.waitForSerial(/(step|counter)[^\n]*\n/, 10_000, seen);
      });
    }
  }
});
