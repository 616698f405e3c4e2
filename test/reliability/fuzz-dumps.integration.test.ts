// Fuzzing the crash-dump readers: mutated and truncated copies of a real QEMU dump-guest-memory core
// of the crashed reference unikernel and of the Xen dump-core files (HVM and PV) made from it. The
// mutations aim at what the readers decode: ELF, program and section headers, the notes (vCPU
// registers, control registers), Xen's vCPU contexts and frame tables, and the guest's page tables.
// Each mutant is opened and given the whole crash report (every vCPU's backtrace, the guest's
// threads and kernel log), which ends with a report or a typed error, quickly, in bounded memory;
// how many still give a report is counted. Then the good dump is reported with mutated copies of
// the kernel ELF (bytes of its DWARF and CFI sections, or the file cut short): at least 90% of
// those must still print the report, the damage named in warnings.
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineError } from '../../src/engine/errors.js';
import { EvalError } from '../../src/engine/evaluate.js';
import { Program } from '../../src/engine/program.js';
import { Session } from '../../src/engine/session.js';
import { formatReport } from '../../src/commands/report.js';
import { crashReport } from '../../src/engine/crash-report.js';
import { detectGuestOs } from '../../src/os/index.js';
import { openSession } from '../../src/open/index.js';
import { openDump } from '../../src/targets/dump/index.js';
import { TargetError } from '../../src/targets/index.js';
import { ElfFile, PT } from '../../symbols/elf/index.js';
import { FormatError } from '../../symbols/index.js';
import { dumpGuest, fixtures, kernel } from '../support/dump-guest.js';
import { pageTables, qemuCoreToXen } from '../support/dump-xen.js';
import { below, Budget, fuzzInput, mutateInPlace, pick, rng, Tally } from '../support/fuzz.js';

const PAGE = 4096;
const typed = [TargetError, FormatError, EngineError, EvalError];

interface Region {
  what: string;
  from: number;
  to: number;
}

interface DumpFile {
  name: string;
  path: string;
  size: number;
  regions: Region[];
}

/** Where a QEMU core keeps what its reader decodes, page tables included (found from CR3 in the first QEMU note). */
async function qemuRegions(file: string): Promise<Region[]> {
  const elf = await ElfFile.open(file);
  try {
    const header = elf.readAt(0, 64);
    const phoff = Number(Buffer.from(header).readBigUInt64LE(32));
    const loads = elf.programHeaders.filter((p) => p.type === PT.LOAD);
    const note = elf.programHeaders.find((p) => p.type === PT.NOTE)!;
    const fileOffset = (pfn: number) => {
      const at = BigInt(pfn * PAGE);
      const p = loads.find((l) => at >= l.paddr && at < l.paddr + BigInt(l.filesz))!;
      return p.offset + Number(at - p.paddr);
    };
    const cr3 = Buffer.from([...elf.notes()].find((n) => n.name === 'QEMU')!.desc).readBigUInt64LE(392 + 24);
    const tables = pageTables(cr3, (pfn) => elf.readAt(fileOffset(pfn), PAGE));
    return [
      { what: 'ELF header', from: 0, to: 64 },
      { what: 'program headers', from: phoff, to: phoff + elf.programHeaders.length * 56 },
      { what: 'notes', from: note.offset, to: note.offset + note.filesz },
      ...[...tables].map(([pfn, level]) => ({ what: `level-${level} page table`, from: fileOffset(pfn), to: fileOffset(pfn) + PAGE })),
    ];
  } finally {
    elf.close();
  }
}

/** The same for an xl dump-core file; page tables for HVM, whose .xen_pfn maps page i to its frame. */
async function xenRegions(file: string, cr3: bigint, pv: boolean): Promise<Region[]> {
  const elf = await ElfFile.open(file);
  try {
    const shoff = Number(Buffer.from(elf.readAt(0, 64)).readBigUInt64LE(40));
    const section = (name: string) => elf.section(name)!;
    const regions: Region[] = [
      { what: 'ELF header', from: 0, to: 64 },
      { what: 'section headers', from: shoff, to: shoff + elf.sections.length * 64 },
      ...['.note.Xen', '.xen_prstatus', pv ? '.xen_p2m' : '.xen_pfn'].map((n) => ({
        what: n,
        from: section(n).offset,
        to: section(n).offset + section(n).size,
      })),
    ];
    if (!pv) {
      const index = Buffer.from(elf.sectionData('.xen_pfn')!);
      const slot = new Map<number, number>();
      for (let i = 0; i < index.length / 8; i++) slot.set(Number(index.readBigUInt64LE(i * 8) & 0xf_ffff_ffffn), i);
      const pages = section('.xen_pages').offset;
      const tables = pageTables(cr3, (pfn) => elf.readAt(pages + slot.get(pfn)! * PAGE, PAGE));
      for (const [pfn, level] of tables)
        regions.push({ what: `level-${level} page table`, from: pages + slot.get(pfn)! * PAGE, to: pages + slot.get(pfn)! * PAGE + PAGE });
    }
    return regions;
  } finally {
    elf.close();
  }
}

describe('crash dump readers on mutated dumps (integration)', () => {
  let dir: string;
  let program: Program;
  const dumps: DumpFile[] = [];

  /** Opens the dump and builds the whole crash report from it. */
  async function report(file: string): Promise<string> {
    const target = await openDump(file);
    try {
      const session = new Session(target, { detectOs: detectGuestOs });
      await session.loadProgram(program);
      await session.start('dump');
      return formatReport(session, await crashReport(session));
    } finally {
      await target.close();
    }
  }

  beforeAll(async () => {
    execFileSync('make', ['-s', '-C', fixtures]);
    dir = mkdtempSync(path.join(os.tmpdir(), 'duster-fuzz-dump-'));
    const good = (await dumpGuest({ app: 'crash', smp: 2, memory: '32M', file: path.join(dir, 'qemu.core') })).path;
    const elf = await ElfFile.open(good);
    const cr3 = Buffer.from([...elf.notes()].find((n) => n.name === 'QEMU')!.desc).readBigUInt64LE(392 + 24);
    elf.close();
    dumps.push({ name: 'QEMU core', path: good, size: statSync(good).size, regions: await qemuRegions(good) });
    for (const flavour of ['hvm', 'pv'] as const) {
      const file = path.join(dir, `xen-${flavour}.core`);
      await qemuCoreToXen(good, file, flavour);
      dumps.push({
        name: `Xen ${flavour.toUpperCase()} dump-core`,
        path: file,
        size: statSync(file).size,
        regions: await xenRegions(file, cr3, flavour === 'pv'),
      });
    }
    program = await Program.load(kernel);
  }, 120_000);
  afterAll(() => {
    program?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const CI = 36;
  const budget = new Budget(CI, 0.05, 1000);
  it(
    `ends every mutant with a report or a typed error (${CI} in npm test)`,
    async () => {
      // The originals give the full report: the panic and a backtrace through the crash path.
      for (const d of dumps) expect(await report(d.path), d.name).toMatch(/Guest panicked[\s\S]*crash_write/);
      const work = path.join(dir, 'mutant.core');
      const random = rng(0xdc0e);
      const tallies = new Map(dumps.map((d) => [d.name, new Tally(d.name)]));
      for (let i = 0; budget.more(i); i++) {
        const d = pick(random, dumps);
        const r = pick(random, d.regions);
        copyFileSync(d.path, work);
        let what: string;
        if (random() < 0.2) {
          const cut = random() < 0.7 ? r.from + below(random, r.to - r.from) : below(random, d.size);
          truncateSync(work, cut);
          what = `truncated at 0x${cut.toString(16)} (${r.what})`;
        } else {
          const fd = openSync(work, 'r+');
          const bytes = Buffer.alloc(r.to - r.from);
          readSync(fd, bytes, 0, bytes.length, r.from);
          const n = 1 + below(random, 3);
          const done = Array.from({ length: n }, () => mutateInPlace(bytes, 0, bytes.length, random));
          writeSync(fd, bytes, 0, bytes.length, r.from);
          closeSync(fd);
          what = `${r.what} at 0x${r.from.toString(16)}: ${done.join('; ')}`;
        }
        await fuzzInput(tallies.get(d.name)!, `#${i} ${what}`, { typed, ms: 5000, peakBytes: 256 << 20 }, () => report(work));
      }
      for (const t of tallies.values()) t.report();
      const all = [...tallies.values()];
      const ok = all.reduce((n, t) => n + t.ok, 0);
      const inputs = all.reduce((n, t) => n + t.inputs, 0);
      console.info(`fuzz: dump mutants printing a report: ${ok}/${inputs} (${((100 * ok) / inputs).toFixed(1)}%)`);
      expect(ok).toBeGreaterThan(0);
    },
    budget.timeout,
  );

  const ELF_CI = 24;
  const elfBudget = new Budget(ELF_CI, 0.05, 1000);
  it(
    `prints the crash report with at least 90% of ${ELF_CI} mutated kernel ELFs (in npm test), naming the damage`,
    async () => {
      const original = readFileSync(kernel);
      const elf = await ElfFile.open(kernel);
      const sections = elf.sections
        .filter((s) => /^\.(debug_\w+|eh_frame|symtab|strtab)$/.test(s.name))
        .map((s) => ({ name: s.name, offset: s.offset, size: s.size }));
      elf.close();
      const good = dumps[0]!.path;
      // The original first: the report as the mutants are measured against, and the disassembler's
      // one-time WebAssembly reservation (gigabytes of VmPeak) made before any input is measured.
      expect(await report(good)).toMatch(/Guest panicked[\s\S]*crash_write/);
      const mutant = path.join(dir, 'mutant.elf');
      const random = rng(0xe1f);
      const tally = new Tally('crash report with mutated ELFs');
      let warned = 0;
      for (let i = 0; elfBudget.more(i); i++) {
        const copy = Buffer.from(original);
        let what: string;
        if (i % 5 === 4) {
          const cut = 64 + 6 * 56 + below(random, copy.length - 400);
          writeFileSync(mutant, copy.subarray(0, cut));
          what = `cut at 0x${cut.toString(16)}`;
        } else {
          const s = pick(random, sections);
          const done = Array.from({ length: 1 + below(random, 3) }, () => mutateInPlace(copy, s.offset, s.offset + s.size, random));
          writeFileSync(mutant, copy);
          what = `${s.name}: ${done.join('; ')}`;
        }
        await fuzzInput(tally, `ELF #${i} ${what}`, { typed, ms: 5000, peakBytes: 256 << 20 }, async () => {
          const opened = await openSession({ kind: 'dump', file: good, symbols: mutant });
          try {
            const text = await formatReport(opened.session, await crashReport(opened.session));
            expect(text).toMatch(/^CPU 0 \(thread 1\.1\)/m);
            if (opened.session.warnings.length) warned++;
          } finally {
            await opened.close();
          }
        });
      }
      tally.report();
      console.info(
        `fuzz: mutated ELFs printing a report: ${tally.ok}/${tally.inputs} (${((100 * tally.ok) / tally.inputs).toFixed(1)}%), ${warned} with warnings`,
      );
      expect(tally.ok / tally.inputs).toBeGreaterThanOrEqual(0.9);
    },
    elfBudget.timeout,
  );
});
