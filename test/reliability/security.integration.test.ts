// Security: every TCP socket duster or its QEMU has open is loopback at both ends (unix sockets
// otherwise); QEMU is never given -s or a wildcard address; processes are spawned without a shell,
// so odd image names work; DAP launch arguments reach QEMU as values, never as extra options.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qemuArgs } from '../../src/qemu/index.js';
import { bootGuest } from '../support/guest.js';
import { LiveTarget } from '../../src/targets/index.js';
import { connectClient, qemuChildren } from '../adapter/support/fixture.js';

const root = path.resolve(import.meta.dirname, '../../fixtures/unikernel');
const kernel = path.join(root, 'build/gcc-O0/kernel.elf');

interface TcpSocket {
  family: 4 | 6;
  /** Addresses in hex as /proc prints them. */
  local: string;
  remote: string;
  port: number;
  listening: boolean;
}

/** Every TCP socket (IPv4 and IPv6, any state) owned by `pid`. */
function tcpSockets(pid: number): TcpSocket[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // fd closed meanwhile
    }
  }
  const out: TcpSocket[] = [];
  for (const [file, family] of [
    ['/proc/net/tcp', 4],
    ['/proc/net/tcp6', 6],
  ] as const) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || !inodes.has(f[9]!)) continue;
      const [local, port] = f[1]!.split(':');
      out.push({ family, local: local!, remote: f[2]!.split(':')[0]!, port: parseInt(port!, 16), listening: f[3] === '0A' });
    }
  }
  return out;
}

const listeningSockets = (pid: number) =>
  tcpSockets(pid)
    .filter((s) => s.listening)
    .map((s) => ({ family: s.family, address: s.local, port: s.port }));

const LOOPBACK4 = '0100007F'; // 127.0.0.1, little-endian hex as /proc prints it
const LOOPBACK6 = '00000000000000000000000001000000';
/** A loopback address, or the all-zero remote of a listening socket. */
const isLoopback = (a: string, listening: boolean) =>
  a === LOOPBACK4 || a === LOOPBACK6 || a.startsWith('7F', 6) || (listening && /^0+$/.test(a));

describe('loopback only, no shell (integration)', () => {
  let dir: string;
  beforeAll(() => {
    execFileSync('make', ['-s', '-C', root]);
    dir = mkdtempSync(path.join(os.tmpdir(), 'duster sec '));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('QEMU with a TCP gdbstub listens on 127.0.0.1 only, and never gets -s or a wildcard', async () => {
    const q = await bootGuest({ image: kernel, smp: 1, append: 'app=hello', gdb: 'tcp' });
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
    const q = await bootGuest({ image: kernel, smp: 1, append: 'app=hello', gdb: 'unix' });
    try {
      expect(listeningSockets(q.pid!)).toEqual([]);
    } finally {
      await q.kill();
    }
  });

  it('boots an image whose path has spaces, quotes and shell syntax', async () => {
    const odd = path.join(dir, `it's a "kernel" $(touch pwned) ;.elf`);
    copyFileSync(kernel, odd);
    const q = await bootGuest({ image: odd, smp: 1, append: 'app=hello', gdb: 'unix' });
    try {
      await q.waitForSerial(/hello from cpu 0/, 20_000);
      expect(readdirSync(dir)).not.toContain('pwned');
      expect(readdirSync(process.cwd())).not.toContain('pwned');
    } finally {
      await q.kill();
    }
  });

  it('DAP launch arguments reach QEMU as values, never as options; every socket is loopback', async () => {
    const odd = path.join(dir, 'k -s -gdb tcp::1234 .elf');
    copyFileSync(kernel, odd);
    const { dc, server } = await connectClient();
    try {
      await dc.initializeRequest();
      const launch = (args: object) => dc.launchRequest(args as DebugProtocol.LaunchRequestArguments);
      await expect(launch({ image: kernel, memory: '128M -s' })).rejects.toThrow(/^memory '128M -s' is not a size/);
      await expect(launch({ image: kernel, smp: '1 -s' })).rejects.toThrow(/^smp must be an integer/);
      await expect(launch({ image: kernel, qemuArgs: ['-device', 'pvpanic', '--gdb', 'tcp::1234'] })).rejects.toThrow(
        /^qemuArgs\[2\] '--gdb' is set by duster itself/,
      );
      await expect(launch({ image: kernel, qemuArgs: ['-s'] })).rejects.toThrow(/^qemuArgs\[0\] '-s' is set by duster itself/);
      expect(qemuChildren(process.pid)).toEqual([]);
      const append = 'app=hello -s -gdb tcp::1234 -monitor tcp::4444,server=on';
      await launch({ image: odd, append, smp: 1, stopOnEntry: true });
      const [pid] = qemuChildren(process.pid);
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      expect(argv).not.toContain('-s');
      expect(argv.filter((a) => a === '-gdb' || a === '-monitor')).toEqual(['-monitor', '-gdb']);
      expect(argv[argv.indexOf('-gdb') + 1]).toMatch(/^unix:\/.*,server=on,wait=off$/);
      expect(argv[argv.indexOf('-monitor') + 1]).toBe('none');
      expect(argv[argv.indexOf('-kernel') + 1]).toBe(odd);
      expect(argv[argv.indexOf('-append') + 1]).toBe(append);
      // While the session runs: QEMU has no TCP socket at all, and ours (the DAP server and its
      // client) are loopback at both ends.
      expect(tcpSockets(pid!)).toEqual([]);
      const ours = tcpSockets(process.pid);
      expect(ours.length).toBeGreaterThan(0);
      for (const s of ours) expect(isLoopback(s.local, s.listening) && isLoopback(s.remote, s.listening), JSON.stringify(s)).toBe(true);
    } finally {
      await dc.disconnectRequest({ terminateDebuggee: true }).catch(() => undefined);
      await dc.stop();
      server.close();
    }
    expect(qemuChildren(process.pid)).toEqual([]);
  });

  it('passes the user QEMU arguments as single argv entries, never re-split', () => {
    const args = qemuArgs({ image: '/k', extraArgs: ['-device pvpanic -gdb tcp::1234'] }, { qmp: '/q' });
    expect(args.filter((a) => a === '-gdb')).toHaveLength(0);
    expect(args).toContain('-device pvpanic -gdb tcp::1234');
  });
});
