// Integration: a stop's frames are computed at that stop. A logpoint (or a condition) evaluated
// at an earlier internal stop of the same run unwinds the stack there; the stop the user sees must
// not reuse that unwind. One vCPU, so both stops are certainly on the same one.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Program } from '../../src/engine/program.js';
import { Session } from '../../src/engine/session.js';
import { launchQemu, type QemuInstance } from '../../src/qemu/index.js';
import { LiveTarget } from '../../src/targets/index.js';

const root = path.resolve(import.meta.dirname, '../../fixtures/unikernel');
const kernel = path.join(root, 'build/gcc-O0/kernel.elf');
const demo = path.join(root, 'src/app_demo.c');

describe('frames at a stop after internal stops (integration)', () => {
  let q: QemuInstance;
  let target: LiveTarget;
  let session: Session;

  beforeAll(async () => {
    execFileSync('make', ['-s', '-C', root]);
    q = await launchQemu({ image: kernel, smp: 1, append: 'app=demo', gdb: 'unix', paused: true });
    target = await LiveTarget.connect(q.gdbAddress!);
    session = new Session(target);
    await session.loadProgram(await Program.load(kernel));
    await session.start();
  });
  afterAll(async () => {
    await target?.close();
    await q?.kill();
  });

  it('shows the line of the breakpoint, not of the logpoint evaluated just before', async () => {
    const logs: string[] = [];
    session.on('output', (_c, text) => logs.push(text));
    const log = await session.addBreakpoint({ kind: 'line', file: demo, line: 230 }, { logMessage: 'before {demo_counter}' });
    const bp = await session.addBreakpoint({ kind: 'line', file: demo, line: 231 });
    const stop = await session.continue();
    expect(stop).toMatchObject({ kind: 'breakpoint', breakpoints: [bp] });
    if (stop.kind !== 'breakpoint') throw new Error(`continue stopped with ${stop.kind}`);
    expect(logs.some((l) => /^before \d+\n$/.test(l))).toBe(true);
    const [top] = await session.frames(stop.thread);
    expect(top).toMatchObject({ function: 'counter_tick', line: 231, pc: stop.pc });
    await session.deletePoint(log.id);
    await session.deletePoint(bp.id);
  });
});
