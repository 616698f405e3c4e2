// A dom0 for tests: the fake `xl` and `gdbsx` (test/support/fake-*.mjs) on PATH, over a state file
// whose one guest domain is QEMU running the reference unikernel (app=demo, 2 vCPUs).
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type QemuInstance } from '../../src/qemu/index.js';
import { bootGuest } from '../support/guest.js';
import { LiveTarget } from '../../src/targets/index.js';

const repo = path.resolve(import.meta.dirname, '../..');
export const kernel = path.join(repo, 'fixtures/unikernel/build/gcc-O0/kernel.elf');

export interface FakeDomain {
  domid: number;
  name: string;
  type: 'pv' | 'pvh' | 'hvm';
  kernel: string;
  cmdline: string;
  vcpus: number;
  memory: number;
  pauseCount: number;
  qmp: string;
  gdb: string;
}

export interface FakeState {
  domains: FakeDomain[];
  xlFailure?: { status: number; stderr: string };
  gdbsxPid?: number;
}

/** `#!node` wrappers named like the real tools, so PATH lookup and argv are as on a dom0. */
function installTool(bin: string, name: string, script: string): void {
  const file = path.join(bin, name);
  writeFileSync(file, `#!${process.execPath}\nimport(${JSON.stringify(pathToFileURL(path.join(repo, 'test/support', script)).href)});\n`);
  chmodSync(file, 0o755);
}

export class FakeDom0 {
  private readonly savedPath = process.env.PATH;

  private constructor(
    readonly dir: string,
    /** Holds `xl` and `gdbsx`. */
    readonly bin: string,
    /** Holds `xl` only. */
    readonly binWithoutGdbsx: string,
    readonly statePath: string,
  ) {}

  /** Installs the tools and puts them first on PATH; `DUSTER_FAKE_XEN` names the state. */
  static create(state: FakeState): FakeDom0 {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'duster-xen-'));
    const bin = path.join(dir, 'bin');
    const xlOnly = path.join(dir, 'bin-xl-only');
    mkdirSync(bin);
    mkdirSync(xlOnly);
    installTool(bin, 'xl', 'fake-xl.mjs');
    installTool(bin, 'gdbsx', 'fake-gdbsx.mjs');
    installTool(xlOnly, 'xl', 'fake-xl.mjs');
    const d = new FakeDom0(dir, bin, xlOnly, path.join(dir, 'state.json'));
    d.write(state);
    process.env.DUSTER_FAKE_XEN = d.statePath;
    d.usePath(bin);
    return d;
  }

  usePath(bin: string): void {
    process.env.PATH = `${bin}${path.delimiter}${this.savedPath}`;
  }

  read(): FakeState {
    return JSON.parse(readFileSync(this.statePath, 'utf8')) as FakeState;
  }

  write(state: FakeState): void {
    writeFileSync(this.statePath, JSON.stringify(state, null, 2));
  }

  update(fn: (s: FakeState) => void): void {
    const s = this.read();
    fn(s);
    this.write(s);
  }

  /** Runs the fake xl as a user would. */
  xl(...args: string[]): string {
    return execFileSync(path.join(this.bin, 'xl'), args, { encoding: 'utf8' });
  }

  close(): void {
    process.env.PATH = this.savedPath;
    delete process.env.DUSTER_FAKE_XEN;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** QEMU booted running (not stopped), with a second QMP socket for the fake xl. */
export async function bootDomain(dir: string, domid: number, name: string): Promise<{ qemu: QemuInstance; domain: FakeDomain }> {
  execFileSync('make', ['-s', '-C', path.join(repo, 'fixtures/unikernel')]);
  const xlQmp = path.join(dir, 'xl-qmp.sock');
  const qemu = await bootGuest({
    image: kernel,
    smp: 2,
    append: 'app=demo',
    gdb: 'unix',
    extraArgs: ['-qmp', `unix:${xlQmp},server=on,wait=off`],
  });
  await qemu.waitForSerial(/counter: demo_counter=/);
  const domain: FakeDomain = {
    domid,
    name,
    type: 'pvh',
    kernel,
    cmdline: 'app=demo',
    vcpus: 2,
    memory: 128,
    pauseCount: 0,
    qmp: xlQmp,
    gdb: qemu.gdbAddress!.slice('unix:'.length),
  };
  return { qemu, domain };
}

/** Reads guest memory over a connection of its own to QEMU's gdbstub, then lets the guest go. */
export async function readThroughQemu(qemu: QemuInstance, ranges: { address: bigint; size: number }[]): Promise<Buffer[]> {
  const t = await LiveTarget.connect(qemu.gdbAddress!);
  try {
    return await Promise.all(ranges.map(async (r) => Buffer.from(await t.readMemory(r.address, r.size))));
  } finally {
    await t.detach();
  }
}

export function nmSymbols(): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const line of execFileSync('nm', [kernel], { encoding: 'utf8' }).split('\n')) {
    const [addr, , name] = line.split(' ');
    if (name) out.set(name, BigInt(`0x${addr}`));
  }
  return out;
}
