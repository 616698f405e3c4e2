// Crash dumps of the reference unikernel taken by QEMU itself, with what the live gdbstub reported
// just before: every vCPU's registers and some memory ranges, the answers a dump must reproduce.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { bootGuest } from './guest.js';
import { LiveTarget, type Target } from '../../src/targets/index.js';

export const fixtures = path.resolve(import.meta.dirname, '../../fixtures/unikernel');
export const kernel = path.join(fixtures, 'build/gcc-O0/kernel.elf');

export interface MemoryRange {
  what: string;
  address: bigint;
  bytes: Uint8Array;
}

export interface GuestDump {
  path: string;
  /** Thread id -> registers, as the gdbstub reported them. */
  registers: Map<number, Map<string, bigint>>;
  memory: MemoryRange[];
  /** Wall time of QMP dump-guest-memory. */
  dumpMs: number;
}

/** Address and size of each symbol in the kernel, from `nm -S`. */
export function kernelSymbols(): Map<string, { address: bigint; size: number }> {
  const out = new Map<string, { address: bigint; size: number }>();
  for (const line of execFileSync('nm', ['-S', kernel], { encoding: 'utf8' }).split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length === 4) out.set(f[3]!, { address: BigInt(`0x${f[0]}`), size: Number.parseInt(f[1]!, 16) });
  }
  return out;
}

/**
 * Boots `app` and stops it (the crash app stops itself through pvpanic; others are stopped over
 * QMP while running), reads the live state over the gdbstub, then has QEMU write its ELF dump.
 */
export async function dumpGuest(opts: { app: 'crash' | 'demo'; smp: number; memory?: string; file: string }): Promise<GuestDump> {
  const crash = opts.app === 'crash';
  const q = await bootGuest({ image: kernel, smp: opts.smp, memory: opts.memory, append: `app=${opts.app}`, gdb: 'unix', pvpanic: crash });
  try {
    if (crash) {
      await q.waitForSerial(/PANIC:[^\n]*\n/, 20_000);
      while ((await q.status()) !== 'guest-panicked') await new Promise((r) => setTimeout(r, 10));
    } else {
      await q.waitForSerial(/counter: demo_counter=\d+/, 20_000);
      await q.qmp.execute('stop');
    }
    const live = await LiveTarget.connect(q.gdbAddress!);
    const registers = new Map<number, Map<string, bigint>>();
    const memory: MemoryRange[] = [];
    const read = async (what: string, address: bigint, size: number) =>
      memory.push({ what, address, bytes: await live.readMemory(address, size) });
    for (const t of await live.threads()) {
      const regs = await live.readRegisters(t.id);
      registers.set(t.id, regs);
      await read(`stack of thread ${t.id}`, (regs.get('rsp')! & ~0xfffn) - 0x1000n, 0x3000);
    }
    const sym = kernelSymbols();
    await read('klog_buf', sym.get('klog_buf')!.address, sym.get('klog_buf')!.size);
    await read('kernel text', sym.get('kmain')?.address ?? sym.get('crash_write')!.address, 0x1800);
    // Dump before letting go of the gdbstub, so nothing can run in between.
    const t = performance.now();
    await q.dumpGuestMemory(opts.file);
    const dumpMs = performance.now() - t;
    await live.close();
    return { path: opts.file, registers, memory, dumpMs };
  } finally {
    await q.kill();
  }
}

/** Differences between what a dump target reports and what the live gdbstub did (empty: none). */
export async function differencesFromLive(target: Target, guest: GuestDump, ignore: readonly string[] = []): Promise<string[]> {
  const out: string[] = [];
  const ids = (await target.threads()).map((t) => t.id);
  if (ids.join() !== [...guest.registers.keys()].join()) out.push(`threads ${ids} != live ${[...guest.registers.keys()]}`);
  for (const [id, live] of guest.registers) {
    const got = await target.readRegisters(id);
    for (const { name } of target.registers) {
      if (ignore.includes(name)) continue;
      if (got.get(name) !== live.get(name))
        out.push(`thread ${id} ${name}: 0x${got.get(name)?.toString(16)} != live 0x${live.get(name)?.toString(16)}`);
    }
  }
  for (const m of guest.memory) {
    const got = await target.readMemory(m.address, m.bytes.length);
    if (!Buffer.from(got).equals(Buffer.from(m.bytes)))
      out.push(`${m.what} (0x${m.address.toString(16)}, ${m.bytes.length} bytes) differs`);
  }
  return out;
}
