// Clean detach: after break, watch and step sessions the guest's memory is what it was, our
// breakpoints and watchpoints are gone, and the guest runs on. Memory is read by QEMU itself (QMP
// pmemsave), not through the gdbstub duster used. What "what it was" can honestly mean:
// - read-only sections (.text, .rodata, .eh_frame, the PVH note) equal the image's bytes, except
//   where the CPU itself wrote (it sets the accessed bit of the GDT descriptors it loads, and the
//   GDT is in .rodata): compared with how they were before the first attach, always;
// - .data equals its bytes before the session: the demo app never writes .data after boot (see the
//   control below, with no debugger attached);
// - all writable memory (.data and .bss: stacks, counters, the kernel log) is unchanged across
//   every interval in which the guest was stopped: from attach, through breakpoints, watchpoints,
//   backtraces, locals, prints and deletes, to just before detach; the guest itself writes .bss
//   whenever it runs, so that is all that can be compared there;
// - and the packet log shows duster sent no memory or register writes (M, X, G, P), and removed
//   every Z it inserted.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandInterpreter } from '../../src/commands/interpreter.js';
import { Program } from '../../src/engine/program.js';
import { Session } from '../../src/engine/session.js';
import { type QemuInstance } from '../../src/qemu/index.js';
import { bootGuest } from '../support/guest.js';
import { LiveTarget } from '../../src/targets/index.js';
import {
  imageDifferences,
  imageSections,
  pointsLeft,
  snapshot,
  snapshotDifferences,
  writesIn,
  type ImageSection,
} from '../support/guest-memory.js';
import { RspProxy } from '../support/rsp-proxy.js';

const root = path.resolve(import.meta.dirname, '../../fixtures/unikernel');
const kernel = path.join(root, 'build/gcc-O0/kernel.elf');

/** Commands that leave the guest stopped: what is done at a stop, ending with every point deleted. */
const AT_A_STOP = [
  'bt',
  'info locals',
  'info registers',
  'print demo_counter',
  'print demo_config',
  'x/16xg $sp',
  'ptype struct thread',
  'info threads',
  'break counter_tick',
  'hbreak fib',
  'tbreak worker_step',
  'watch demo_counter',
  'rwatch demo_config.max_items',
  'awatch matrix[1][2]',
  'info breakpoints',
  'delete',
];

const SESSIONS: Record<string, string[]> = {
  break: ['break worker_step', 'continue', 'continue'],
  watch: ['watch demo_counter', 'continue', 'continue'],
  step: ['break worker_step', 'continue', 'delete', 'next', 'next', 'step', 'finish', 'stepi', 'stepi', 'nexti', 'next'],
};

describe('clean detach (integration)', () => {
  let q: QemuInstance;
  let program: Program;
  let sections: ImageSection[];
  let readOnlyBefore: Map<string, Buffer>;
  let dataBefore: Buffer;

  const data = async () => (await snapshot(q, sections, true)).get('.data')!;
  const readOnlyChanges = async () => snapshotDifferences(readOnlyBefore, await snapshot(q, sections, false), sections);

  beforeAll(async () => {
    execFileSync('make', ['-s', '-C', root]);
    sections = await imageSections(kernel);
    program = await Program.load(kernel);
    q = await bootGuest({ image: kernel, smp: 2, append: 'app=demo', gdb: 'unix' });
    await q.waitForSerial(/counter: demo_counter=\d+/, 20_000);
    readOnlyBefore = await snapshot(q, sections, false);
    dataBefore = await data();
  });
  afterAll(async () => {
    program?.close();
    await q?.kill();
  });

  it('control: with no debugger, the running guest leaves .data and the read-only sections alone', async () => {
    expect(sections.map((s) => s.name)).toEqual(['.note.Xen', '.text', '.rodata', '.eh_frame', '.note.gnu.build-id', '.data', '.bss']);
    // Before any debugger: the image's bytes, but for the accessed bit (bit 0 of a descriptor's
    // access byte, at offset 5) of GDT entries the CPU loaded.
    const gdt = program.symbols.findSymbol('gdt')[0]!.address;
    const cpu = imageDifferences(readOnlyBefore, sections);
    expect(cpu.length).toBeGreaterThan(0);
    for (const d of cpu)
      expect(d.got === (d.want | 1) && d.address >= gdt && (d.address - gdt) % 8n === 5n, `0x${d.address.toString(16)}`).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    expect(await readOnlyChanges()).toEqual([]);
    expect((await data()).equals(dataBefore)).toBe(true);
  });

  async function session(script: string[]): Promise<void> {
    const proxy = await RspProxy.start(q.gdbAddress!);
    try {
      const s = new Session(await LiveTarget.connect(proxy.address));
      await s.loadProgram(program);
      await s.start('interrupt');
      const cli = new CommandInterpreter({ session: s, out: () => {}, err: () => {} });
      const run = async (line: string) => {
        const r = await cli.execute(line);
        expect(r.ok, `${line}: ${r.error}`).toBe(true);
      };
      // Stopped since attach: nothing may change until the guest is resumed.
      const attached = await snapshot(q, sections, true);
      for (const line of AT_A_STOP) await run(line);
      expect(snapshotDifferences(attached, await snapshot(q, sections, true), sections)).toEqual([]);
      for (const line of script) await run(line);
      // Stopped again where the script ended: the same holds there.
      const stopped = await snapshot(q, sections, true);
      for (const line of AT_A_STOP) await run(line);
      expect(snapshotDifferences(stopped, await snapshot(q, sections, true), sections)).toEqual([]);
      await run('delete');
      await run('detach');
      expect(writesIn(proxy.packets)).toEqual([]);
      expect(pointsLeft(proxy.packets)).toEqual([]);
      expect(proxy.packets.some((p) => p.dir === 'c2s' && /^\$D/.test(p.data))).toBe(true);
    } finally {
      await proxy.close();
    }
  }

  for (const [name, script] of Object.entries(SESSIONS)) {
    it(`after a ${name} session: memory as it was, no point left, the guest runs on`, async () => {
      await session(script);
      expect(await readOnlyChanges()).toEqual([]);
      expect((await data()).equals(dataBefore)).toBe(true);
      const seen = q.serialText.length;
      await q.waitForSerial(/counter: demo_counter=\d+/, 10_000, seen);
      expect(await q.status()).toBe('running');
    });
  }
});
