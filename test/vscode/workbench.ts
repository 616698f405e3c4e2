// Driving VS Code's workbench (code-server in headless Chromium) as a user does: keys, the command
// palette, quick picks; and reading what it shows: the Call Stack, Variables, Debug Console,
// dialogs and the exception widget. Only what the end-to-end test needs.
import type { Page } from 'playwright-core';

export const WAIT_MS = 60_000;

export class Workbench {
  constructor(readonly page: Page) {}

  /** Runs a command by its palette title (F1, the title, Enter on exactly that entry). */
  command(title: string): Promise<void> {
    return this.quickInput('F1', title, title);
  }

  /** Picks the entry of the open quick pick whose label is `label`. */
  async pick(label: string): Promise<void> {
    const row = this.page.locator('.quick-input-widget .monaco-list-row', { hasText: label }).first();
    await row.waitFor({ timeout: WAIT_MS });
    await row.click();
    await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: WAIT_MS });
  }

  /**
   * Reloads the window, so VS Code reads the files the test wrote (launch.json) from disk: its file
   * watcher does not always report a change made outside the editor (seen in CI, where the picker
   * kept listing the old configurations for minutes).
   */
  async reload(): Promise<void> {
    await Promise.all([this.page.waitForEvent('load', { timeout: WAIT_MS }), this.command('Developer: Reload Window')]);
    await this.page.waitForSelector('.monaco-workbench', { timeout: WAIT_MS });
  }

  /**
   * Starts the launch configuration `name` through "Debug: Select and Start Debugging"; a picker
   * that opened before the configurations were read is closed and opened again.
   */
  async startDebugging(name: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      await this.command('Debug: Select and Start Debugging');
      const row = this.page.locator('.quick-input-widget .monaco-list-row', { hasText: name }).first();
      try {
        await row.waitFor({ timeout: 10_000 });
      } catch {
        const rows = await this.page.locator('.quick-input-widget .monaco-list-row').allInnerTexts();
        if (attempt === 5) throw new Error(`no launch configuration '${name}' among ${JSON.stringify(rows)} after ${attempt} tries`);
        await this.page.keyboard.press('Escape');
        continue;
      }
      await row.click();
      await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: WAIT_MS });
      return;
    }
  }

  /** Opens a workspace file by name through Quick Open and puts the cursor on `line`. */
  async open(file: string, line: number): Promise<void> {
    await this.quickInput('Control+P', file, file);
    await this.page.locator('.tab.active', { hasText: file }).waitFor({ timeout: WAIT_MS });
    await this.quickInput('Control+G', String(line));
    await this.page.locator('.statusbar-item', { hasText: `Ln ${line}, Col` }).waitFor({ timeout: WAIT_MS });
  }

  /**
   * Opens a quick input with `key`, fills in `text` and takes the entry `row` (or just Enter).
   * Filled, never typed: a quick input that an editor's late focus closes must not leave the
   * text in that editor. Such a close is retried.
   */
  private async quickInput(key: string, text: string, row?: string): Promise<void> {
    const widget = this.page.locator('.quick-input-widget');
    for (let attempt = 1; ; attempt++) {
      try {
        await widget.waitFor({ state: 'hidden', timeout: WAIT_MS });
        await this.page.keyboard.press(key);
        const input = this.page.locator('.quick-input-widget input:focus');
        await input.waitFor({ timeout: 10_000 });
        // After the prefix the key put there: `>` for commands, `:` for a line.
        await input.fill((await input.inputValue()) + text);
        if (row) await widget.locator('.monaco-list-row.focused', { hasText: row }).first().waitFor({ timeout: 10_000 });
        await input.press('Enter', { timeout: 5_000 });
        return;
      } catch (e) {
        if (attempt === 3) throw e;
        await this.page.keyboard.press('Escape');
      }
    }
  }

  /** Call Stack rows, top to bottom, as screen readers get them ("Thread NAME STATE", "Stack Frame F, line N, FILE"). */
  callStack(): Promise<string[]> {
    return this.page.evaluate(() =>
      [...document.querySelectorAll('.debug-call-stack .monaco-list-row')].map((r) => r.getAttribute('aria-label') ?? ''),
    );
  }

  /**
   * Waits until the Call Stack shows a thread row matching `thread` whose top frame (the row
   * under it) matches `frame`; returns that thread row.
   */
  async untilStopped(thread: RegExp, frame: RegExp): Promise<string> {
    await this.page.waitForFunction(
      ([t, f]) => {
        const rows = [...document.querySelectorAll('.debug-call-stack .monaco-list-row')].map((r) => r.getAttribute('aria-label') ?? '');
        return rows.some((r, i) => new RegExp(t).test(r) && new RegExp(f).test(rows[i + 1] ?? ''));
      },
      [thread.source, frame.source],
      { timeout: WAIT_MS },
    );
    return (await this.callStack()).find((l) => thread.test(l))!;
  }

  /**
   * Every Call Stack row, also those scrolled out of view (the list renders only what is visible):
   * the list is scrolled down a page at a time, then back to the top.
   */
  async callStackAll(): Promise<string[]> {
    const list = this.page.locator('.debug-call-stack .monaco-list').first();
    await list.hover();
    const seen: string[] = [];
    for (let i = 0; i < 20; i++) {
      const before = seen.length;
      for (const r of await this.callStack()) if (!seen.includes(r)) seen.push(r);
      if (i > 0 && seen.length === before) break;
      await this.page.mouse.wheel(0, 300);
      await this.page.waitForTimeout(100);
    }
    await this.page.mouse.wheel(0, -10_000);
    return seen;
  }

  /** Variables rows as shown ("name = value" or a scope's name). */
  variables(): Promise<string[]> {
    return this.page.evaluate(() =>
      [...document.querySelectorAll('.debug-variables .monaco-list-row')].map((r) =>
        (r as HTMLElement).innerText.replace(/\s+/g, ' ').trim(),
      ),
    );
  }

  /** Expands the Variables row `name` (a scope or a struct) if it is collapsed. */
  async expand(name: string): Promise<void> {
    const row = this.page.locator('.debug-variables .monaco-list-row', { hasText: name }).first();
    if ((await row.getAttribute('aria-expanded')) === 'false') await row.click();
    await this.page.waitForFunction(
      (n) =>
        [...document.querySelectorAll('.debug-variables .monaco-list-row')].some(
          (r) => (r as HTMLElement).innerText.trim().startsWith(n) && r.getAttribute('aria-expanded') === 'true',
        ),
      name,
    );
  }

  /** The notifications on screen (errors VS Code pops up, among them). */
  notifications(): Promise<string[]> {
    return this.page.locator('.notifications-toasts .notification-toast').allInnerTexts();
  }

  /** Whether a debug session runs (its toolbar is up). */
  debugging(): Promise<boolean> {
    return this.page.locator('.debug-toolbar').isVisible();
  }
}
