// Where a vCPU fetches its next instruction. In protected and long mode that is RIP (segments are
// flat); in real mode it is CS base + IP, and right after reset the base is 0xffff0000 while the
// selector says 0xf000, so the target is asked for the base and the selector (<< 4) is only the
// fallback. gdb shows RIP alone there, and reads zeros at the reset vector.
import type { Target } from '../targets/index.js';

function inRealMode(regs: Map<string, bigint>): boolean {
  const cr0 = regs.get('cr0');
  return cr0 !== undefined && (cr0 & 1n) === 0n;
}

export async function fetchAddress(target: Target, thread: number, regs: Map<string, bigint>): Promise<bigint | undefined> {
  const ip = regs.get('rip');
  if (ip === undefined || !inRealMode(regs)) return ip;
  const base = (await target.codeSegmentBase?.(thread).catch(() => undefined)) ?? (regs.get('cs') ?? 0n) << 4n;
  return base + (ip & 0xffffn);
}
