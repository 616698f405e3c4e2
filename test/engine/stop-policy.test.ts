// The stop policy over a scripted machine: what a raw stop means for the user. Conditions, ignore
// and hit counts, logpoints, thread filters, temporary breakpoints, watch values, traps nobody
// planted, and a guest panic shown on the vCPU the guest says panicked (QEMU reports the pvpanic
// stop on whichever vCPU it likes).
import { describe, expect, it } from 'vitest';
import { BreakpointTable } from '../../src/engine/breakpoint-table.js';
import { Sites } from '../../src/engine/breakpoints.js';
import { CodeView } from '../../src/engine/code-view.js';
import type { GuestOs } from '../../src/engine/guest-os.js';
import type { GuestThreads } from '../../src/engine/guest-threads.js';
import type { RawStop } from '../../src/engine/run-control.js';
import type { Backtrace, FrameContext } from '../../src/engine/stack.js';
import { StopPolicy, type StopHooks } from '../../src/engine/stop-policy.js';
import { ScriptedTarget } from '../support/scripted-target.js';

const BP = 0x10_0000n;

function setup(
  opts: { hooks?: Partial<StopHooks>; os?: GuestOs; status?: string; running?: Record<number, bigint>; frames?: Backtrace } = {},
) {
  const target = new ScriptedTarget({ 1: { rip: BP, rsp: 0x8000n }, 2: { rip: 0x20_0000n, rsp: 0x9000n } });
  const changed: number[] = [];
  const table = new BreakpointTable(target, new Sites(target), (p) => changed.push(p.id));
  const output: string[] = [];
  const hooks: StopHooks = { evaluateCondition: async () => true, formatLogMessage: async (m) => m, ...opts.hooks };
  const guest = opts.running && ({ currentOn: async (vcpu: number) => opts.running![vcpu] } as unknown as GuestThreads);
  const policy = new StopPolicy({
    target,
    table,
    code: new CodeView(
      target,
      (t) => target.readRegisters(t),
      () => undefined,
    ),
    hooks: () => hooks,
    program: () => undefined,
    os: () => opts.os,
    guest: () => guest,
    backtrace: async () => opts.frames ?? { frames: [] },
    machine: opts.status === undefined ? undefined : { status: async () => opts.status! },
    output: (_c, text) => output.push(text),
  });
  const at = async (spec: bigint) => [{ address: spec }];
  const addBreakpoint = (o: Parameters<BreakpointTable['addBreakpoint']>[2] = {}) =>
    table.addBreakpoint({ kind: 'address', address: BP }, (s) => at((s as { address: bigint }).address), o);
  return { target, table, policy, output, changed, addBreakpoint };
}

const trap = (thread = 1, pc = BP): RawStop => ({ reason: { kind: 'trap', thread }, pc });

describe('StopPolicy', () => {
  it('stops at a breakpoint and counts the hit', async () => {
    const { policy, addBreakpoint } = setup();
    const bp = await addBreakpoint();
    expect(await policy.decide(trap(), false)).toMatchObject({ kind: 'breakpoint', thread: 1, pc: BP, breakpoints: [bp], hiddenInline: 0 });
    expect(bp.hits).toBe(1);
  });

  it('goes on past a false condition, an ignore count and an unmet hit condition', async () => {
    let ok = false;
    const { policy, addBreakpoint } = setup({ hooks: { evaluateCondition: async () => ok } });
    const bp = await addBreakpoint({ condition: 'x == 1' });
    expect(await policy.decide(trap(), false)).toBeUndefined();
    expect(bp.hits).toBe(0);
    ok = true;
    bp.ignoreCount = 1;
    expect(await policy.decide(trap(), false)).toBeUndefined();
    expect(await policy.decide(trap(), false)).toMatchObject({ kind: 'breakpoint' });
    expect(bp.hits).toBe(2);
  });

  it('stops on every third hit with hit condition % 3', async () => {
    const { policy, addBreakpoint } = setup();
    const bp = await addBreakpoint({ hitCondition: '% 3' });
    const kinds = [];
    for (let i = 0; i < 6; i++) kinds.push((await policy.decide(trap(), false))?.kind);
    expect(kinds).toEqual([undefined, undefined, 'breakpoint', undefined, undefined, 'breakpoint']);
    expect(bp.hits).toBe(6);
  });

  it('stops with the reason when a condition cannot be evaluated, as gdb does', async () => {
    const { policy, output, addBreakpoint } = setup({
      hooks: { evaluateCondition: async () => Promise.reject(new Error('No symbol "y" in current context.')) },
    });
    const bp = await addBreakpoint({ condition: 'y' });
    expect(await policy.decide(trap(), false)).toMatchObject({ kind: 'breakpoint', breakpoints: [bp] });
    expect(output).toEqual([`Error in testing condition for breakpoint ${bp.id}: No symbol "y" in current context.\n`]);
  });

  it('prints a logpoint and does not stop', async () => {
    const { policy, output, addBreakpoint } = setup({ hooks: { formatLogMessage: async (m) => m.replace('{x}', '7') } });
    await addBreakpoint({ logMessage: 'x is {x}' });
    expect(await policy.decide(trap(), false)).toBeUndefined();
    expect(output).toEqual(['x is 7\n']);
  });

  it('keeps thread breakpoints to their vCPU and guest thread', async () => {
    const { policy, addBreakpoint } = setup({ running: { 1: 0xa000n, 2: 0xb000n } });
    await addBreakpoint({ thread: 2 });
    expect(await policy.decide(trap(1), false)).toBeUndefined();
    expect(await policy.decide(trap(2), false)).toMatchObject({ kind: 'breakpoint', thread: 2 });
    const { policy: p2, addBreakpoint: add2 } = setup({ running: { 1: 0xa000n, 2: 0xb000n } });
    await add2({ guestThread: { address: 0xb000n, id: 4 } });
    expect(await p2.decide(trap(1), false)).toBeUndefined();
    expect(await p2.decide(trap(2), false)).toMatchObject({ kind: 'breakpoint', thread: 2 });
  });

  it('deletes a temporary breakpoint at its hit and says so', async () => {
    const { policy, table, target, changed, addBreakpoint } = setup();
    const bp = await addBreakpoint({ temporary: true });
    expect(await policy.decide(trap(), false)).toMatchObject({ kind: 'breakpoint' });
    expect(table.all()).toEqual([]);
    expect(changed).toEqual([bp.id]);
    expect(target.log).toEqual([`Z sw ${BP.toString(16)}`, `z sw ${BP.toString(16)}`]);
  });

  it('reports a changed write watch with old and new values, and not an unchanged one', async () => {
    const { policy, table, target } = setup();
    target.poke(0x5000n, [1, 0, 0, 0]);
    const wp = await table.addWatchpoint({ expression: 'n', address: 0x5000n, length: 4, access: 'write' });
    const hit: RawStop = { reason: { kind: 'trap', thread: 1, watch: { access: 'write', address: 0x5000n } }, pc: BP };
    expect(await policy.decide(hit, false)).toBeUndefined();
    target.poke(0x5000n, [2, 0, 0, 0]);
    const stop = await policy.decide(hit, false);
    expect(stop).toMatchObject({
      kind: 'watchpoint',
      watch: { point: wp, old: Uint8Array.from([1, 0, 0, 0]), value: Uint8Array.from([2, 0, 0, 0]) },
    });
    expect(wp.hits).toBe(1);
  });

  it('ends a step on an unexplained trap, and reports a trap nobody planted as SIGTRAP otherwise', async () => {
    const { policy } = setup();
    expect(await policy.decide(trap(1, 0x1234n), true)).toMatchObject({ kind: 'step', pc: 0x1234n });
    expect(await policy.decide(trap(1, 0x1234n), false)).toMatchObject({ kind: 'signal', signal: 5, name: 'SIGTRAP' });
    // A stale watch report (for no watch of ours) is nothing.
    expect(await policy.decide({ ...trap(1, 0x1234n), staleWatch: true }, false)).toBeUndefined();
  });

  it('shows a pvpanic stop on the vCPU whose CPU the guest says panicked, with its record', async () => {
    const panic = { cpu: 1, pc: 0x20_0000n, message: 'PANIC: Page Fault (vector 14)' };
    const os = { name: 'test', panic: async () => panic, kernelLog: async () => undefined } as GuestOs;
    const { policy } = setup({ os, status: 'guest-panicked' });
    // QEMU reported the VM stop (signal 143) on vCPU 1; CPU 1 is vCPU 2.
    const stop = await policy.decide({ reason: { kind: 'signal', thread: 1, signal: 143 }, pc: BP }, false);
    expect(stop).toMatchObject({ kind: 'panic', thread: 2, pc: 0x20_0000n, panic });
  });

  it('keeps a panic on the reporting vCPU when the guest recorded none, and a plain signal when QEMU is not panicked', async () => {
    const { policy } = setup({ status: 'guest-panicked' });
    expect(await policy.decide({ reason: { kind: 'signal', thread: 1, signal: 143 }, pc: BP }, false)).toEqual({
      kind: 'panic',
      thread: 1,
      pc: BP,
      hiddenInline: 0,
    });
    const { policy: running } = setup({ status: 'running' });
    expect(await running.decide({ reason: { kind: 'signal', thread: 2, signal: 11 }, pc: BP }, false)).toMatchObject({
      kind: 'signal',
      thread: 2,
      name: 'SIGSEGV',
    });
  });

  it('opens a dump on the vCPU that panicked', async () => {
    const os = { name: 'test', panic: async () => ({ cpu: 1, pc: 0x20_0000n }), kernelLog: async () => undefined } as GuestOs;
    expect(await setup({ os }).policy.opened(1, BP)).toMatchObject({ kind: 'panic', thread: 2, pc: 0x20_0000n });
    expect(await setup().policy.opened(1, BP)).toEqual({ kind: 'dump', thread: 1, pc: BP, hiddenInline: 0 });
  });

  it('stops at a crash site as a guest panic when its condition holds, with the frame the trap interrupted as where', async () => {
    const SITE = 0x11_2980n;
    const frame = (level: number, pc: bigint, fn: string, signalFrame = false) =>
      ({ level, pc, lookupPc: pc, function: fn, signalFrame, inlined: false, unwoundBy: 'cfi' }) as unknown as FrameContext;
    const frames = [
      frame(0, SITE, 'ukplat_terminate'),
      frame(1, 0x10_20a9n, 'do_page_fault'),
      frame(2, 0n, 'asm_trap_page_fault', true),
      frame(3, 0x11_5575n, 'crash_inner'),
    ];
    const os = {
      name: 'Unikraft',
      panic: async () => undefined,
      kernelLog: async () => undefined,
      crashSites: [{ function: 'ukplat_terminate', address: SITE, when: '$rdi == 3', meaning: 'ukplat_terminate(UKPLAT_CRASH)' }],
    } as GuestOs;
    let crashing = true;
    const asked: string[] = [];
    const evaluateCondition = async (e: string) => (asked.push(e), crashing);
    const { policy } = setup({ os, frames: { frames }, hooks: { evaluateCondition } });
    expect(await policy.decide(trap(2, SITE), false)).toMatchObject({
      kind: 'panic',
      thread: 2,
      pc: SITE,
      panic: {
        cpu: 1,
        pc: 0x11_5575n,
        message: 'Unikraft crashed: do_page_fault called ukplat_terminate(UKPLAT_CRASH)',
        caughtAt: 'ukplat_terminate',
        frame: 3,
      },
    });
    expect(asked).toEqual(['$rdi == 3']);
    // ukplat_terminate for a clean halt is no crash, and no trap of the guest's own either: run on.
    crashing = false;
    expect(await policy.decide(trap(2, SITE), false)).toBeUndefined();
  });
});
