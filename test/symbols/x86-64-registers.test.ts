// The one x86-64 DWARF register table: psABI numbers, the target's names, readelf's names.
import { describe, expect, it } from 'vitest';
import { dwarfRegisterName, dwarfRegisterNumber, dwarfRegisterSize, x86_64RegisterName } from '../../symbols/index.js';

describe('x86-64 DWARF register numbers', () => {
  it('names the general, vector, x87 and control registers as the gdbstub does', () => {
    expect([0, 1, 7, 15, 16].map(dwarfRegisterName)).toEqual(['rax', 'rdx', 'rsp', 'r15', 'rip']);
    expect([17, 32, 33, 40].map(dwarfRegisterName)).toEqual(['xmm0', 'xmm15', 'st0', 'st7']);
    // gdb's amd64 map: 49 is eflags (readelf: rflags), the MMX numbers name no register of gdb's.
    expect([49, 50, 55, 64, 65, 66, 41].map(dwarfRegisterName)).toEqual(['eflags', 'es', 'gs', 'mxcsr', 'fctrl', 'fstat', undefined]);
  });
  it('round-trips every name', () => {
    for (let n = 0; n < 90; n++) {
      const name = dwarfRegisterName(n);
      if (name !== undefined) expect(dwarfRegisterNumber(name)).toBe(n);
    }
    expect(dwarfRegisterNumber('rflags')).toBeUndefined();
  });
  it('gives readelf its own names', () => {
    expect([17, 41, 49, 58, 64, 67, 200].map(x86_64RegisterName)).toEqual(['xmm0', 'mm0', 'rflags', 'fs.base', 'mxcsr', 'xmm16', 'r200']);
  });
  it('knows the width of vector and x87 registers', () => {
    expect([0, 17, 32, 33, 40, 49].map(dwarfRegisterSize)).toEqual([8, 16, 16, 10, 10, 8]);
  });
});
