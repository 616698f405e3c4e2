// QEMU 7.2 sends the x87 registers in physical order (R0-R7 as st0-st7); the client gives the
// protocol's stack order, ST(i) = R((TOP + i) mod 8), so st0 is the top of the stack as gdb means.
import { describe, expect, it } from 'vitest';
import { quirksFor, x87PhysicalName, x87StackOrder } from '../../gdbstub/quirks.js';

describe('x87 register order', () => {
  it('is physical only for QEMU', () => {
    expect(quirksFor('qemu').x87PhysicalOrder).toBe(true);
    expect(quirksFor('generic').x87PhysicalOrder).toBe(false);
    expect(quirksFor('gdbsx').x87PhysicalOrder).toBe(false);
  });
  it('rotates R0-R7 by TOP into ST(0)-ST(7)', () => {
    // After fninit and one load (a long double return): TOP = 7, the value in R7.
    const regs = new Map<string, bigint>([
      ['fstat', 0x3800n],
      ...Array.from({ length: 8 }, (_, i) => [`st${i}`, BigInt(100 + i)] as [string, bigint]),
    ]);
    const stack = x87StackOrder(regs);
    expect(Array.from({ length: 8 }, (_, i) => stack.get(`st${i}`))).toEqual([107n, 100n, 101n, 102n, 103n, 104n, 105n, 106n]);
    expect(x87PhysicalName('st0', 0x3800n)).toBe('st7');
    expect(x87PhysicalName('st1', 0x3800n)).toBe('st0');
    expect(x87PhysicalName('rax', 0x3800n)).toBe('rax');
    // TOP = 0: nothing moves.
    expect(
      x87StackOrder(
        new Map([
          ['fstat', 0n],
          ['st0', 1n],
        ]),
      ).get('st0'),
    ).toBe(1n);
  });
});
