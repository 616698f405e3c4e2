// An interrupt must end any running operation, also one that resumes the guest many times: a
// `finish` or `next` whose return address other vCPUs keep hitting declines each of those stops and
// resumes again, and an interrupt sent while the stub is stopped between two resumes is ignored by
// it. Found by the DAP fuzzer (a pause during stepOut never stopped the guest).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Session } from '../../src/engine/session.js';
import { attachGuest, detachGuest, type AttachedGuest } from '../support/guest.js';

describe('interrupting an operation that keeps resuming (integration)', () => {
  let guest: AttachedGuest;
  let s: Session;

  beforeAll(async () => {
    guest = await attachGuest({ waitFor: /worker-\d step/, start: 'interrupt', os: false });
    s = guest.session;
  });
  afterAll(() => detachGuest(guest));

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
