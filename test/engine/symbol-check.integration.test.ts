// Integration: symbols checked against the guest. The reference unikernel (gcc-O0) crashes in QEMU
// and is dumped; the dump, a Xen dump-core made from it and a live QEMU of the same image are opened
// with the right ELF (silent) and with a build of one changed line in boot.S (one warning naming
// both build IDs, and every backtrace header says so). The same builds linked without a build ID
// note are told apart by samples of their code and read-only data instead.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatReport, reportData } from '../../src/commands/report.js';
import { crashReport } from '../../src/engine/crash-report.js';
import { openSession, type SessionConfig } from '../../src/open/index.js';
import { dumpGuest, fixtures, kernel } from '../support/dump-guest.js';
import { qemuCoreToXen } from '../support/dump-xen.js';
import { buildCopy, changeOneLine, readelfBuildId } from '../support/wrong-build.js';

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../..');

/** Opens a session, returns its warnings and its crash report (text and JSON), closes it. */
async function openAndReport(config: SessionConfig): Promise<{ warnings: string[]; text: string; json: Record<string, unknown> }> {
  const opened = await openSession(config);
  try {
    const { session } = opened;
    const report = await crashReport(session);
    return {
      warnings: session.warnings.map((w) => w.message),
      text: await formatReport(session, report),
      json: await reportData(session, report),
    };
  } finally {
    await opened.close({ terminate: true });
  }
}

describe('symbols checked against the guest (integration)', () => {
  let dir: string;
  let dump: string;
  let xenDump: string;
  let wrong: string;
  let wrongNoId: string;
  let rightNoId: string;

  beforeAll(async () => {
    execFileSync('make', ['-s', '-C', fixtures]);
    dir = mkdtempSync(path.join(os.tmpdir(), 'duster-symcheck-'));
    wrong = buildCopy(path.join(dir, 'wrong'), changeOneLine);
    wrongNoId = buildCopy(path.join(dir, 'wrong-no-id'), changeOneLine, { noBuildId: true });
    rightNoId = buildCopy(path.join(dir, 'right-no-id'), (b) => b, { noBuildId: true });
    dump = (await dumpGuest({ app: 'crash', smp: 2, memory: '32M', file: path.join(dir, 'crash.core') })).path;
    xenDump = path.join(dir, 'crash.xen');
    await qemuCoreToXen(dump, xenDump, 'hvm');
  }, 240_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the reference kernel carries a build ID note, and the one-line change gives another', () => {
    expect(readelfBuildId(kernel)).toMatch(/^[0-9a-f]{40}$/);
    expect(readelfBuildId(wrong)).toMatch(/^[0-9a-f]{40}$/);
    expect(readelfBuildId(wrong)).not.toBe(readelfBuildId(kernel));
    expect(readelfBuildId(wrongNoId)).toBeUndefined();
  });

  it('a QEMU dump and a Xen dump-core opened with the right build: no warning, no mark on backtraces', async () => {
    for (const file of [dump, xenDump]) {
      const r = await openAndReport({ kind: 'dump', file, symbols: kernel });
      expect(r.warnings, file).toEqual([]);
      expect(r.text).toMatch(/crash_write/);
      expect(r.text).not.toMatch(/symbols do not match/);
      expect(r.json.warnings).toBeUndefined();
    }
  });

  it('the same dumps opened with the wrong build: one warning naming both build IDs, on every backtrace header', async () => {
    for (const file of [dump, xenDump]) {
      const r = await openAndReport({ kind: 'dump', file, symbols: wrong });
      expect(r.warnings, file).toHaveLength(1);
      expect(r.warnings[0]).toContain(`kernel.elf has build ID ${readelfBuildId(wrong)}`);
      expect(r.warnings[0]).toContain(`the guest has build ID ${readelfBuildId(kernel)}`);
      const headers = r.text.split('\n').filter((l) => /^CPU \d .*\(thread 1\.\d+\)/.test(l) || /saved context:/.test(l));
      expect(headers.length).toBeGreaterThanOrEqual(2);
      for (const h of headers) expect(h, file).toContain('(symbols do not match the guest)');
      expect(r.json.symbolsMismatch).toBe(true);
      expect(r.json.warnings).toEqual([
        expect.objectContaining({ kind: 'symbols-mismatch', imageBuildId: readelfBuildId(wrong), guestBuildId: readelfBuildId(kernel) }),
      ]);
    }
  });

  it('without build ID notes, samples of code and read-only data tell the builds apart', async () => {
    const right = await openAndReport({ kind: 'dump', file: dump, symbols: rightNoId });
    expect(right.warnings).toEqual([]);
    const bad = await openAndReport({ kind: 'dump', file: dump, symbols: wrongNoId });
    expect(bad.warnings).toHaveLength(1);
    expect(bad.warnings[0]).toMatch(/symbols do not match the guest: [1-4] of 4 samples of kernel\.elf's code and read-only data differ/);
  });

  it('a live guest (QEMU at its entry) checked the same way: silent with its own image, one warning with the wrong one', async () => {
    const right = await openSession({ kind: 'launch', image: kernel });
    try {
      expect(right.session.warnings).toEqual([]);
    } finally {
      await right.close({ terminate: true });
    }
    const bad = await openSession({ kind: 'launch', image: kernel, symbols: wrong });
    try {
      expect(bad.session.warnings.map((w) => w.kind)).toEqual(['symbols-mismatch']);
      expect(bad.session.symbolsMismatch).toBe(true);
    } finally {
      await bad.close({ terminate: true });
    }
  }, 60_000);

  it('duster core prints the warning once on stderr and marks the backtraces; with the right ELF stderr stays empty', async () => {
    const cli = (symbols: string) =>
      run('node', [path.join(repo, 'bin/duster.js'), 'core', dump, '--symbols', symbols, '--report'], {
        timeout: 120_000,
        maxBuffer: 16 << 20,
      });
    const bad = await cli(wrong);
    expect(bad.stderr.match(/^warning: symbols do not match the guest/gm)).toHaveLength(1);
    expect(bad.stdout).toMatch(/\(thread 1\.1\) \(symbols do not match the guest\)/);
    const good = await cli(kernel);
    expect(good.stderr).toBe('');
    expect(good.stdout).not.toMatch(/symbols do not match/);
    // The console: the warning once when it opens, and `bt` headed by the mark.
    const batch = await run(
      'node',
      [path.join(repo, 'bin/duster.js'), 'core', dump, '--symbols', wrong, '--batch', '-ex', 'bt', '-ex', 'bt 1'],
      { timeout: 120_000 },
    );
    expect(batch.stderr.match(/^warning: symbols do not match the guest/gm)).toHaveLength(1);
    expect(batch.stdout.match(/^\(duster\) bt.*\n\(symbols do not match the guest\)\n#0 /gm)).toHaveLength(2);
  }, 60_000);
});
