// The guest's memory as QEMU itself has it (QMP pmemsave on the instance's own QMP socket: nothing
// of duster's RSP path), beside what the image says it must hold. The reference unikernel runs
// identity-mapped, so its sections' addresses are physical addresses.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { QemuInstance } from '../../src/qemu/index.js';
import { ElfFile, SHF, SHT } from '../../symbols/elf/index.js';
import type { ProxyPacket } from './rsp-proxy.js';

const SHF_WRITE = 0x1n;

export interface ImageSection {
  name: string;
  address: bigint;
  size: number;
  writable: boolean;
  /** What the image loads there (undefined for .bss). */
  bytes?: Uint8Array;
}

/** The loaded (SHF_ALLOC) sections of an image. */
export async function imageSections(image: string): Promise<ImageSection[]> {
  const elf = await ElfFile.open(image);
  try {
    return elf.sections
      .filter((s) => (s.flags & SHF.ALLOC) !== 0n && s.size > 0)
      .map((s) => ({
        name: s.name,
        address: s.addr,
        size: s.size,
        writable: (s.flags & SHF_WRITE) !== 0n,
        ...(s.type !== SHT.NOBITS && { bytes: elf.sectionData(s)! }),
      }));
  } finally {
    elf.close();
  }
}

/** Guest-physical memory read by QEMU (works running or stopped). */
export async function pmem(q: QemuInstance, address: bigint, size: number): Promise<Buffer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'duster-pmem-'));
  try {
    const file = path.join(dir, 'mem.bin');
    await q.qmp.execute('pmemsave', { val: Number(address), size, filename: file });
    return readFileSync(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The guest's bytes of the read-only or of the writable sections, by section name. */
export async function snapshot(q: QemuInstance, sections: ImageSection[], writable: boolean): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const s of sections.filter((x) => x.writable === writable && (writable || x.bytes)))
    out.set(s.name, await pmem(q, s.address, s.size));
  return out;
}

export interface ByteDifference {
  section: string;
  address: bigint;
  got: number;
  want: number;
}

/** Every byte of a snapshot that differs from the image. */
export function imageDifferences(snap: Map<string, Buffer>, sections: ImageSection[]): ByteDifference[] {
  const out: ByteDifference[] = [];
  for (const [name, got] of snap) {
    const s = sections.find((x) => x.name === name)!;
    got.forEach((b, i) => {
      if (b !== s.bytes![i]) out.push({ section: name, address: s.address + BigInt(i), got: b, want: s.bytes![i]! });
    });
  }
  return out;
}

/** Where two snapshots of the same sections differ (empty: nowhere), first differing address per section. */
export function snapshotDifferences(before: Map<string, Buffer>, after: Map<string, Buffer>, sections: ImageSection[]): string[] {
  const out: string[] = [];
  for (const [name, a] of before) {
    const b = after.get(name)!;
    const at = a.findIndex((x, i) => x !== b[i]);
    if (at >= 0)
      out.push(
        `${name} changed at 0x${(sections.find((s) => s.name === name)!.address + BigInt(at)).toString(16)}: 0x${a[at]!.toString(16)} -> 0x${b[at]!.toString(16)}`,
      );
  }
  return out;
}

/** What a debugger sent that changes guest memory or registers (M, X, G, P packets). */
export function writesIn(packets: readonly ProxyPacket[]): string[] {
  return packets.filter((p) => p.dir === 'c2s' && /^\$[MXGP]/.test(p.data)).map((p) => p.data.slice(0, 40));
}

/**
 * Breakpoints and watchpoints (Z) not removed again (z) in a packet log, as `Ztype,addr`. QEMU's
 * `D` removes every one it holds (its gdbstub's handle_detach), so a detach ends them all.
 */
export function pointsLeft(packets: readonly ProxyPacket[]): string[] {
  const live = new Map<string, number>();
  for (const p of packets) {
    if (p.dir === 'c2s' && /^\$D[;#]/.test(p.data)) live.clear();
    const m = p.dir === 'c2s' ? /^\$([Zz])([0-4]),([0-9a-f]+),/.exec(p.data) : null;
    if (!m) continue;
    const key = `Z${m[2]},${m[3]}`;
    live.set(key, (live.get(key) ?? 0) + (m[1] === 'Z' ? 1 : -1));
  }
  return [...live].filter(([, n]) => n > 0).map(([k]) => k);
}
