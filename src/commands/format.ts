// Number and value text as gdb prints it.

export function hex(v: bigint | number): string {
  return `0x${v.toString(16)}`;
}

/** `0x0000000000001234` for addresses in listings. */
export function hex64(v: bigint): string {
  return `0x${v.toString(16).padStart(16, '0')}`;
}

const EFLAGS: Array<[number, string]> = [
  [0, 'CF'],
  [2, 'PF'],
  [4, 'AF'],
  [6, 'ZF'],
  [7, 'SF'],
  [8, 'TF'],
  [9, 'IF'],
  [10, 'DF'],
  [11, 'OF'],
  [14, 'NT'],
  [16, 'RF'],
  [17, 'VM'],
  [18, 'AC'],
  [19, 'VIF'],
  [20, 'VIP'],
  [21, 'ID'],
];

/** `[ IF ZF PF ]` as gdb shows eflags. */
export function eflagsText(v: bigint): string {
  const set = EFLAGS.filter(([bit]) => (v >> BigInt(bit)) & 1n).map(([, n]) => n);
  return `[ ${set.join(' ')}${set.length ? ' ' : ''}]`;
}
