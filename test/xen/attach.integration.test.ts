// Integration: `attachXen` against a fake dom0 (fake xl and gdbsx on PATH) whose domain is QEMU
// running the reference unikernel, so breakpoints, stepping and the pause bookkeeping are real.
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { Session } from '../../src/engine/session.js';
import type { QemuInstance } from '../../src/qemu/index.js';
import { attachXen, type XenAttachment } from '../../src/xen/index.js';
import { bootDomain, FakeDom0, kernel, nmSymbols, readThroughQemu } from './fake-xen.js';

/** The vCPU a session last stopped on. */
function stoppedOn(session: Session): number {
  const stop = session.stop!;
  if (stop.kind === 'exited') throw new Error('the guest exited');
  return stop.thread;
}

const DOMID = 7;
const NAME = 'duster-demo';

describe('duster attach DOMID through gdbsx (integration)', () => {
  let dom0: FakeDom0;
  let qemu: QemuInstance;
  let sym: Map<string, bigint>;
  let text: { address: bigint; size: number }[];
  let textBefore: Buffer[];

  beforeAll(async () => {
    sym = nmSymbols();
    dom0 = FakeDom0.create({ domains: [] });
    const booted = await bootDomain(dom0.dir, DOMID, NAME);
    qemu = booted.qemu;
    dom0.write({ domains: [booted.domain] });
    text = ['counter_tick', 'worker_step'].map((n) => ({ address: sym.get(n)!, size: 32 }));
    textBefore = await readThroughQemu(qemu, text);
  });
  afterAll(async () => {
    await qemu?.kill();
    dom0?.close();
  });

  const paused = () => dom0.read().domains[0]!.pauseCount > 0;
  const guestRuns = () => qemu.waitForSerial(/counter: demo_counter=\d+/, 10_000, qemu.serialText.length);

  async function attach(domain: string): Promise<{ xen: XenAttachment; session: Session }> {
    const xen = await attachXen(domain);
    const session = new Session(xen.target);
    await session.start('interrupt');
    return { xen, session };
  }

  it('attaches by name, stops the domain and offers the kernel xl booted as symbols', async () => {
    const { xen, session } = await attach(NAME);
    expect(xen.domain).toMatchObject({ domid: DOMID, name: NAME, wasPaused: false, config: { type: 'pvh', kernel, cmdline: 'app=demo' } });
    expect(xen.symbols).toBe(kernel);
    expect(xen.description).toBe(`xen:${DOMID} (${NAME})`);
    expect(paused()).toBe(true);
    expect((await session.threads()).map((t) => t.id)).toEqual([1, 2]);
    await session.detach();
    await xen.cleanup();
    expect(paused()).toBe(false);
    await guestRuns();
  });

  it('breaks at counter_tick (PC put back from bp+1), continues to the next hit, steps, interrupts with xl pause', async () => {
    const { xen, session } = await attach(String(DOMID));
    try {
      const tick = sym.get('counter_tick')!;
      const bp = await session.addBreakpoint({ kind: 'address', address: tick });
      for (let i = 1; i <= 2; i++) {
        const stop = await session.continue();
        expect(stop).toMatchObject({ kind: 'breakpoint', pc: tick });
        if (stop.kind !== 'breakpoint') throw new Error(`continue stopped with ${stop.kind}`);
        expect((await xen.target.readRegisters(stop.thread)).get('rip')).toBe(tick);
        expect(bp.hits).toBe(i);
      }
      const step = await session.stepInstruction(stoppedOn(session));
      if (step.kind !== 'step') throw new Error(`stepi stopped with ${step.kind}`);
      expect(step.pc).toBeGreaterThan(tick);
      await session.deletePoint(bp.id);

      const running = session.continue();
      await new Promise((r) => setTimeout(r, 200));
      expect(paused()).toBe(false);
      await session.interrupt();
      expect(await running).toMatchObject({ kind: 'interrupt' });
      expect(paused()).toBe(true);
    } finally {
      await session.detach();
      await xen.cleanup();
    }
    expect(paused()).toBe(false);
  });

  it('restores every breakpoint byte on detach (compared through a fresh QEMU connection)', async () => {
    const { xen, session } = await attach(NAME);
    for (const r of text) await session.addBreakpoint({ kind: 'address', address: r.address });
    expect(Buffer.from(await xen.target.readMemory(text[0]!.address, 1))[0]).toBe(0xcc);
    await session.continue();
    await session.detach();
    await xen.cleanup();
    await guestRuns();
    expect(await readThroughQemu(qemu, text)).toEqual(textBefore);
  });

  it('leaves a domain that was paused at attach paused, yet lets it run while debugging', async () => {
    dom0.xl('pause', NAME);
    const { xen, session } = await attach(String(DOMID));
    expect(xen.domain.wasPaused).toBe(true);
    const bp = await session.addBreakpoint({ kind: 'address', address: sym.get('counter_tick')! });
    expect(await session.continue()).toMatchObject({ kind: 'breakpoint' });
    await session.deletePoint(bp.id);
    await session.detach();
    await xen.cleanup();
    expect(dom0.read().domains[0]!.pauseCount).toBe(1);
    expect(dom0.xl('list', NAME)).toMatch(/--p---/);
    dom0.xl('unpause', NAME);
    await guestRuns();
  });

  it('runs `duster attach xen:NAME` in batch mode and leaves the domain running', async () => {
    const out = { stdout: '', stderr: '' };
    const sink = (k: 'stdout' | 'stderr') => new PassThrough().on('data', (d: Buffer) => (out[k] += d.toString()));
    const tick = `0x${sym.get('counter_tick')!.toString(16)}`;
    const code = await main(['attach', `xen:${NAME}`, '--batch', '-ex', `break *${tick}`, '-ex', 'continue', '-ex', 'info registers rip'], {
      stdout: sink('stdout'),
      stderr: sink('stderr'),
      stdin: new PassThrough(),
    });
    expect(out.stderr).toBe('');
    expect(code).toBe(0);
    expect(out.stdout).toContain(`duster: attached to xen:${DOMID} (${NAME}), symbols from ${kernel}`);
    expect(out.stdout).toMatch(new RegExp(`^rip\\s+${tick}\\s`, 'm'));
    expect(paused()).toBe(false);
    await guestRuns();
  });

  it('gdbsx dying mid-session: one clear error, cleanup still runs, the domain runs again', async () => {
    const notes: string[] = [];
    const xen = await attachXen(NAME, { log: (l) => notes.push(l) });
    const session = new Session(xen.target);
    await session.start('interrupt');
    process.kill(dom0.read().gdbsxPid!, 'SIGKILL');
    await expect(session.stepInstruction(stoppedOn(session))).rejects.toThrow(/connection closed/);
    await xen.cleanup();
    expect(notes).toEqual([`gdbsx was killed by SIGKILL during the session; domain ${DOMID} (${NAME}) left running as found`]);
    expect(paused()).toBe(false);
    await guestRuns();
  });
});
