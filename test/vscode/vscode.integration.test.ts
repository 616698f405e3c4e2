// End to end in a real VS Code: code-server (VS Code 1.100 as a web app, from the npm registry)
// in Debian's headless Chromium, driven by playwright-core as a user would, all on 127.0.0.1.
// The freshly built .vsix (`npm run vsix`) is installed with default settings, the repository is
// opened, and the launch configuration VS Code generates from the extension is used: F5 stops at
// the image's entry point, then at a breakpoint; the Call Stack shows guest threads and frames,
// Variables their locals and arguments; F11, Shift+F11 and F10 move; the Debug Console prints a
// struct; Shift+F5 ends QEMU. A crash dump opens with the panic as the exception, and a launch
// configuration naming no image shows one error and starts nothing.
//
// scripts/vscode-setup.sh installs code-server and Chromium into a cache outside the repository
// (~/.cache/duster-vscode, DUSTER_VSCODE_CACHE). Screenshots of failed steps, and the two the
// READMEs show, go to DUSTER_VSCODE_SHOTS (default: a duster-vscode-shots folder in the temp dir).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WAIT_MS, Workbench } from './workbench.js';

const root = path.resolve(import.meta.dirname, '../..');
const kernel = path.join(root, 'fixtures/unikernel/build/gcc-O0/kernel.elf');
const manifest = JSON.parse(readFileSync(path.join(root, 'vscode-extension/package.json'), 'utf8'));
const vsix = path.join(root, `vscode-extension/${manifest.name}-${manifest.version}.vsix`);
const launchJson = path.join(root, '.vscode/launch.json');
const shots = process.env.DUSTER_VSCODE_SHOTS ?? path.join(os.tmpdir(), 'duster-vscode-shots');

/** The flags Chromium needs on a machine without a network or a GPU. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.colorTheme': 'Default Dark Modern',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'update.mode': 'none',
  'git.enabled': false,
  'editor.minimap.enabled': false,
  // Nothing the test types may end up in a file.
  'files.autoSave': 'off',
  'debug.saveBeforeStart': 'none',
};

/** Processes below `pid` (its children, theirs, ...), from /proc. */
function descendants(pid: number): Array<{ pid: number; comm: string }> {
  const all = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .flatMap((d) => {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        const close = stat.lastIndexOf(')');
        return [{ pid: Number(d), comm: stat.slice(stat.indexOf('(') + 1, close), ppid: Number(stat.slice(close + 2).split(' ')[1]) }];
      } catch {
        return []; // gone meanwhile
      }
    });
  const out: Array<{ pid: number; comm: string }> = [];
  const walk = (p: number) => all.filter((x) => x.ppid === p).forEach((x) => (out.push(x), walk(x.pid)));
  walk(pid);
  return out;
}

/** `.vscode/launch.json` without its comments. */
function readLaunchJson(): { configurations: Array<Record<string, unknown>> } {
  return JSON.parse(readFileSync(launchJson, 'utf8').replace(/^\s*\/\/.*$/gm, ''));
}

describe('the extension in a real VS Code (integration)', { timeout: 5 * 60_000 }, () => {
  let dir: string;
  let codeServer: ChildProcess;
  let browser: Browser;
  let page: Page;
  let wb: Workbench;
  let dump: string;
  /** What was in .vscode before (restored afterwards): the test writes its launch.json there. */
  let savedVscode: string | undefined;
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    const bin = execFileSync('bash', [path.join(root, 'scripts/vscode-setup.sh')], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    })
      .trim()
      .split('\n')
      .at(-1)!;
    execFileSync('npm', ['run', '-s', 'vsix'], { cwd: root, stdio: 'ignore' });
    execFileSync('make', ['-s', '-C', path.join(root, 'fixtures/unikernel')]);
    dir = mkdtempSync(path.join(os.tmpdir(), 'duster-vscode-'));
    mkdirSync(shots, { recursive: true });
    // A crash dump of the reference unikernel's crash app, for the crash-dump configuration.
    execFileSync(
      process.execPath,
      [
        path.join(root, 'bin/duster.js'),
        'run',
        kernel,
        '--smp',
        '2',
        '--append',
        'app=crash',
        '--dump-on-panic',
        path.join(dir, 'dumps'),
        '--batch',
        '-ex',
        'continue',
      ],
      { stdio: 'ignore' },
    );
    dump = path.join(dir, 'dumps', readdirSync(path.join(dir, 'dumps'))[0]!);

    const userData = path.join(dir, 'user-data');
    mkdirSync(path.join(userData, 'User'), { recursive: true });
    writeFileSync(path.join(userData, 'User/settings.json'), JSON.stringify(SETTINGS, null, 2));
    writeFileSync(path.join(dir, 'config.yaml'), 'bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n');
    const common = [
      '--config',
      path.join(dir, 'config.yaml'),
      '--user-data-dir',
      userData,
      '--extensions-dir',
      path.join(dir, 'extensions'),
    ];
    const env = { ...process.env, XDG_CONFIG_HOME: path.join(dir, 'xdg'), XDG_DATA_HOME: path.join(dir, 'xdg') };
    execFileSync(bin, [...common, '--install-extension', vsix], { env, stdio: 'ignore' });

    if (existsSync(path.join(root, '.vscode'))) renameSync(path.join(root, '.vscode'), (savedVscode = path.join(dir, 'saved-vscode')));
    codeServer = spawn(
      bin,
      [...common, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override', root],
      { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const port = await new Promise<number>((resolve, reject) => {
      let log = '';
      const seen = (d: Buffer) => {
        log += d.toString();
        const m = /HTTP server listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(log);
        if (m) resolve(Number(m[1]));
      };
      codeServer.stdout!.on('data', seen);
      codeServer.stderr!.on('data', seen);
      codeServer.once('exit', (code) => reject(new Error(`code-server exited (${code}): ${log}`)));
    });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    wb = new Workbench(page);
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(root)}`);
    await page.waitForSelector('.monaco-workbench', { timeout: WAIT_MS });
  }, 30 * 60_000);

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail' && page)
      await page.screenshot({ path: path.join(shots, `failed-${ctx.task.name.replace(/\W+/g, '-')}.png`) }).catch(() => undefined);
  });

  afterAll(async () => {
    await browser?.close();
    if (codeServer?.pid && codeServer.exitCode === null) {
      const exited = new Promise((r) => codeServer.once('exit', r));
      process.kill(-codeServer.pid, 'SIGTERM');
      await exited;
    }
    rmSync(path.join(root, '.vscode'), { recursive: true, force: true });
    if (savedVscode) renameSync(savedVscode, path.join(root, '.vscode'));
    if (dir) rmSync(dir, { recursive: true, force: true });
    console.info(`VS Code e2e timings (ms): ${JSON.stringify(timings)}`);
  });

  it('generates the launch configuration from the extension', async () => {
    await page.keyboard.press('Control+Shift+D');
    const create = page.locator('.part.sidebar a', { hasText: 'create a launch.json file' });
    await create.waitFor({ timeout: WAIT_MS });
    await create.click();
    await wb.pick(manifest.contributes.debuggers[0].label);
    await page.locator('.tab.active', { hasText: 'launch.json' }).waitFor({ timeout: WAIT_MS });
    expect(readLaunchJson().configurations).toEqual(manifest.contributes.debuggers[0].initialConfigurations);
    // VS Code leaves the new file's editor with the cursor in the list, suggesting more: as saved, closed.
    await wb.command('File: Revert File');
    await wb.command('View: Close All Editors');
    await page.locator('.tab').first().waitFor({ state: 'detached', timeout: WAIT_MS });
  });

  it('F5 stops at the image entry point (stopOnEntry)', async () => {
    await wb.open('app_demo.c', 165);
    await page.keyboard.press('F9');
    const t0 = Date.now();
    await page.keyboard.press('F5');
    // The thread is the vCPU itself: the guest has no threads yet.
    await wb.untilStopped(/^Thread CPU 0 Paused on entry$/, /^Stack Frame _start32, line 57, boot\.S$/);
    timings.f5ToEntry = Date.now() - t0;
    await page.locator('.tab.active', { hasText: 'boot.S' }).waitFor({ timeout: WAIT_MS });
  });

  let worker: { name: string; id: number; cpu: number };

  it('continues to the breakpoint: the Call Stack shows guest threads and their frames', async () => {
    const t0 = Date.now();
    await page.keyboard.press('F5');
    const thread = await wb.untilStopped(
      /^Thread worker-\d \(2\.\d+\) on CPU \d Breakpoint 1$/,
      /^Stack Frame worker_step, line 165, app_demo\.c$/,
    );
    timings.continueToBreakpoint = Date.now() - t0;
    const m = /^Thread (worker-(\d)) \(2\.\d+\) on CPU (\d) /.exec(thread)!;
    worker = { name: m[1]!, id: Number(m[2]), cpu: Number(m[3]) };
    const rows = await wb.callStack();
    const at = rows.indexOf(thread);
    expect(rows.slice(at + 1, at + 4)).toEqual([
      'Stack Frame worker_step, line 165, app_demo.c',
      'Stack Frame worker_thread, line 177, app_demo.c',
      'Stack Frame thread_trampoline, line 219, entry.S',
    ]);
    // Every thread the guest announced before this stop (`thread N NAME started` in the Debug
    // Console) is there, by its name and gdb's thread number (some rows may be scrolled out of view).
    const replText = (await page.locator('.repl .monaco-list-row').allInnerTexts()).join('\n');
    const started = [...replText.matchAll(/thread \d+ (\S+) started on cpu \d/g)].map((m) => m[1]!);
    expect(started).toContain(worker.name);
    const all = await wb.callStackAll();
    for (const name of started)
      expect(
        all.some((r) => new RegExp(`^Thread ${name} \\(2\\.\\d+\\) `).test(r)),
        name,
      ).toBe(true);
  });

  it('shows the locals and arguments of the frame with their values', async () => {
    await wb.expand('Locals');
    await wb.expand('Arguments');
    const vars = await wb.variables();
    // worker_step: b = w->id + 3, result = op(a, b), w the worker's own state.
    expect(vars).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^op = \(binary_op\) 0x[0-9a-f]+ <op_(add|mul|xor)>$/),
        expect.stringMatching(/^a = \d+$/),
        `b = ${worker.id + 3}`,
        expect.stringMatching(/^result = -?\d+$/),
      ]),
    );
    expect(vars).toEqual(expect.arrayContaining([expect.stringMatching(/^w = \(struct worker_state \*\) 0x[0-9a-f]+ <workers(\+\d+)?>$/)]));
    // Nothing went wrong on the way, so nothing popped up.
    expect(await wb.notifications()).toEqual([]);
    await page.screenshot({ path: path.join(shots, 'breakpoint.png') });
  });

  it('steps into, out of and over a call (F11, Shift+F11, F10)', async () => {
    // Alone on this line: the other worker would stop at the breakpoint in the middle of a step.
    await wb.command('Remove All Breakpoints');
    for (const [key, frame] of [
      ['F11', /^Stack Frame compute_checksum, line 132, app_demo\.c$/],
      ['Shift+F11', /^Stack Frame worker_step, line 165, app_demo\.c$/],
      ['F10', /^Stack Frame worker_step, line 166, app_demo\.c$/],
    ] as const) {
      const t0 = Date.now();
      await page.keyboard.press(key);
      await wb.untilStopped(new RegExp(`^Thread ${worker.name} \\(2\\.\\d+\\) on CPU \\d Paused on step$`), frame);
      timings[key] = Date.now() - t0;
    }
    expect(await wb.notifications()).toEqual([]);
  });

  it('evaluates a struct in the Debug Console', async () => {
    await page.keyboard.press('Control+Shift+Y');
    const input = page.locator('.repl-input-wrapper .monaco-editor');
    await input.waitFor({ timeout: WAIT_MS });
    await input.click();
    await page.keyboard.type('demo_config');
    await page.keyboard.press('Enter');
    const answer = page.locator('.repl .monaco-list-row', { hasText: 'max_items = 8' }).last();
    await answer.waitFor({ timeout: WAIT_MS });
    expect((await answer.innerText()).trim()).toMatch(
      /^\{name = 0x[0-9a-f]+ "demo", max_items = 8, bounds = \{top_left = \{x = 1, y = 2\}, bottom_right = \{x = 30, y = 40\}, color = COLOR_GREEN\}, /,
    );
  });

  it('Shift+F5 ends the session and QEMU with it', async () => {
    const qemu = descendants(codeServer.pid!).filter((p) => p.comm.startsWith('qemu-system'));
    expect(qemu).toHaveLength(1);
    await page.keyboard.press('Shift+F5');
    await page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: WAIT_MS });
    await expect.poll(() => descendants(codeServer.pid!).filter((p) => p.comm.startsWith('qemu-system')), { timeout: 10_000 }).toEqual([]);
    expect(existsSync(`/proc/${qemu[0]!.pid}`)).toBe(false);
  });

  it('opens a crash dump stopped on the panic, shown as the exception with the faulting frame', async () => {
    const { configurations } = readLaunchJson();
    const symbols = '${workspaceFolder}/fixtures/unikernel/build/gcc-O0/kernel.elf';
    configurations.push(
      { type: 'duster', request: 'launch', name: 'duster: crash dump', coreDump: dump, symbols },
      { type: 'duster', request: 'launch', name: 'duster: no such image', image: '${workspaceFolder}/no/such/kernel.elf' },
    );
    writeFileSync(launchJson, JSON.stringify({ version: '0.2.0', configurations }, null, 2));
    expect(readLaunchJson().configurations.map((c) => c.name)).toEqual(
      expect.arrayContaining(['duster: crash dump', 'duster: no such image']),
    );
    await wb.reload();
    expect(readLaunchJson().configurations.map((c) => c.name)).toEqual(
      expect.arrayContaining(['duster: crash dump', 'duster: no such image']),
    );
    await wb.startDebugging('duster: crash dump');
    const widget = page.locator('.exception-widget');
    await widget.waitFor({ timeout: WAIT_MS });
    const text = await widget.innerText();
    const panic =
      /^Exception has occurred: panic\s+(PANIC: Page Fault \(vector 14\) at RIP=(0x[0-9a-f]+) CR2=0x0 cpu=(\d))\s+at (0x[0-9a-f]+) in crash_write at src\/app_crash\.c:17\s+faulting instruction: mov\s+%edx,\(%rax\)$/.exec(
        text.trim(),
      );
    expect(panic, text).not.toBeNull();
    expect(panic![4]).toBe(panic![2]);
    // On the CPU the guest says panicked, in the thread that faulted; its stack has the faulting frame.
    const thread = await wb.untilStopped(
      new RegExp(`^Thread crasher \\(2\\.\\d+\\) on CPU ${panic![3]} Paused on panic$`),
      /^Stack Frame /,
    );
    const rows = await wb.callStack();
    expect(rows.slice(rows.indexOf(thread) + 1)).toEqual(expect.arrayContaining(['Stack Frame crash_write, line 17, app_crash.c']));
    await page.screenshot({ path: path.join(shots, 'crash-dump.png') });
    await page.keyboard.press('Shift+F5');
    await page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: WAIT_MS });
  });

  it('reports a launch configuration without an image in one dialog, and starts nothing', async () => {
    await wb.startDebugging('duster: no such image');
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: WAIT_MS });
    const lines = (await dialog.innerText())
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    expect(lines.sort()).toEqual([`image '${root}/no/such/kernel.elf' is not a readable file`, 'Cancel', "Open 'launch.json'"].sort());
    await dialog.locator('.monaco-button', { hasText: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await wb.debugging()).toBe(false);
    expect(await wb.callStack()).toEqual([]);
    expect(descendants(codeServer.pid!).filter((p) => p.comm.startsWith('qemu-system'))).toEqual([]);
  });
});
