// An interrupt must end any running operation, also one that resumes the guest many times: a
// `finish` or `next` whose return address other vCPUs keep hitting declines each of those stops and
// resumes again, and an interrupt sent while the stub is stopped between two resumes is ignored by
// it. Found by the DAP fuzzer (a pause during stepOut never stopped the guest).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Program } from '../../src/engine/program.js';
import { Session } from '../../src/engine/session.js';
import { launchQemu, type QemuInstance } from '../../src/qemu/index.js';
import { LiveTarget } from '../../src/targets/index.js';

const root = path.resolve(import.meta.dirname, '../../fixtures/unikernel');
const kernel = path.join(root, 'build/gcc-O0/kernel.elf');

describe('interrupting an operation that keeps resuming (integration)', () => {
  let q: QemuInstance;
  let s: Session;

  beforeAll(async () => {
    execFileSync('make', ['-s', '-C', root]);
    q = await launchQemu({ image: kernel, smp: 2, append: 'app=demo', gdb: 'unix' });
    await q.waitForSerial(/worker-\d step/, 20_000);
    s = new Session(await LiveTarget.connect(q.gdbAddress!));
    await s.loadProgram(await Program.load(kernel));
    await s.start('interrupt');
  });
  afterAll(async () => {
    await q?.kill();
  });

  it('stops at once however the interrupt falls between the resumes', async () => {
    const [entry] = s.program!.symbols.functionEntries('worker_step');
    for (let i = 0; i < 12; i++) {
      // Both workers reach worker_step all the time; no frame has this stack pointer, so each hit is declined.
      const run = s.runTo(entry!, 1n, 1);
      // The interrupt is to fall while the operation runs, not while it is still being set up.
      while (!s.isRunning) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 50 + i * 23));
      const t = performance.now();
      await s.interrupt();
      const stop = await Promise.race([run, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 5000))]);
      expect(stop === 'hung' ? stop : stop.kind, `round ${i}`).toBe('interrupt');
      expect(performance.now() - t).toBeLessThan(2000);
    }
  });
});
