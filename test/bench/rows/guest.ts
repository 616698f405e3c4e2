// The reference unikernel under QEMU with a packet-counting proxy in front of its gdbstub, shared
// by the live rows: gdb and duster go through the same proxy, so their packet counts compare.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { launchQemu, type QemuInstance } from '../../../src/qemu/index.js';
import { RspProxy } from '../../support/rsp-proxy.js';

export const root = path.resolve(import.meta.dirname, '../../../fixtures/unikernel');
export const kernel = (build = 'gcc-O0') => path.join(root, 'build', build, 'kernel.elf');

export interface Guest {
  qemu: QemuInstance;
  proxy: RspProxy;
  close(): Promise<void>;
}

/**
 * Boots the demo with preempt=off: threads switch only when they sleep, so a debugger that steps
 * or continues one vCPU (duster) and one that lets the others run while it steps (gdb) see the
 * same thread run the same code.
 */
export async function bootGuest(build = 'gcc-O0', app = 'demo'): Promise<Guest> {
  execFileSync('make', ['-s', '-C', root]);
  const qemu = await launchQemu({ image: kernel(build), smp: 2, append: `app=${app} preempt=off`, gdb: 'unix' });
  await qemu.waitForSerial(/worker-\d step/, 30_000);
  const proxy = await RspProxy.start(qemu.gdbAddress!);
  return {
    qemu,
    proxy,
    async close() {
      await proxy.close();
      await qemu.kill();
    },
  };
}

export function symbolAddress(elf: string, name: string): bigint {
  const line = execFileSync('nm', [elf], { encoding: 'utf8' })
    .split('\n')
    .find((l) => l.endsWith(` ${name}`));
  if (!line) throw new Error(`no symbol ${name} in ${elf}`);
  return BigInt(`0x${line.split(' ')[0]}`);
}
