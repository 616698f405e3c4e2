// What the adapter tests share: the reference unikernel, its symbols from nm, the adapter as a
// separate process on stdio (as VS Code runs it) or an in-process DAP server on 127.0.0.1, and
// QEMU processes by parent pid.
import { execFileSync, type ChildProcess } from 'node:child_process';
import type { AddressInfo, Server } from 'node:net';
import path from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import { serveTcp } from '../../../adapter/index.js';
import { gdbConsole } from '../../../src/commands/console-language.js';

export const root = path.resolve(import.meta.dirname, '../../..');
export const kernel = path.join(root, 'fixtures/unikernel/build/gcc-O0/kernel.elf');

export function buildKernel(): void {
  execFileSync('make', ['-s', '-C', path.join(root, 'fixtures/unikernel')]);
}

export function symbols(): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const line of execFileSync('nm', [kernel], { encoding: 'utf8' }).split('\n')) {
    const [addr, , name] = line.split(' ');
    if (name) out.set(name, BigInt(`0x${addr}`));
  }
  return out;
}

export const hex = (v: bigint) => `0x${v.toString(16)}`;

/** A running `duster dap` speaking DAP on its stdin/stdout, its process, and when it exits. */
export interface StdioAdapter {
  dc: DebugClient;
  process: ChildProcess;
  exited: Promise<number | null>;
}

/** Starts `adapter` (default: `duster dap` through bin/duster.js) under this node with a DebugClient on its stdio; `env` adds to its environment. */
export async function startAdapter(
  adapter = path.join(import.meta.dirname, 'duster-dap.mjs'),
  env?: NodeJS.ProcessEnv,
): Promise<StdioAdapter> {
  const dc = new DebugClient(process.execPath, adapter, 'duster', { cwd: root, ...(env && { env: { ...process.env, ...env } }) });
  dc.defaultTimeout = 20_000;
  await dc.start();
  const child = (dc as unknown as { _adapterProcess: ChildProcess })._adapterProcess;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { dc, process: child, exited };
}

/** Ends an adapter a failed test left running (a passing test's disconnect ends it). */
export async function stopAdapter(a: StdioAdapter | undefined): Promise<void> {
  if (a && a.process.exitCode === null && a.process.signalCode === null) {
    a.process.kill();
    await a.exited;
  }
}

/** A DAP server on 127.0.0.1 in this process, and a client connected to it. */
export async function connectClient(): Promise<{ dc: DebugClient; server: Server }> {
  const server = await serveTcp(0, gdbConsole);
  const dc = new DebugClient('node', 'unused', 'duster');
  await dc.start((server.address() as AddressInfo).port);
  return { dc, server };
}

/** QEMU processes whose parent is `pid`. */
export function qemuChildren(pid: number): number[] {
  let out = '';
  try {
    out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(pid)], { encoding: 'utf8' });
  } catch {
    return []; // ps exits 1 when there are none
  }
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([, comm]) => comm?.startsWith('qemu-system'))
    .map(([p]) => Number(p));
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves with the first event of `name` whose body passes `accept`. */
export function nextEvent<T = Record<string, unknown>>(
  dc: DebugClient,
  name: string,
  accept: (body: T) => boolean = () => true,
): Promise<T> {
  return new Promise((resolve) => {
    const on = (e: { body: T }) => {
      if (!accept(e.body)) return;
      dc.removeListener(name, on);
      resolve(e.body);
    };
    dc.on(name, on);
  });
}
