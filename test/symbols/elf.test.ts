// The ELF reader against readelf on the reference kernel.
import { beforeAll, describe, expect, it } from 'vitest';
import { ElfFile } from '../../symbols/index.js';
import { build, buildFixtures, run } from './oracle.js';

beforeAll(buildFixtures);

describe('ElfFile', () => {
  it('sections, program headers and the Xen PVH note match readelf', async () => {
    const path = build('gcc-O2');
    const elf = await ElfFile.open(path);
    const names = [...run('readelf', ['-SW', path]).matchAll(/^\s+\[\s*\d+\]\s+(\S+)/gm)].map((m) => m[1]).filter((n) => n !== 'NULL');
    expect(elf.sections.slice(1).map((s) => s.name)).toEqual(names);
    const loads = run('readelf', ['-lW', path]).match(/^\s+(LOAD|NOTE)\s/gm)!.length;
    expect(elf.programHeaders.filter((p) => p.type === 1 || p.type === 4)).toHaveLength(loads);
    const xen = [...elf.notes()].find((n) => n.name === 'Xen' && n.type === 18)!;
    expect(new DataView(xen.desc.buffer, xen.desc.byteOffset).getBigUint64(0, true)).toBeGreaterThan(0x100000n);
    elf.close();
  });

  it('address -> symbol + offset and name -> symbols', async () => {
    const path = build('gcc-O2');
    const elf = await ElfFile.open(path);
    const [worker] = elf.symbols.find('worker_step');
    expect(worker).toBeDefined();
    expect(elf.symbols.lookup(worker!.address + 3n)).toMatchObject({ symbol: { name: 'worker_step' }, offset: 3n });
    expect(elf.readAt(0, 4)).toEqual(new Uint8Array([0x7f, 0x45, 0x4c, 0x46]));
    expect(() => elf.readAt(elf.fileSize - 2, 4)).toThrow(/outside the file/);
    elf.close();
  });
});
