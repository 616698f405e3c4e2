// Integration: a guest panic is shown on the vCPU that panicked, every time. QEMU reports the
// pvpanic VM stop on whichever vCPU it likes (about half the runs it is the one the panic IPI
// stopped, or a spinner); the engine's stop names the vCPU of the CPU the guest's panic record
// gives, and the CLI's commands then run there. 20 boots of the crash app on 2 vCPUs, checked
// against what the guest printed (`cpu=N`) and the backtrace of that vCPU (crash_write under the
// trap frame).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CommandInterpreter } from '../../src/commands/interpreter.js';
import { openSession } from '../../src/open/index.js';

const root = path.resolve(import.meta.dirname, '../../fixtures/unikernel');
const kernel = path.join(root, 'build/gcc-O0/kernel.elf');
const RUNS = 20;

describe('the panicking vCPU is selected (integration)', () => {
  it(`in ${RUNS} of ${RUNS} runs of the crash app, by the engine's stop and the CLI's bt`, { timeout: RUNS * 30_000 }, async () => {
    execFileSync('make', ['-s', '-C', root]);
    let moved = 0;
    for (let run = 0; run < RUNS; run++) {
      const opened = await openSession({ kind: 'launch', image: kernel, smp: 2, append: 'app=crash' });
      try {
        let serial = '';
        opened.qemu!.on('serial', (d) => (serial += d));
        // Which vCPU QEMU's own stop reply named, before the engine looked at the guest's record.
        let reportedOn: number | undefined;
        const resume = opened.session.target.resume.bind(opened.session.target);
        opened.session.target.resume = async (...a) => {
          const r = await resume(...a);
          if (r.kind !== 'exited') reportedOn = r.thread;
          return r;
        };
        const cli = new CommandInterpreter({ session: opened.session, out: () => {}, err: () => {} });
        const stop = (await cli.execute('continue')).data as { reason: string; thread: number; panic?: { cpu: number } };
        const printed = /cpu=(\d+)\s*$/m.exec(serial);
        expect(stop.reason, `run ${run}`).toBe('panic');
        expect(printed, `run ${run}: the guest printed its panic`).not.toBeNull();
        const cpu = Number(printed![1]);
        expect(stop.panic?.cpu, `run ${run}`).toBe(cpu);
        expect(stop.thread, `run ${run}`).toBe(cpu + 1);
        const bt = (await cli.execute('bt')).text;
        expect(bt, `run ${run}`).toMatch(/<signal handler called>[\s\S]*crash_write/);
        if (reportedOn !== cpu + 1) moved++;
      } finally {
        await opened.close({ terminate: true });
      }
    }
    console.log(`QEMU reported the panic on another vCPU than the one that panicked in ${moved} of ${RUNS} runs`);
  });
});
