// Security: everything duster or its QEMU listens on is loopback or a unix socket; QEMU is never
// given -s or a wildcard address; processes are spawned without a shell, so odd image names work.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchQemu, qemuArgs } from '../../src/qemu/index.js';
import { LiveTarget } from '../../src/targets/index.js';

const root = path.resolve(import.meta.dirname, '../../fixtures/unikernel');
const kernel = path.join(root, 'build/gcc-O0/kernel.elf');

/** Listening TCP sockets (IPv4 and IPv6) owned by `pid`, as `addr:port` in hex as /proc shows them. */
function listeningSockets(pid: number): Array<{ family: 4 | 6; address: string; port: number }> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // fd closed meanwhile
    }
  }
  const out: Array<{ family: 4 | 6; address: string; port: number }> = [];
  for (const [file, family] of [['/proc/net/tcp', 4], ['/proc/net/tcp6', 6]] as const) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A' || !inodes.has(f[9]!)) continue; // 0A = LISTEN
      const [addr, port] = f[1]!.split(':');
      out.push({ family, address: addr!, port: parseInt(port!, 16) });
    }
  }
  return out;
}

const LOOPBACK4 = '0100007F'; // 127.0.0.1, little-endian hex as /proc prints it
const LOOPBACK6 = '00000000000000000000000001000000';

describe('loopback only, no shell (integration)', () => {
  let dir: string;
  beforeAll(() => {
    execFileSync('make', ['-s', '-C', root]);
    dir = mkdtempSync(path.join(os.tmpdir(), 'duster sec '));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('QEMU with a TCP gdbstub listens on 127.0.0.1 only, and never gets -s or a wildcard', async () => {
    const q = await launchQemu({ image: kernel, smp: 1, append: 'app=hello', gdb: 'tcp' });
    try {
      const socks = listeningSockets(q.pid!);
      expect(socks.length).toBeGreaterThan(0);
      for (const s of socks) expect(s.family === 4 ? s.address === LOOPBACK4 : s.address === LOOPBACK6).toBe(true);
      expect(q.args).not.toContain('-s');
      const gdbArg = q.args[q.args.indexOf('-gdb') + 1]!;
      expect(gdbArg).toMatch(/^tcp:127\.0\.0\.1:\d+$/);
      // A session over it adds no listener of ours.
      const t = await LiveTarget.connect(q.gdbAddress!);
      expect(listeningSockets(process.pid)).toEqual([]);
      await t.close();
    } finally {
      await q.kill();
    }
  });

  it('QEMU with a unix gdbstub has no TCP listener at all', async () => {
    const q = await launchQemu({ image: kernel, smp: 1, append: 'app=hello', gdb: 'unix' });
    try {
      expect(listeningSockets(q.pid!)).toEqual([]);
    } finally {
      await q.kill();
    }
  });

  it('boots an image whose path has spaces, quotes and shell syntax', async () => {
    const odd = path.join(dir, `it's a "kernel" $(touch pwned) ;.elf`);
    copyFileSync(kernel, odd);
    const q = await launchQemu({ image: odd, smp: 1, append: 'app=hello', gdb: 'unix' });
    try {
      await q.waitForSerial(/hello from cpu 0/, 20_000);
      expect(readdirSync(dir)).not.toContain('pwned');
      expect(readdirSync(process.cwd())).not.toContain('pwned');
    } finally {
      await q.kill();
    }
  });

  it('passes the user QEMU arguments as single argv entries, never re-split', () => {
    const args = qemuArgs({ image: '/k', extraArgs: ['-device pvpanic -gdb tcp::1234'] }, { qmp: '/q' });
    expect(args.filter((a) => a === '-gdb')).toHaveLength(0);
    expect(args).toContain('-device pvpanic -gdb tcp::1234');
  });
});
