// The flags types of QEMU's target description, as gdb shows them: fields in the description's order,
// [start bit, end bit, name]; a field wider than a bit shows as NAME=value.
type FlagFields = ReadonlyArray<readonly [number, number, string]>;
type Fields = Array<[number, number, string]>;
const bits = (list: Array<[number, string]>): Fields => list.map(([b, n]) => [b, b, n]);

const EFLAGS: Fields = [
  ...bits([
    [21, 'ID'],
    [20, 'VIP'],
    [19, 'VIF'],
    [18, 'AC'],
    [17, 'VM'],
    [16, 'RF'],
    [14, 'NT'],
  ]),
  [12, 13, 'IOPL'],
  ...bits([
    [11, 'OF'],
    [10, 'DF'],
    [9, 'IF'],
    [8, 'TF'],
    [7, 'SF'],
    [6, 'ZF'],
    [4, 'AF'],
    [2, 'PF'],
    [0, 'CF'],
  ]),
];

const named = (names: string, first: number): Fields => names.split(' ').map((n, i) => [first - i, first - i, n]);

const FLAGS: Record<string, Fields> = {
  eflags: EFLAGS,
  mxcsr: [...bits(['IE', 'DE', 'ZE', 'OE', 'UE', 'PE', 'DAZ', 'IM', 'DM', 'ZM', 'OM', 'UM', 'PM'].map((n, i) => [i, n])), [15, 15, 'FZ']],
  cr0: bits([
    [31, 'PG'],
    [30, 'CD'],
    [29, 'NW'],
    [18, 'AM'],
    [16, 'WP'],
    [5, 'NE'],
    [4, 'ET'],
    [3, 'TS'],
    [2, 'EM'],
    [1, 'MP'],
    [0, 'PE'],
  ]),
  cr3: [
    [12, 63, 'PDBR'],
    [0, 11, 'PCID'],
  ],
  cr4: [
    ...named('PKE SMAP SMEP', 22),
    ...named('OSXSAVE PCIDE FSGSBASE', 18),
    ...named('SMXE VMXE LA57 UMIP OSXMMEXCPT OSFXSR PCE PGE MCE PAE PSE DE TSD PVI VME', 14),
  ],
  efer: [...named('TCE FFXSR LMSLE SVME NXE LMA', 15), [8, 8, 'LME'], [0, 0, 'SCE']],
};

/** The fields of a register gdb gives a flags type (eflags, mxcsr, cr0, cr3, cr4, efer). */
export function registerFlags(register: string): FlagFields | undefined {
  return FLAGS[register];
}

/** A flags value as gdb shows it: `[ IOPL=0 IF ZF PF ]`. */
export function flagsValueText(fields: FlagFields, v: bigint): string {
  const set = fields.flatMap(([start, end, n]) => {
    const field = (v >> BigInt(start)) & ((1n << BigInt(end - start + 1)) - 1n);
    return start === end ? (field ? [n] : []) : [`${n}=${field}`];
  });
  return `[ ${set.join(' ')}${set.length ? ' ' : ''}]`;
}
