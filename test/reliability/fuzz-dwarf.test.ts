// Fuzzing the DWARF and CFI readers one section at a time: each mutant changes a single section of
// a real image (the others stay intact, so decoding gets past the unit headers into the part under
// test) and aims at its structure: unit and table headers, DIE starts, line program header fields
// and opcodes, location and range list entries, CIEs and FDEs, as readelf and the readers
// themselves locate them in the original. Everything that section feeds is exercised: DIE trees,
// line tables and their lookups, range and location lists, unwind rows. Slices of Debian's
// vmlinux too (mutations inside one randomly chosen unit; fetched into the cache once): 4 in npm test.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fdeRows, parseFrameSection, CfiTable } from '../../symbols/cfi/index.js';
import { DW_AT, DW_FORM } from '../../symbols/dwarf/constants.js';
import { hasLocationList, unitTopLevel, unitVariables } from '../../symbols/dwarf/die-scan.js';
import { Dwarf, memorySource } from '../../symbols/dwarf/dwarf.js';
import { isLocationList, locationAt, readLocationList } from '../../symbols/dwarf/loclists.js';
import { readUnitHeaders, type Unit } from '../../symbols/dwarf/unit.js';
import { UnitFunctions } from '../../symbols/functions.js';
import { ElfFile, FormatError } from '../../symbols/index.js';
import { lineRow, rowRefAt, stepLineOf } from '../../symbols/lines.js';
import { NameIndex } from '../../symbols/names.js';
import { UnitIndex } from '../../symbols/unit-index.js';
import { below, Budget, fuzzInput, LONG, mutateInPlace, pick, rng, Tally } from '../support/fuzz.js';
import { vmlinux } from '../support/vmlinux.js';

const root = path.resolve(import.meta.dirname, '../../fixtures/unikernel');
const DWARF_SECTIONS = [
  '.debug_info',
  '.debug_abbrev',
  '.debug_line',
  '.debug_loclists',
  '.debug_rnglists',
  '.debug_str',
  '.debug_line_str',
  '.debug_addr',
  '.debug_str_offsets',
  '.debug_aranges',
];
const LOCATION_ATTRS = new Set<number>([DW_AT.location, DW_AT.frame_base]);
const typed = [FormatError];

/** DWARF over sections in memory, address keys from the image's code (as SymbolFile sets them up). */
function dwarfOf(get: (name: string) => Uint8Array | undefined, base: bigint): Dwarf {
  return new Dwarf(memorySource(get), base);
}

/** Everything a section feeds, for the units `only` keeps: a typed error is thrown after all units had their turn. */
function exerciseDwarf(dwarf: Dwarf, only: (u: Unit) => boolean = () => true): void {
  let refusal: unknown;
  for (const unit of dwarf.compileUnits) {
    if (!only(unit)) continue;
    try {
      const prog = unit.lineProgram;
      const rows = prog?.rows();
      for (let s = 0; prog && rows && s < rows.sequenceCount; s++) {
        for (const key of [rows.seqStart[s]!, Math.floor((rows.seqStart[s]! + rows.seqEnd[s]!) / 2)]) {
          const row = prog.rowAt(key, true);
          if (row) lineRow(prog, row);
          const ref = rowRefAt(rows, key);
          if (ref) stepLineOf(rows, ref, dwarf.keys.toBigint(key));
        }
      }
      // The symbolizer's raw scan of the unit and of every function body, and the names it finds.
      const fns = new UnitFunctions(unit);
      const names = new Set<string>();
      fns.forEachEntry((b, e) => names.add(fns.entryName(b, e) ?? ''));
      // The raw walks name lookups make, and lookups of the names found (through the string search).
      for (const v of unitVariables(unit)) if (v.origin >= 0) dwarf.unitAt(v.origin)?.dieHeader(v.origin);
      for (const t of unitTopLevel(unit).types) names.add(String(t.name.value));
      hasLocationList(unit);
      const index = new NameIndex(dwarf, new UnitIndex(dwarf));
      for (const n of [...names].slice(0, 4)) {
        index.functions(n);
        index.global(n);
        index.type(n);
      }
      for (const die of unit.dies) {
        const ranges = die.has(DW_AT.low_pc) || die.has(DW_AT.ranges) ? unit.ranges(die) : [];
        for (const a of die.attrs) {
          if (LOCATION_ATTRS.has(a.name) && isLocationList(a)) locationAt(readLocationList(unit, a), ranges[0]?.start ?? 0n);
        }
        if (ranges.length) die.resolvedName;
      }
    } catch (e) {
      if (!(e instanceof FormatError)) throw e;
      refusal ??= e;
    }
  }
  if (refusal) throw refusal;
}

function exerciseFrames(kind: 'eh_frame' | 'debug_frame', bytes: Uint8Array, address: bigint): void {
  const table = new CfiTable(kind === 'eh_frame' ? { ehFrame: { bytes, address } } : { debugFrame: { bytes, address } });
  for (const fde of table.fdes) {
    fdeRows(fde);
    table.findFde(fde.start);
  }
}

/** Section offsets readelf prints at the start of its lines for `dump` (entries, opcodes, headers). */
function readelfOffsets(elf: string, dump: string, re: RegExp): number[] {
  const out = execFileSync('readelf', [`--debug-dump=${dump}`, elf], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return [...out.matchAll(re)].map((m) => parseInt(m[1]!, 16));
}

/** The list-section headers (unit_length, version, sizes, offset count) of .debug_loclists/.debug_rnglists. */
function listHeaders(bytes: Uint8Array): number[] {
  const out: number[] = [];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at + 12 <= bytes.length; at += 4 + dv.getUint32(at, true)) out.push(at, at + 4, at + 6, at + 8);
  return out;
}

interface Target {
  image: string;
  section: string;
  bytes: Uint8Array;
  /** Offsets worth aiming at. */
  points: number[];
  run(mutated: Uint8Array): void;
}

/** The reference unikernel built with .debug_frame instead of .eh_frame (gcc -O2), in `dir`. */
function buildWithDebugFrame(dir: string): string {
  const src = path.join(root, 'src');
  const objects = readdirSync(src)
    .filter((f) => /\.[cS]$/.test(f))
    .map((f) => {
      const o = path.join(dir, `${f}.o`);
      // app_fp.c is the one file with floating point, as in the Makefile.
      const regs = f === 'app_fp.c' ? [] : ['-mgeneral-regs-only'];
      execFileSync('gcc', [
        '-O2',
        '-std=gnu11',
        '-ffreestanding',
        '-nostdlib',
        '-fno-pic',
        '-fno-pie',
        '-fno-stack-protector',
        '-mno-red-zone',
        ...regs,
        '-fno-asynchronous-unwind-tables',
        '-fno-unwind-tables',
        '-g',
        `-I${src}`,
        '-c',
        path.join(src, f),
        '-o',
        o,
      ]);
      return o;
    });
  const out = path.join(dir, 'kernel.elf');
  execFileSync('ld', [
    '-m',
    'elf_x86_64',
    '-nostdlib',
    '-static',
    '-z',
    'max-page-size=0x1000',
    '-z',
    'noexecstack',
    '--build-id=none',
    '-T',
    path.join(root, 'linker.ld'),
    '-o',
    out,
    ...objects,
  ]);
  return out;
}

describe('DWARF and CFI sections in isolation', () => {
  const targets: Target[] = [];
  let dir: string;

  beforeAll(async () => {
    execFileSync('make', ['-s', '-C', root]);
    dir = mkdtempSync(path.join(os.tmpdir(), 'duster-fuzz-dwarf-'));
    const images = Object.fromEntries(['gcc-O0', 'gcc-O2', 'clang-O2'].map((b) => [b, path.join(root, 'build', b, 'kernel.elf')]));
    images['gcc-O2 .debug_frame'] = buildWithDebugFrame(dir);
    for (const [build, file] of Object.entries(images)) {
      if (!existsSync(file)) continue;
      const elf = await ElfFile.open(file);
      const sections = new Map(DWARF_SECTIONS.flatMap((n) => (elf.section(n) ? [[n, elf.sectionData(n)!] as const] : [])));
      const base = elf.section('.text')?.addr ?? 0n;
      const original = dwarfOf((n) => sections.get(n), base);
      const withSection = (name: string) => (mutated: Uint8Array) =>
        exerciseDwarf(dwarfOf((n) => (n === name ? mutated : sections.get(n)), base));
      const add = (section: string, points: number[], run = withSection(section)) => {
        const bytes = section.endsWith('frame') ? elf.sectionData(section) : sections.get(section);
        if (bytes?.length) targets.push({ image: build, section, bytes, points: points.filter((p) => p < bytes.length), run });
      };
      add(
        '.debug_info',
        original.units.flatMap((u) => [u.offset, u.offset + 4, u.offset + 6, ...u.dies.map((d) => d.offset)]),
      );
      add(
        '.debug_abbrev',
        original.units.map((u) => u.abbrevOffset),
      );
      add('.debug_line', [
        ...readelfOffsets(file, 'rawline', /^ {2}Offset:\s+0x([0-9a-f]+)$/gm).flatMap((o) => [
          o,
          o + 4,
          o + 6,
          o + 8,
          o + 12,
          o + 13,
          o + 14,
          o + 15,
          o + 16,
          o + 17,
          o + 18,
        ]),
        ...readelfOffsets(file, 'rawline', /\(offset 0x([0-9a-f]+), lines/g),
        ...readelfOffsets(file, 'rawline', /^ {2}\[0x([0-9a-f]+)\]/gm),
      ]);
      for (const [section, dump] of [
        ['.debug_loclists', 'loc'],
        ['.debug_rnglists', 'Ranges'],
      ] as const) {
        const bytes = sections.get(section);
        if (bytes) add(section, [...listHeaders(bytes), ...readelfOffsets(file, dump, /^ {4}([0-9a-f]{8}) /gm)]);
      }
      for (const kind of ['eh_frame', 'debug_frame'] as const) {
        const s = elf.section(`.${kind}`);
        if (!s) continue;
        const bytes = elf.sectionData(s)!;
        const { cies, fdes } = parseFrameSection({ kind, bytes, address: s.addr, addressSize: 8 });
        add(
          `.${kind}`,
          [...cies, ...fdes].flatMap((e) => [e.offset, e.offset + 4, e.offset + 8]),
          (m) => exerciseFrames(kind, m, s.addr),
        );
      }
      elf.close();
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const CI = 240;
  const budget = new Budget(CI, 0.5, 50);
  it(
    `survives targeted mutations of one section at a time (${CI} in npm test)`,
    async () => {
      expect(new Set(targets.map((t) => t.section))).toEqual(
        new Set(['.debug_info', '.debug_abbrev', '.debug_line', '.debug_loclists', '.debug_rnglists', '.eh_frame', '.debug_frame']),
      );
      // The originals decode cleanly: a refusal below is the mutation's doing.
      for (const t of targets) t.run(t.bytes);
      const random = rng(0x5ec7);
      const tallies = new Map<string, Tally>();
      const sections = [...new Set(targets.map((t) => t.section))];
      for (let i = 0; budget.more(i); i++) {
        const section = pick(random, sections);
        const t = pick(
          random,
          targets.filter((x) => x.section === section),
        );
        const copy = Uint8Array.from(t.bytes);
        const p = pick(random, t.points);
        let input = copy;
        let what: string;
        const action = below(random, 10);
        if (action < 4) what = mutateInPlace(copy, p, Math.min(p + 12, copy.length), random);
        else if (action < 7) {
          copy[p] = below(random, 16);
          what = `byte 0x${copy[p]!.toString(16)} at structure 0x${p.toString(16)}`;
        } else if (action < 9) {
          input = copy.subarray(0, p + below(random, 4));
          what = `truncated at 0x${input.length.toString(16)}`;
        } else what = mutateInPlace(copy, 0, copy.length, random);
        const tally = tallies.get(t.section) ?? tallies.set(t.section, new Tally(`${t.section} in isolation`)).get(t.section)!;
        await fuzzInput(tally, `#${i} ${t.image} ${t.section}: ${what}`, { typed, ms: 2000, peakBytes: 64 << 20 }, () => t.run(input));
      }
      for (const t of tallies.values()) t.report();
      // Refusals and successes both happen: the mutations reach past the first check.
      const all = [...tallies.values()];
      expect(all.reduce((n, t) => n + t.refused, 0)).toBeGreaterThan(0);
      expect(all.reduce((n, t) => n + t.ok, 0)).toBeGreaterThan(0);
    },
    budget.timeout,
  );
});

describe('slices of vmlinux', () => {
  const budget = new Budget(LONG ? 20 : 4, 0.02, 5000);
  const NAMES = ['.debug_info', '.debug_abbrev', '.debug_line', '.debug_loclists', '.debug_rnglists'];
  it(
    'survives mutations inside one unit of one section at a time',
    async () => {
      const elf = await ElfFile.open(vmlinux());
      const sections = new Map(DWARF_SECTIONS.flatMap((n) => (elf.section(n) ? [[n, elf.sectionData(n)!] as const] : [])));
      const info = sections.get('.debug_info')!;
      const headers = readUnitHeaders((o, l) => info.subarray(o, o + l), info.length, '.debug_info');
      const base = elf.section('.text')?.addr ?? 0n;
      const random = rng(0x7a11);
      const tally = new Tally('vmlinux unit slices');
      for (let i = 0; budget.more(i); i++) {
        const h = pick(random, headers);
        // The unit's own structure, from an unmutated read.
        const clean = dwarfOf((n) => sections.get(n), base).unitAt(h.offset)!;
        const line = clean.unitDie.attr(DW_AT.stmt_list)?.value as number | undefined;
        // Where this unit's lists start, from its DIEs' DW_FORM_sec_offset references.
        const lists = { '.debug_loclists': [] as number[], '.debug_rnglists': [] as number[] };
        for (const d of clean.dies) {
          for (const a of d.attrs) {
            if (a.form !== DW_FORM.sec_offset || typeof a.value !== 'number') continue;
            if (a.name === DW_AT.ranges) lists['.debug_rnglists'].push(a.value);
            else if (LOCATION_ATTRS.has(a.name)) lists['.debug_loclists'].push(a.value);
          }
        }
        const name = pick(
          random,
          NAMES.filter(
            (n) =>
              sections.has(n) && (n === '.debug_line' ? line !== undefined : n in lists ? lists[n as keyof typeof lists].length > 0 : true),
          ),
        );
        const bytes = sections.get(name)!;
        const list = name in lists ? pick(random, lists[name as keyof typeof lists]) : 0;
        const [from, to] =
          name === '.debug_info'
            ? [h.offset, h.end]
            : name === '.debug_abbrev'
              ? [h.abbrevOffset, Math.min(bytes.length, h.abbrevOffset + 4096)]
              : name === '.debug_line'
                ? [line!, Math.min(bytes.length, line! + 8192)]
                : [list, Math.min(bytes.length, list + 64)];
        const saved = bytes.slice(from, to);
        const truncate = random() < 0.2;
        const what = truncate ? `truncated at 0x${from.toString(16)}+` : mutateInPlace(bytes, from, to, random);
        const cut = from + below(random, Math.max(1, to - from));
        const view = truncate ? bytes.subarray(0, cut) : bytes;
        try {
          await fuzzInput(
            tally,
            `#${i} unit 0x${h.offset.toString(16)} ${name}: ${what}`,
            { typed, ms: 20_000, peakBytes: 512 << 20 },
            () =>
              exerciseDwarf(
                dwarfOf((n) => (n === name ? view : sections.get(n)), base),
                (u) => u.offset === h.offset,
              ),
          );
        } finally {
          bytes.set(saved, from);
        }
      }
      elf.close();
      tally.report();
      expect(tally.inputs).toBeGreaterThan(0);
    },
    budget.timeout,
  );
});
