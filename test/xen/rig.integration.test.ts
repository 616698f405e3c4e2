// Integration against a REAL Xen: the rig (test/xen/rig.ts) boots Xen 4.17 rebuilt with gdbsx and
// Debian's dom0 in QEMU TCG; duster runs as on a dom0, its `xl` and `gdbsx` being the real tools
// in dom0 reached through the rig's control channel. The reference unikernel is the PVH guest.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { openSession } from '../../src/open/index.js';
import { XenRig } from './rig.js';

let rig: XenRig;
let kernel: string;
let tmp: string;
let demoId: number;
const savedEnv = { ...process.env };

/** Runs the duster CLI in this process (PATH holds the rig's xl and gdbsx). */
async function duster(...args: string[]): Promise<{ code: number; stdout: string; stderr: string; seconds: number }> {
  const out = { stdout: '', stderr: '' };
  const sink = (k: 'stdout' | 'stderr') => new PassThrough().on('data', (d: Buffer) => (out[k] += d.toString()));
  const t0 = performance.now();
  const code = await main(args, { stdout: sink('stdout'), stderr: sink('stderr'), stdin: new PassThrough() });
  return { code, ...out, seconds: (performance.now() - t0) / 1000 };
}

async function domainRow(name: string): Promise<{ domid: number; state: string }> {
  const row = (await rig.xlOk('list', name)).split('\n')[1]!.trim().split(/\s+/);
  return { domid: Number(row[1]), state: row[4]! };
}

/** The bytes of `size` at `address` in the kernel ELF's .text, as the image holds them. */
function elfText(address: bigint, size: number): Buffer {
  const line = execFileSync('readelf', ['-SW', kernel], { encoding: 'utf8' })
    .split('\n')
    .find((l) => /\s\.text\s/.test(l))!;
  const [addr, off] = /PROGBITS\s+([0-9a-f]+)\s+([0-9a-f]+)/
    .exec(line)!
    .slice(1)
    .map((h) => BigInt(`0x${h}`));
  return readFileSync(kernel).subarray(Number(address - addr! + off!), Number(address - addr! + off!) + size);
}

function symbol(name: string): bigint {
  const line = execFileSync('nm', [kernel], { encoding: 'utf8' })
    .split('\n')
    .find((l) => l.endsWith(` ${name}`))!;
  return BigInt(`0x${line.split(' ')[0]}`);
}

/** `#N ...` frame lines of a backtrace, as the CLI and the report print them. */
const frameLines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^#\d+\s/.test(l));

describe('real Xen 4.17 with gdbsx (integration)', () => {
  beforeAll(async () => {
    rig = await XenRig.start();
    kernel = rig.build.guest;
    tmp = mkdtempSync(path.join(os.tmpdir(), 'duster-xen-test-'));
    Object.assign(process.env, rig.env);
    console.log(`Xen rig: ${rig.banner}; dom0 ready ${rig.bootSeconds.toFixed(1)} s after QEMU started`);
    await rig.xlOk('create', '/duster/demo.cfg');
    demoId = (await domainRow('demo')).domid;
  }, 45 * 60_000);
  afterAll(async () => {
    process.env = savedEnv;
    await rig?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }, 60_000);

  it('boots the reference unikernel as a PVH guest on both vCPUs, its console through the Xen console hypercall', async () => {
    expect(rig.banner).toMatch(/^Xen version 4\.17\.\d+/);
    await rig.waitForSerial(new RegExp(`\\(d${demoId}\\) .*duster reference unikernel: app=demo cpus=2`), 120_000);
    await rig.waitForSerial(new RegExp(`\\(d${demoId}\\) .*cpu 1 online`), 120_000);
    await rig.waitForSerial(new RegExp(`\\(d${demoId}\\) .*counter: demo_counter=100 `), 240_000);
  }, 300_000);

  it('duster attach DOMID: vCPUs as threads 1-2, guest threads, bt, registers, x/i, p, stepi; detach leaves it running, code unchanged', async () => {
    const r = await duster(
      'attach',
      String(demoId),
      '--symbols',
      kernel,
      '--batch',
      '-ex',
      'info threads',
      '-ex',
      'bt',
      '-ex',
      'info registers rip rsp eflags',
      '-ex',
      'x/4i $pc',
      '-ex',
      'p klog_head',
      '-ex',
      'p/x *(unsigned char *)counter_tick@8',
      '-ex',
      'stepi',
      '-ex',
      'thread 2',
      '-ex',
      'bt',
      '-ex',
      'detach',
    );
    console.log(`duster attach ${demoId} (whole batch session): ${r.seconds.toFixed(1)} s`);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`duster: attached to xen:${demoId} (demo)`);
    expect(r.stdout).toMatch(/^\* 1\s+Thread 1\.1 \(CPU 0\)\s+\S/m);
    expect(r.stdout).toMatch(/^ {2}2\s+Thread 1\.2 \(CPU 1\)\s+\S/m);
    for (const name of ['counter', 'worker-2', 'worker-1', 'consumer', 'producer', 'idle1', 'idle0'])
      expect(r.stdout).toMatch(new RegExp(`^\\*?\\s+2\\.\\d+\\s+${name}\\s+THREAD_`, 'm'));
    // Each vCPU runs exactly one listed guest thread.
    expect(r.stdout.match(/ CPU 0: /g)?.length).toBe(1);
    expect(r.stdout.match(/ CPU 1: /g)?.length).toBe(1);
    expect(frameLines(r.stdout)[0]).toMatch(/^#0\s+.* at src\/\w+\.[chS]:\d+$/);
    expect(r.stdout).toMatch(/^rip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <\w+/m);
    expect(r.stdout).toMatch(/^rsp\s+0x[0-9a-f]+/m);
    expect(r.stdout.match(/^(=>| {2}) 0x[0-9a-f]+ ?(<[^>]+>)?:\t/gm)?.length).toBeGreaterThanOrEqual(4);
    expect(r.stdout).toMatch(/^\$1 = [1-9]\d*$/m);
    const bytes = [...elfText(symbol('counter_tick'), 8)].map((b) => `0x${b.toString(16)}`).join(', ');
    expect(r.stdout).toContain(`$2 = {${bytes}}`);
    expect(r.stdout).toMatch(/\[Switching to thread 2 \(CPU 1\)/);
    expect(r.stdout).toContain('Detached; the guest keeps running.');
    expect((await domainRow('demo')).state).not.toContain('p');
    const from = rig.serial.length;
    await rig.waitForSerial(new RegExp(`\\(d${demoId}\\) .*counter: demo_counter=`), 240_000, from);
  }, 600_000);

  it('xen:NAME through openSession: continue, interrupt by xl pause, registers and memory; a domain found paused stays paused', async () => {
    await rig.xlOk('pause', 'demo');
    const t0 = performance.now();
    const opened = await openSession({ kind: 'xen', domain: 'demo', symbols: kernel });
    const attachSeconds = (performance.now() - t0) / 1000;
    const { session } = opened;
    try {
      const regs = await session.target.readRegisters(1);
      expect(regs.get('rip')).toBeGreaterThan(0x100000n);
      // One `m` of memory nothing read yet: a round trip through QEMU's forwarding to gdbsx.
      let t = performance.now();
      await session.target.readMemory(0x1f0000n, 8);
      const gMs = performance.now() - t;
      t = performance.now();
      const text = await session.target.readMemory(0x100000n, 65536);
      const bulkSeconds = (performance.now() - t) / 1000;
      expect(Buffer.from(text.subarray(0, 4096)).equals(elfText(0x100000n, 4096))).toBe(true);
      const running = session.continue();
      const timer = setTimeout(() => void session.interrupt(), 3000);
      const stop = await running;
      clearTimeout(timer);
      expect(stop.kind).toBe('interrupt');
      expect((await session.frames(1)).length).toBeGreaterThan(0);
      console.log(
        `xen:demo: attach ${attachSeconds.toFixed(1)} s, m round trip ${gMs.toFixed(0)} ms, 64 KiB in ${bulkSeconds.toFixed(1)} s (${(64 / bulkSeconds).toFixed(0)} KiB/s)`,
      );
    } finally {
      await opened.close();
    }
    expect((await domainRow('demo')).state).toContain('p');
    await rig.xlOk('unpause', 'demo');
    expect((await domainRow('demo')).state).not.toContain('p');
  }, 600_000);

  it('xl dump-core of the paused demo domain: duster core --report shows the backtraces the live session showed', async () => {
    await rig.xlOk('pause', 'demo');
    try {
      const live = await duster(
        'attach',
        'xen:demo',
        '--symbols',
        kernel,
        '--batch',
        '-ex',
        'thread 1',
        '-ex',
        'bt',
        '-ex',
        'thread 2',
        '-ex',
        'bt',
        '-ex',
        'detach',
      );
      expect(live.code).toBe(0);
      const core = path.join(tmp, 'demo.core');
      const t0 = performance.now();
      const dumped = await rig.xl('dump-core', String(demoId), core);
      const dumpSeconds = (performance.now() - t0) / 1000;
      expect(dumped.status).toBe(0);
      console.log(`xl dump-core of a 16 MiB domain: ${dumpSeconds.toFixed(1)} s, ${statSync(core).size} bytes`);
      const report = await duster('core', core, '--symbols', kernel, '--report');
      expect(report.stderr).toBe('');
      expect(report.code).toBe(0);
      // The frames each `bt` printed live, against the report's per-CPU backtraces.
      const liveBts = live.stdout
        .split('(duster) ')
        .filter((c) => c.startsWith('bt\n'))
        .map(frameLines);
      const cpuBt = (cpu: number) =>
        frameLines(new RegExp(`^CPU ${cpu} \\(thread 1\\.${cpu + 1}\\)\n(?:.*\n)*?\n`, 'm').exec(report.stdout)?.[0] ?? '');
      expect(liveBts).toHaveLength(2);
      expect(liveBts[0]!.length).toBeGreaterThan(0);
      expect([cpuBt(0), cpuBt(1)]).toEqual(liveBts);
      expect(report.stdout).toMatch(/^CPU 0 \(thread 1\.1\)/m);
      expect(report.stdout).toMatch(/^CPU 1 \(thread 1\.2\)/m);
      expect(report.stdout).toContain('duster reference unikernel: app=demo cpus=2');
    } finally {
      await rig.xlOk('unpause', 'demo');
    }
  }, 600_000);

  it('a domain that panicked and powered off (on_poweroff="preserve"): xl dump-core and duster core --report name the fault and its backtrace', async () => {
    await rig.xlOk('create', '/duster/crash.cfg');
    const { domid } = await domainRow('crash');
    await rig.waitForSerial(new RegExp(`\\(d${domid}\\) .*PANIC: Page Fault`), 240_000);
    for (let i = 0; i < 60 && !(await domainRow('crash')).state.includes('s'); i++) await new Promise((r) => setTimeout(r, 1000));
    expect((await domainRow('crash')).state).toContain('s');
    const core = path.join(tmp, 'crash.core');
    const dumped = await rig.xl('dump-core', String(domid), core);
    expect(dumped.status).toBe(0);
    const report = await duster('core', core, '--symbols', kernel, '--report');
    expect(report.code).toBe(0);
    expect(report.stdout).toMatch(/^Guest panicked on CPU \d: PANIC: Page Fault \(vector 14\)/m);
    expect(report.stdout).toMatch(/at 0x[0-9a-f]+ in crash_write at src\/app_crash\.c:\d+/);
    const frames = frameLines(report.stdout).join('\n');
    for (const fn of ['crash_write', 'crash_level2', 'crash_level1', 'crash_main', 'crasher_thread']) expect(frames).toContain(fn);
    expect(report.stdout).toContain('crasher: writing through NULL');
    await rig.xlOk('destroy', 'crash');
  }, 600_000);

  it('names a domain that does not exist in one line, without starting gdbsx', async () => {
    const r = await duster('attach', 'xen:nosuch', '--symbols', kernel, '--batch', '-ex', 'bt');
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/no Xen domain 'nosuch'/);
  }, 300_000);
});
