import { describe, expect, it } from 'vitest';
import { launchQemu, qemuArgs, QemuError } from '../../src/qemu/index.js';

describe('qemuArgs', () => {
  const sockets = { gdb: 'unix:/tmp/x/gdb.sock,server=on,wait=off', qmp: '/tmp/x/qmp.sock' };

  it('passes the image, vCPUs and command line as separate arguments (no shell quoting)', () => {
    const args = qemuArgs({ image: "/tmp/my image's/k.elf", smp: 4, append: 'app=demo x="1 2"' }, sockets);
    expect(args[args.indexOf('-kernel') + 1]).toBe("/tmp/my image's/k.elf");
    expect(args[args.indexOf('-smp') + 1]).toBe('4');
    expect(args[args.indexOf('-append') + 1]).toBe('app=demo x="1 2"');
    expect(args[args.indexOf('-qmp') + 1]).toBe('unix:/tmp/x/qmp.sock,server=on,wait=off');
  });

  it('never opens the gdbstub on all interfaces and uses TCG, not KVM', () => {
    const args = qemuArgs({ image: 'k.elf', paused: true }, { gdb: 'tcp:127.0.0.1:1234', qmp: 'q' });
    expect(args).not.toContain('-s');
    expect(args[args.indexOf('-gdb') + 1]).toBe('tcp:127.0.0.1:1234');
    expect(args.join(' ')).not.toMatch(/0\.0\.0\.0|kvm/);
    expect(args).toContain('-S');
  });

  it('adds pvpanic with a pause action only when asked', () => {
    expect(qemuArgs({ image: 'k' }, sockets)).not.toContain('pvpanic');
    const args = qemuArgs({ image: 'k', pvpanic: true }, sockets);
    expect(args.slice(args.indexOf('-device'), args.indexOf('-device') + 4)).toEqual(['-device', 'pvpanic', '-action', 'panic=pause']);
  });
});

describe('launchQemu errors', () => {
  it('names a missing image', async () => {
    await expect(launchQemu({ image: '/nonexistent/kernel.elf' })).rejects.toThrow(
      new QemuError('image /nonexistent/kernel.elf is not a readable file'),
    );
  });

  it('names a QEMU binary that is not there', async () => {
    await expect(launchQemu({ image: '/etc/hostname', qemuBinary: '/nonexistent/qemu' })).rejects.toThrow(
      /QEMU binary \/nonexistent\/qemu is not an executable file/,
    );
  });

  it('reports QEMU refusing an image that is not a kernel', async () => {
    await expect(launchQemu({ image: '/etc/hostname', gdb: 'none' })).rejects.toThrow(/QEMU exited at startup/);
  });
});
