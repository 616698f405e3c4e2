// The few `xl` commands duster needs on a dom0, with xl's real output formats parsed and its
// failures turned into one line that says what to do (not root, not a dom0, no such domain).
import { NoSuchDomainError, XenError } from './errors.js';
import { runTool, type ToolResult } from './run-tool.js';

/** A row of `xl list`. */
export interface DomainState {
  domid: number;
  name: string;
  vcpus: number;
  /** xl's six state letters, e.g. `-b----` or `--p---`. */
  state: string;
  paused: boolean;
}

/** What `xl list -l` tells about how the domain was built (fields absent when xl does not say). */
export interface DomainConfig {
  type?: 'pv' | 'pvh' | 'hvm';
  kernel?: string;
  cmdline?: string;
}

export class Xl {
  constructor(readonly binary = 'xl') {}

  /** The domain named or numbered `domain` (xl accepts both). */
  async list(domain: string | number): Promise<DomainState> {
    const out = await this.run(['list', String(domain)], String(domain));
    const row = out
      .split('\n')
      .slice(1)
      .map(parseListRow)
      .find((r) => r !== undefined);
    if (!row) throw new XenError(`cannot read 'xl list ${domain}' output: ${JSON.stringify(out.slice(0, 200))}`);
    return row;
  }

  async config(domid: number): Promise<DomainConfig> {
    const out = await this.run(['list', '-l', String(domid)], String(domid));
    let parsed: unknown;
    try {
      parsed = JSON.parse(out);
    } catch {
      // xl built without JSON support prints an s-expression: nothing to learn from it here.
      return {};
    }
    const entry = Array.isArray(parsed)
      ? (parsed as { domid?: number; config?: XlConfigJson }[]).find((d) => d.domid === domid)
      : undefined;
    return configFromJson(entry?.config);
  }

  async pause(domid: number): Promise<void> {
    await this.run(['pause', String(domid)], String(domid));
  }

  async unpause(domid: number): Promise<void> {
    await this.run(['unpause', String(domid)], String(domid));
  }

  /** Runs xl and returns its stdout; a failure becomes a XenError saying why. */
  private async run(args: string[], domain: string): Promise<string> {
    let r: ToolResult;
    try {
      r = await runTool(this.binary, args);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT')
        throw new XenError(
          `${this.binary} not found: duster attaches to Xen domains from a dom0 with the Xen tools installed (Debian: apt-get install xen-utils-common)`,
        );
      throw new XenError(`cannot run ${this.binary} ${args.join(' ')}: ${(e as Error).message}`);
    }
    if (r.status !== 0) throw xlFailure(args, r, domain);
    return r.stdout;
  }
}

/** Name, id, memory, vCPUs, state, time: `%-40s %5d %5lu %5d     %c%c%c%c%c%c  %8.1f`. */
function parseListRow(line: string): DomainState | undefined {
  const m = /^(.*\S)\s+(\d+)\s+\d+\s+(\d+)\s+([-a-z?]{6})\s+[\d.]+/.exec(line);
  if (!m) return undefined;
  return { name: m[1]!, domid: Number(m[2]), vcpus: Number(m[3]), state: m[4]!, paused: m[4]![2] === 'p' };
}

/** The parts of libxl_domain_config's JSON we read. Xen before 4.10 kept the PV kernel under `type.pv`. */
interface XlConfigJson {
  c_info?: { type?: string };
  b_info?: { kernel?: string; cmdline?: string; 'type.pv'?: { kernel?: string; cmdline?: string } };
}

function configFromJson(config: XlConfigJson | undefined): DomainConfig {
  const type = config?.c_info?.type;
  const b = config?.b_info;
  const kernel = b?.kernel ?? b?.['type.pv']?.kernel;
  const cmdline = b?.cmdline ?? b?.['type.pv']?.cmdline;
  return {
    ...((type === 'pv' || type === 'pvh' || type === 'hvm') && { type }),
    ...(kernel && { kernel }),
    ...(cmdline && { cmdline }),
  };
}

function xlFailure(args: string[], r: ToolResult, domain: string): XenError {
  const text = `${r.stderr}\n${r.stdout}`;
  if (/does not exist|invalid domain identifier/i.test(text)) return new NoSuchDomainError(domain);
  if (/permission denied|operation not permitted/i.test(text))
    return new XenError(`xl ${args[0]}: permission denied: run duster as root on the Xen dom0`);
  const line =
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l) ?? `exit status ${r.status}`;
  if (/privileged command interface|xenstore|cannot init xl context|libxc handle/i.test(text))
    return new XenError(`this machine is not a Xen dom0 (xl: ${line})`);
  return new XenError(`xl ${args.join(' ')} failed: ${line}`);
}
