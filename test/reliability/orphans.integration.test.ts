// No orphan QEMU: when `duster run` is ended by a signal (Ctrl-C in batch mode, SIGTERM, a closed
// terminal) its QEMU goes with it.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = path.resolve(import.meta.dirname, '../..');
const kernel = path.join(repo, 'fixtures/unikernel/build/gcc-O0/kernel.elf');

/** QEMU processes whose command line names this socket directory. */
function qemusFor(dir: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(dir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('no orphan QEMU (integration)', () => {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    it(`kills its QEMU when ended by ${signal}`, async () => {
      const child = spawn('node', [path.join(repo, 'bin/duster.js'), 'run', kernel, '--append', 'app=demo', '--batch', '-ex', 'continue'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const dir = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no attach line: ${out}`)), 20_000);
        child.stdout.on('data', () => {
          const m = /attached to unix:(\/\S+)\/gdb\.sock/.exec(out);
          if (m && out.includes('Continuing.')) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
      });
      expect(qemusFor(dir)).toHaveLength(1);
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
      for (let i = 0; i < 50 && qemusFor(dir).length; i++) await new Promise((r) => setTimeout(r, 100));
      expect(qemusFor(dir)).toEqual([]);
      expect(existsSync(dir)).toBe(false);
    });
  }
});
