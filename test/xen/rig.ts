// duster's Xen rig: a real Xen 4.17 (rebuilt with gdbsx support) and Debian's PV dom0, nested in
// QEMU TCG (`-cpu qemu64,+svm,+npt`). scripts/xen-rig.sh builds it into ~/.cache/duster-xen; this
// boots it and puts `xl` and `gdbsx` stand-ins (rig-tool.mjs) on PATH that run the real tools in
// dom0 through its control channel. dom0's gdbsx and control channel are forwarded to 127.0.0.1.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { freeLoopbackPort } from '../../src/qemu/index.js';

const repo = path.resolve(import.meta.dirname, '../..');

export interface RigBuild {
  xen: string;
  dom0Kernel: string;
  initrd: string;
  /** The reference unikernel dom0 boots as /duster/kernel.elf (demo.cfg, crash.cfg). */
  guest: string;
}

/** Runs scripts/xen-rig.sh (quick when everything is cached) and returns what it built. */
export function buildRig(): Promise<RigBuild> {
  return new Promise((resolve, reject) => {
    execFile('bash', [path.join(repo, 'scripts/xen-rig.sh')], { timeout: 45 * 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`scripts/xen-rig.sh failed: ${err.message}\n${stderr.slice(-4000)}`));
      const v = Object.fromEntries(
        stdout
          .trim()
          .split('\n')
          .map((l) => l.split('=', 2) as [string, string]),
      );
      resolve({ xen: v.XEN!, dom0Kernel: v.DOM0_KERNEL!, initrd: v.INITRD!, guest: v.GUEST! });
    });
  });
}

export interface XlResult {
  status: number;
  stdout: string;
  stderr: string;
}

export class XenRig {
  serial = '';
  /** Xen's banner line as the rig saw it (`Xen version 4.17.5 (Debian ...) ...`). */
  banner = '';
  /** Seconds from QEMU's start until dom0's control channel was up. */
  bootSeconds = 0;
  private exited: Promise<void>;

  private constructor(
    private readonly qemu: ChildProcess,
    readonly build: RigBuild,
    /** Holds `xl` and `gdbsx` (the stand-ins); first on PATH in `env`. */
    readonly bin: string,
    readonly env: Record<string, string>,
  ) {
    qemu.stdout!.setEncoding('utf8');
    qemu.stdout!.on('data', (d: string) => {
      if (this.serial.length < 8 << 20) this.serial += d;
    });
    qemu.stderr!.setEncoding('utf8');
    qemu.stderr!.on('data', (d: string) => (this.serial += `[qemu] ${d}`));
    this.exited = new Promise((r) => qemu.once('exit', () => r()));
  }

  /** Builds (or finds cached), boots, waits for dom0's control channel. */
  static async start(opts: { bootTimeoutMs?: number } = {}): Promise<XenRig> {
    const build = await buildRig();
    const ctl = await freeLoopbackPort();
    const gdbsx = await freeLoopbackPort();
    const args = [
      '-machine',
      'pc',
      '-accel',
      'tcg,thread=multi',
      '-cpu',
      'qemu64,+svm,+npt',
      '-m',
      '1G',
      '-smp',
      '2',
      '-display',
      'none',
      '-monitor',
      'none',
      '-serial',
      'stdio',
      '-no-reboot',
      // restrict=on: dom0 reaches nothing outside; only these two forwards reach it, on loopback.
      '-netdev',
      `user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:${gdbsx}-10.0.2.15:9999,hostfwd=tcp:127.0.0.1:${ctl}-10.0.2.15:9001`,
      '-device',
      'e1000,netdev=n0',
      '-kernel',
      build.xen,
      '-append',
      'console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all console_timestamps=boot dom0_mem=256M,max:256M dom0_max_vcpus=2 no-bootscrub',
      '-initrd',
      `${build.dom0Kernel} console=hvc0 earlyprintk=xen,${build.initrd}`,
    ];
    const qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'], shell: false });
    const bin = mkdtempSync(path.join(os.tmpdir(), 'duster-xen-rig-'));
    for (const tool of ['xl', 'gdbsx']) {
      const file = path.join(bin, tool);
      writeFileSync(
        file,
        `#!${process.execPath}\nprocess.argv.splice(2, 0, ${JSON.stringify(tool)});\nimport(${JSON.stringify(pathToFileURL(path.join(repo, 'test/xen/rig-tool.mjs')).href)});\n`,
      );
      chmodSync(file, 0o755);
    }
    const env = {
      PATH: `${bin}${path.delimiter}${process.env.PATH}`,
      DUSTER_XEN_RIG_CTL: String(ctl),
      DUSTER_XEN_RIG_GDBSX: String(gdbsx),
    };
    const rig = new XenRig(qemu, build, bin, env);
    const t0 = Date.now();
    try {
      await rig.waitForSerial(/DUSTER-RIG-READY/, opts.bootTimeoutMs ?? 300_000);
    } catch (e) {
      await rig.stop();
      throw e;
    }
    rig.bootSeconds = (Date.now() - t0) / 1000;
    rig.banner =
      /^.*Xen version \d+\.\d+.*$/m
        .exec(rig.serial)?.[0]
        .replace(/^\(XEN\) (\[[^\]]*\] )?/, '')
        .trim() ?? '';
    return rig;
  }

  /** Resolves when the serial output (after `from`) matches; rejects on timeout or QEMU's exit. */
  async waitForSerial(re: RegExp, timeoutMs: number, from = 0): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    let gone = false;
    void this.exited.then(() => (gone = true));
    for (;;) {
      const m = re.exec(this.serial.slice(from));
      if (m) return m;
      const failed = /DUSTER-RIG-FAILED.*/.exec(this.serial);
      if (failed) throw new Error(`the rig's dom0 failed: ${failed[0]}`);
      if (gone) throw new Error(`QEMU exited before ${re} appeared; serial tail:\n${this.serial.slice(-3000)}`);
      if (Date.now() > deadline) throw new Error(`${re} did not appear within ${timeoutMs} ms; serial tail:\n${this.serial.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The real xl in dom0, through the stand-in (as duster runs it). */
  xl(...args: string[]): Promise<XlResult> {
    return new Promise((resolve, reject) => {
      execFile(
        path.join(this.bin, 'xl'),
        args,
        { env: { ...process.env, ...this.env }, timeout: 180_000, maxBuffer: 16 << 20 },
        (err, stdout, stderr) => {
          if (err && typeof err.code !== 'number') return reject(err);
          resolve({ status: err ? (err.code as number) : 0, stdout, stderr });
        },
      );
    });
  }

  /** `xl ARGS` that must succeed: its stdout. */
  async xlOk(...args: string[]): Promise<string> {
    const r = await this.xl(...args);
    if (r.status !== 0) throw new Error(`xl ${args.join(' ')} failed (${r.status}): ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** Powers dom0 off (QEMU exits with -no-reboot), else kills QEMU. */
  async stop(): Promise<void> {
    if (this.qemu.exitCode === null && this.qemu.signalCode === null) {
      const sock = net.connect(Number(this.env.DUSTER_XEN_RIG_CTL), '127.0.0.1');
      sock.on('error', () => {});
      sock.end('poweroff\n');
      const killer = setTimeout(() => this.qemu.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(killer);
    }
    rmSync(this.bin, { recursive: true, force: true });
  }
}
