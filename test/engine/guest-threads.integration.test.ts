// Integration: run control that keeps to one unikernel thread on the reference unikernel (-smp 2,
// app=demo, the 100 Hz timer preempting threads throughout). Which thread a vCPU runs is read the
// way kernel.h documents it, percpu[cpu_index].current_thread with cpu_index = vCPU - 1, not
// through duster's thread model. 50 `next`s in a worker never land in another thread while the
// other worker runs the same code; `finish` and a breakpoint restricted with `thread 2.ID` keep
// to their thread; `thread 2.ID` of a switched-out thread shows its frames and locals, and
// `finish` from one of them runs that thread back into its caller.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandInterpreter } from '../../src/commands/interpreter.js';
import type { Session } from '../../src/engine/session.js';
import { attachGuest, detachGuest, type AttachedGuest } from '../support/guest.js';

describe('run control per unikernel thread (integration)', () => {
  let guest: AttachedGuest;
  let session: Session;
  let cli: CommandInterpreter;
  let serial = '';

  const exec = async (line: string) => {
    const r = await cli.execute(line);
    if (!r.ok) throw new Error(`${line}: ${r.error}`);
    return r;
  };
  /** The vCPU the session last stopped on. */
  const stopped = () => {
    const stop = session.stop!;
    if (stop.kind === 'exited') throw new Error('the guest exited');
    return stop.thread;
  };
  const int = async (expr: string) => Number((await session.evaluate(expr, { thread: stopped(), level: 0 })).text);
  /** The guest thread id the stopped vCPU runs, from the kernel's own per-CPU table. */
  const runningId = () => int(`percpu[${stopped() - 1}].current_thread->id`);
  const idOf = (name: string) => Number(new RegExp(`thread (\\d+) ${name} started`).exec(serial)![1]);

  beforeAll(async () => {
    guest = await attachGuest();
    ({ session } = guest);
    guest.qemu.on('serial', (d: string) => (serial += d));
    cli = new CommandInterpreter({ session, out: () => {}, err: () => {} });
    await exec('break counter_tick');
    await exec('continue');
    await exec('continue');
    await exec('delete');
    expect(serial).toMatch(/thread \d+ worker-2 started/);
  });
  afterAll(() => detachGuest(guest));

  it('next 50 times in a worker never lands in another thread', async () => {
    await exec('break worker_step');
    await exec('continue');
    await exec('delete');
    const me = await runningId();
    const other = me === idOf('worker-1') ? 'workers[1]' : 'workers[0]';
    const otherSteps = await int(`${other}.steps`);
    const ticks = await int('ticks');
    const vcpus = new Set<number>();
    for (let i = 0; i < 50; i++) {
      const stop = await session.stepLine('over', { thread: stopped(), level: 0 });
      if (stop.kind !== 'step') throw new Error(`next stopped with ${stop.kind}`);
      expect(await runningId()).toBe(me);
      expect((await session.frames(stop.thread, 1))[0]!.function).toMatch(/^worker_(step|thread)$/);
      vcpus.add(stop.thread);
    }
    // Meanwhile the timer kept preempting and the other worker ran the very code being stepped.
    expect(await int('ticks')).toBeGreaterThan(ticks);
    expect(await int(`${other}.steps`)).toBeGreaterThan(otherSteps);
    console.log(
      `50 next: vCPUs ${[...vcpus].join(',')}, ${(await int('ticks')) - ticks} ticks, other worker +${(await int(`${other}.steps`)) - otherSteps} steps`,
    );
  });

  it('stops at a breakpoint restricted to one thread only in that thread, and finish stays with it', async () => {
    const w2 = idOf('worker-2');
    await exec(`break worker_step thread 2.${w2}`);
    const otherSteps = await int('workers[0].steps');
    for (let i = 0; i < 3; i++) {
      const stop = await session.continue();
      expect(stop.kind).toBe('breakpoint');
      expect(await runningId()).toBe(w2);
    }
    // worker-1 ran worker_step meanwhile, past the same breakpoint.
    expect(await int('workers[0].steps')).toBeGreaterThan(otherSteps);
    await exec('delete');
    const { frames } = await session.backtrace(stopped());
    const caller = frames[1]!;
    const stop = await session.finish({ thread: stopped(), level: 0 });
    if (stop.kind !== 'step') throw new Error(`finish stopped with ${stop.kind}`);
    expect(await runningId()).toBe(w2);
    const now = (await session.frames(stop.thread, 1))[0]!;
    expect([now.function, now.cfa]).toEqual([caller.function, caller.cfa]);
  });

  it('selects a switched-out thread, shows its frames and locals, and finishes one of them in that thread', async () => {
    // Stop in one worker while the other is switched out (on neither vCPU, by the kernel's table).
    let id = -1;
    let worker = 0;
    for (let tries = 0; ; tries++) {
      expect(tries).toBeLessThan(20);
      await exec('break worker_step');
      await exec('continue');
      await exec('delete');
      [id, worker] = (await runningId()) === idOf('worker-1') ? [idOf('worker-2'), 2] : [idOf('worker-1'), 1];
      if (![await int('percpu[0].current_thread->id'), await int('percpu[1].current_thread->id')].includes(id)) break;
    }
    expect((await exec(`thread 2.${id}`)).text).toMatch(
      new RegExp(`^\\[Switching to thread 2\\.${id} "worker-${worker}" \\(THREAD_\\w+, saved context\\)\\]`),
    );
    const { frames } = (await exec('bt')).data as { frames: Array<{ level: number; function?: string; cfa?: string }> };
    expect(frames[0]!.function).toBe('schedule_locked');
    const loop = frames.find((f) => f.function === 'worker_thread')!;
    await exec(`frame ${loop.level}`);
    expect((await exec('info locals')).text).toMatch(/^w = 0x[0-9a-f]+ <workers(\+\d+)?>$/m);
    expect((await exec('print w->id')).text).toMatch(new RegExp(`= ${worker}\\n`));
    await expect(session.stepInstruction(cli.ctx.selected.thread)).rejects.toThrow(/switched out/);
    // finish from frame 1 (what called schedule_locked) runs this thread, wherever it resumes.
    await exec('frame 1');
    const stop = await session.finish(cli.ctx.selected);
    if (stop.kind !== 'step') throw new Error(`finish stopped with ${stop.kind}`);
    expect(await runningId()).toBe(id);
    const now = (await session.frames(stop.thread, 1))[0]!;
    expect([now.function, now.cfa && `0x${now.cfa.toString(16)}`]).toEqual([frames[2]!.function, frames[2]!.cfa]);
  });
});
