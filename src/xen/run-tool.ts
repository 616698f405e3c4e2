// Runs a dom0 tool (xl) with an argument array, never through a shell, and captures its output.
import { execFile } from 'node:child_process';

export interface ToolResult {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * Resolves with the exit status and output. Rejects when the program cannot be started (the error
 * keeps its `code`, e.g. ENOENT) or does not finish within `timeoutMs`.
 */
export function runTool(file: string, args: string[], timeoutMs = 30_000): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { shell: false, timeout: timeoutMs, encoding: 'utf8', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (!err) return resolve({ status: 0, stdout, stderr });
      if (typeof err.code === 'number') return resolve({ status: err.code, stdout, stderr });
      if (err.killed) return reject(new Error(`${file} ${args.join(' ')} did not finish within ${timeoutMs} ms`));
      reject(err);
    });
  });
}
