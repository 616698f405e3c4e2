// vmlinux name lookups: after a stop at start_kernel (fresh QEMU booting Debian's vmlinux, each
// debugger attached through the packet proxy with the image loaded), `p jiffies`, `ptype struct
// task_struct`, `p init_task.comm` and `whatis` of a name no earlier command touched, timed by each
// debugger's own clock (gdb's Python clock, duster's in test/bench/duster-timed.ts): the cost of
// finding names and types in a big image, which gdb pays by expanding whole compilation units.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchQemu } from '../../../src/qemu/index.js';
import { RspProxy } from '../../support/rsp-proxy.js';
import { vmlinux } from '../../support/vmlinux.js';
import { dusterTimed, gdbTimed, requestsBetweenMarkers, type Row } from '../harness.js';
import { formatSummary, summarizeProfile } from '../profile.js';

// Two by default: gdb spends about a minute on these four commands (quiet machine), and the bench must fit 10 minutes.
const REPS = Number(process.env.DUSTER_BENCH_REPS ?? 2);
const BEFORE = ['hbreak start_kernel', 'continue', 'delete'];
// tcp_hashinfo lives in net/ipv4, far from init/main.c where the stop is.
const MEASURED = ['p jiffies', 'ptype struct task_struct', 'p init_task.comm', 'whatis tcp_hashinfo'];

/** What each command must print (gdb's answers): the commands whose answer is missing from `stdout`. */
function wrongAnswers(stdout: string): string[] {
  const want = [/^\$\d+ = \d+$/m, /^type = struct task_struct \{/m, /^\$\d+ = "swapper/m, /^type = struct inet_hashinfo$/m];
  return MEASURED.filter((_, i) => !want[i]!.test(stdout));
}

interface Timed {
  ms: number;
  packets: number;
  /** Commands that did not print the expected answer, with what they printed instead. */
  wrong: string[];
}

/** One run of one debugger on a freshly booted guest stopped before its first instruction. */
async function once(elf: string, measure: (address: string) => Promise<{ ms: number; stdout: string }>, who: string): Promise<Timed> {
  const q = await launchQemu({ image: elf, memory: '512M', gdb: 'unix', paused: true });
  const proxy = await RspProxy.start(q.gdbAddress!);
  try {
    const r = await measure(proxy.address);
    const wrong = wrongAnswers(r.stdout);
    // gdb is the reference: if it did not answer, the row measures nothing.
    if (who === 'gdb' && wrong.length) throw new Error(`gdb did not answer ${wrong.join(', ')}:\n${r.stdout.slice(0, 1500)}`);
    // Each command's first line (neither debugger echoes commands in batch mode), for the note.
    const answers = r.stdout
      .split('\n')
      .filter((l) => /^(\$\d+ = |type = )/.test(l) || /error|cannot|No symbol|not /i.test(l))
      .map((l) => l.slice(0, 80));
    return {
      ms: r.ms,
      packets: requestsBetweenMarkers(proxy.packets),
      wrong: wrong.length ? [`${wrong.join(', ')}: printed ${answers.join(' | ')}`] : [],
    };
  } finally {
    await proxy.close();
    await q.kill();
  }
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

export async function nameRows(): Promise<Row[]> {
  const elf = vmlinux();
  const gdb = (address: string) =>
    gdbTimed({
      elf,
      before: [`target remote ${address.slice(4)}`, ...BEFORE, 'maint packet qC'],
      measured: MEASURED,
      after: ['maint packet qC', 'detach'],
    });
  const duster = (profile?: string) => (address: string) =>
    dusterTimed({ address, elf, before: BEFORE, measured: MEASURED, after: ['detach'], profile });
  const g: Timed[] = [];
  const d: Timed[] = [];
  for (let i = 0; i < REPS; i++) {
    g.push(await once(elf, gdb, 'gdb'));
    d.push(await once(elf, duster(), 'duster'));
    console.error(`bench: vmlinux names: gdb ${g.at(-1)!.ms.toFixed(0)} ms, duster ${d.at(-1)!.ms.toFixed(0)} ms`);
  }
  const gMs = sorted(g.map((x) => x.ms));
  const dMs = sorted(d.map((x) => x.ms));
  const ratio = dMs[0]! / gMs[0]!;
  let profile = '';
  if (ratio > 0.1) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'duster-prof-'));
    try {
      await once(elf, duster(path.join(dir, 'names.cpuprofile')), 'duster');
      profile = `; where duster's time goes: ${formatSummary(summarizeProfile(path.join(dir, readdirSync(dir)[0]!)), 5)}`;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const mid = (xs: number[]) => xs[Math.floor(xs.length / 2)]!;
  return [
    {
      name: `vmlinux name lookups after a stop at start_kernel (${MEASURED.join(', ')})`,
      unit: 'ms',
      duster: dMs[0]!,
      reference: gMs[0]!,
      referenceName: 'gdb',
      ratio,
      goal: '<= 0.1x gdb',
      notes: `min/median of ${REPS}, by each debugger's own clock: duster ${dMs[0]!.toFixed(0)}/${mid(dMs).toFixed(0)} ms, gdb ${gMs[0]!.toFixed(0)}/${mid(gMs).toFixed(0)} ms; packets duster ${d[0]!.packets}, gdb ${g[0]!.packets}${d[0]!.wrong.length ? `; duster answered wrongly ${d[0]!.wrong.join('; ')}` : ''}${profile}`,
    },
  ];
}
