// Memory bounded by what is asked, on a live guest and on a dump of it: an expression whose type
// claims gigabytes (a cast to a huge array, as a mutated or hostile DWARF type could too) and an
// `x` with a huge count end in one-line errors, without allocating what they claim (VmPeak, which
// any large allocation raises, grows by less than 64 MiB) and without reading that much.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandInterpreter } from '../../src/commands/interpreter.js';
import { Program } from '../../src/engine/program.js';
import { Session } from '../../src/engine/session.js';
import { type QemuInstance } from '../../src/qemu/index.js';
import { bootGuest } from '../support/guest.js';
import { openDump } from '../../src/targets/dump/index.js';
import { LiveTarget, type Target } from '../../src/targets/index.js';
import { vmPeak } from '../support/fuzz.js';

const root = path.resolve(import.meta.dirname, '../../fixtures/unikernel');
const kernel = path.join(root, 'build/gcc-O0/kernel.elf');

/** Each command and what it must say: refused, or (a long array) its first elements only. */
const HUGE: Array<[string, RegExp]> = [
  ['print {char[4294967296]} &demo_counter', /<error: value requires 4294967296 bytes, which is more than max-value-size>/],
  ['print demo_counter@1000000000', /^bad repeat count 1000000000$/],
  ['print threads[0]@100000000', /^bad repeat count 100000000$/],
  ['print/x {long[536870912]} &demo_counter', /^\$\d+ = \{0x[0-9a-f]+, .*\.\.\.\}$/],
  ['x/4294967296xb &demo_counter', /^count 4294967296 out of range \(1\.\.65536\)$/],
  ['x/1000000000xg &demo_counter', /^count 1000000000 out of range/],
];

describe('values and reads that claim gigabytes (integration)', () => {
  let q: QemuInstance;
  let dir: string;
  let program: Program;
  const targets: Array<{ name: string; target: Target }> = [];

  beforeAll(async () => {
    execFileSync('make', ['-s', '-C', root]);
    dir = mkdtempSync(path.join(os.tmpdir(), 'duster-bounds-'));
    program = await Program.load(kernel);
    q = await bootGuest({ image: kernel, smp: 2, memory: '32M', append: 'app=demo', gdb: 'unix' });
    await q.waitForSerial(/worker-\d step/, 20_000);
    const live = await LiveTarget.connect(q.gdbAddress!);
    await q.dumpGuestMemory(path.join(dir, 'guest.core'));
    targets.push({ name: 'live', target: live }, { name: 'dump', target: await openDump(path.join(dir, 'guest.core')) });
  });
  afterAll(async () => {
    for (const t of targets) await t.target.close();
    program?.close();
    await q?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(['live', 'dump'])('refuses them on the %s target and keeps working', async (name) => {
    const { target } = targets.find((t) => t.name === name)!;
    const s = new Session(target);
    await s.loadProgram(program);
    await s.start(name === 'dump' ? 'dump' : 'interrupt');
    const cli = new CommandInterpreter({ session: s, out: () => {}, err: () => {} });
    for (const [line, says] of HUGE) {
      const peak = vmPeak();
      const t = performance.now();
      const r = await cli.execute(line);
      expect((r.error ?? r.text).trim(), line).toMatch(says);
      expect(performance.now() - t, line).toBeLessThan(2000);
      expect(vmPeak() - peak, `${line}: VmPeak growth`).toBeLessThan(64 << 20);
    }
    // Still answering, and ordinary values still print.
    const ok = await cli.execute('print sizeof(threads)');
    expect(ok).toMatchObject({ ok: true });
    expect(ok.text).toMatch(/= \d+/);
    expect((await cli.execute('x/4xg &demo_counter')).ok).toBe(true);
    if (name === 'live') await s.detach();
  });
});
