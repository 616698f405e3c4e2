// Integration: a vCPU in real mode, as QEMU holds it at reset (-S) when someone attaches with
// stopOnEntry. Its code is at CS base + IP: 0xffff0000 + 0xfff0, the top of the firmware, not at
// RIP (0xfff0, low RAM: zeros, which is what gdb disassembles there). The oracles are SeaBIOS's
// own file (QEMU maps its last bytes at 0xfffffff0) and objdump decoding them as 8086 code.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:net';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCodeSegmentBases } from '../../gdbstub/qemu-monitor.js';
import { type QemuInstance } from '../../src/qemu/index.js';
import { bootGuest } from '../support/guest.js';
import { buildKernel, connectClient, kernel, nextEvent } from './support/fixture.js';

/** The firmware QEMU's pc machine loads (Debian's qemu-system-x86 finds it with SeaBIOS). */
const BIOS = '/usr/share/seabios/bios-256k.bin';

describe('a vCPU in real mode (integration)', () => {
  let dc: DebugClient;
  let server: Server;
  let q: QemuInstance;

  beforeAll(async () => {
    buildKernel();
    q = await bootGuest({ image: kernel, smp: 2, append: 'app=hello', gdb: 'unix', paused: true });
    ({ dc, server } = await connectClient());
    await dc.initializeRequest();
  });
  afterAll(async () => {
    await dc?.stop();
    server?.close();
    await q?.kill();
  });

  it('shows the reset vector at CS base + IP and decodes the firmware there as 16-bit code', async () => {
    await dc.attachRequest({ target: q.gdbAddress!, symbols: kernel, stopOnEntry: true } as DebugProtocol.AttachRequestArguments);
    const stopped = nextEvent<DebugProtocol.StoppedEvent['body']>(dc, 'stopped');
    await dc.configurationDoneRequest();
    const { threadId } = await stopped;
    const [frame] = (await dc.stackTraceRequest({ threadId: threadId!, levels: 1 })).body.stackFrames;
    expect(frame!.instructionPointerReference).toBe('0xfffffff0');
    expect(frame!.source).toBeUndefined();
    // The registers stay what the CPU holds: IP 0xfff0 in the selector-0xf000 segment.
    const scopes = (await dc.scopesRequest({ frameId: frame!.id })).body.scopes;
    const regs = (await dc.variablesRequest({ variablesReference: scopes.find((s) => s.name === 'Registers')!.variablesReference })).body
      .variables;
    expect(regs.find((r) => r.name === 'rip')?.value).toBe('0xfff0');
    expect(regs.find((r) => r.name === 'cs')?.value).toBe(String(0xf000));

    const bios = readFileSync(BIOS);
    const mem = (await dc.customRequest('readMemory', { memoryReference: frame!.instructionPointerReference, count: 16 })).body;
    expect(Buffer.from(mem.data, 'base64')).toEqual(bios.subarray(bios.length - 16));
    const objdump = execFileSync('objdump', ['-D', '-b', 'binary', '-m', 'i8086', `--start-address=${bios.length - 16}`, BIOS], {
      encoding: 'utf8',
    });
    const ljmp = /^\s*3fff0:\s+(?:[0-9a-f]{2} )+\s+(.+)$/m.exec(objdump)![1]!.replace(/\s+/g, ' ');
    expect(ljmp).toBe('ljmp $0xf000,$0xe05b');
    const [insn] = (await dc.customRequest('disassemble', { memoryReference: frame!.instructionPointerReference, instructionCount: 1 }))
      .body.instructions;
    expect(insn).toMatchObject({ address: '0xfffffff0', instructionBytes: 'ea 5b e0 00 f0' });
    expect(insn.instruction.replace(/\s+/g, ' ')).toBe(ljmp);
    await dc.disconnectRequest({});
  });
});

describe("QEMU's monitor register dump", () => {
  it('gives each vCPU its code segment base, in 32- and 64-bit layouts', () => {
    const text = [
      '\r\nCPU#0\r\nEIP=0000fff0 EFL=00000002 [-------] CPL=0 II=0 A20=1 SMM=0 HLT=0\r\nES =0000 00000000 0000ffff 00009300\r\nCS =f000 ffff0000 0000ffff 00009b00\r\n',
      '\r\nCPU#1\r\nRIP=0000000000100d1b RFL=00000046 [---Z-P-] CPL=0 II=0 A20=1 SMM=0 HLT=0\r\nCS =0008 0000000000000000 ffffffff 00a09b00 DPL=0 CS64 [-RA]\r\n',
    ].join('');
    expect(parseCodeSegmentBases(text)).toEqual(
      new Map([
        [0, 0xffff0000n],
        [1, 0n],
      ]),
    );
    expect(() => parseCodeSegmentBases('unknown command')).toThrow(/no CPU#N block/);
  });
});
