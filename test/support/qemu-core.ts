// QEMU dump-guest-memory cores made by tests: one written from memory ranges and vCPU registers
// (paging off, so virtual = physical, the way QEMU dumps a guest without paging), and a copy of a
// real dump with one vCPU's registers replaced (gdb cannot set registers on a core, so this is how
// gdb is shown a switched-out thread's saved registers).
import { copyFileSync, openSync, closeSync, writeFileSync, writeSync } from 'node:fs';
import { ElfFile } from '../../symbols/elf/index.js';

/** elf_prstatus.pr_reg order (orig_rax has no name). */
const PR_REGS = [
  'r15',
  'r14',
  'r13',
  'r12',
  'rbp',
  'rbx',
  'r11',
  'r10',
  'r9',
  'r8',
  'rax',
  'rcx',
  'rdx',
  'rsi',
  'rdi',
  '',
  'rip',
  'cs',
  'eflags',
  'rsp',
  'ss',
  'fs_base',
  'gs_base',
  'ds',
  'es',
  'fs',
  'gs',
];
const PRSTATUS_SIZE = 336;
const PRSTATUS_PID = 32;
const PRSTATUS_REGS = 112;
const QEMU_STATE_SIZE = 432;
/** "CORE\0" padded to 8: the descriptor follows the 12-byte header and the name. */
const CORE_DESC_AT = 12 + 8;

function note(name: string, type: number, desc: Buffer): Buffer {
  const n = Buffer.from(name + '\0');
  const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
  const head = Buffer.alloc(12);
  head.writeUInt32LE(n.length, 0);
  head.writeUInt32LE(desc.length, 4);
  head.writeUInt32LE(type, 8);
  return Buffer.concat([head, pad(n), pad(desc)]);
}

function prstatus(pid: number, regs: Map<string, bigint>): Buffer {
  const d = Buffer.alloc(PRSTATUS_SIZE);
  d.writeUInt32LE(pid, PRSTATUS_PID);
  PR_REGS.forEach((name, i) => d.writeBigUInt64LE(regs.get(name) ?? 0n, PRSTATUS_REGS + 8 * i));
  return d;
}

/** A QEMUCPUState with every field zero: CR0.PG off. */
function qemuState(): Buffer {
  const d = Buffer.alloc(QEMU_STATE_SIZE);
  d.writeUInt32LE(1, 0);
  d.writeUInt32LE(QEMU_STATE_SIZE, 4);
  return d;
}

export function writeQemuCore(file: string, loads: Array<{ address: bigint; bytes: Uint8Array }>, vcpus: Array<Map<string, bigint>>): void {
  const notes = Buffer.concat([
    ...vcpus.map((r, i) => note('CORE', 1, prstatus(i + 1, r))),
    ...vcpus.map(() => note('QEMU', 0, qemuState())),
  ]);
  const phnum = 1 + loads.length;
  const header = Buffer.alloc(64);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]).copy(header);
  header.writeUInt16LE(4, 16); // ET_CORE
  header.writeUInt16LE(62, 18); // EM_X86_64
  header.writeUInt32LE(1, 20);
  header.writeBigUInt64LE(64n, 32);
  header.writeUInt16LE(64, 52);
  header.writeUInt16LE(56, 54);
  header.writeUInt16LE(phnum, 56);
  const phdrs = Buffer.alloc(56 * phnum);
  let at = 64 + phdrs.length;
  const phdr = (i: number, type: number, offset: number, address: bigint, size: number) => {
    const o = 56 * i;
    phdrs.writeUInt32LE(type, o);
    phdrs.writeUInt32LE(type === 1 ? 7 : 0, o + 4);
    phdrs.writeBigUInt64LE(BigInt(offset), o + 8);
    phdrs.writeBigUInt64LE(address, o + 16);
    phdrs.writeBigUInt64LE(address, o + 24);
    phdrs.writeBigUInt64LE(BigInt(size), o + 32);
    phdrs.writeBigUInt64LE(BigInt(size), o + 40);
  };
  phdr(0, 4, at, 0n, notes.length);
  at += notes.length;
  const parts = [header, phdrs, notes];
  loads.forEach((l, i) => {
    phdr(i + 1, 1, at, l.address, l.bytes.length);
    parts.push(Buffer.from(l.bytes));
    at += l.bytes.length;
  });
  writeFileSync(file, Buffer.concat(parts));
}

/** A copy of `src` in which vCPU `pid`'s NT_PRSTATUS holds `regs` (registers not named are zero). */
export async function withVcpuRegisters(src: string, dst: string, pid: number, regs: Map<string, bigint>): Promise<void> {
  const elf = await ElfFile.open(src);
  const n = [...elf.notes()].find((x) => x.name === 'CORE' && x.type === 1 && Buffer.from(x.desc).readUInt32LE(PRSTATUS_PID) === pid);
  elf.close();
  if (!n) throw new Error(`${src} has no NT_PRSTATUS for vCPU ${pid}`);
  copyFileSync(src, dst);
  const fd = openSync(dst, 'r+');
  try {
    writeSync(fd, prstatus(pid, regs), 0, PRSTATUS_SIZE, n.offset + CORE_DESC_AT);
  } finally {
    closeSync(fd);
  }
}
