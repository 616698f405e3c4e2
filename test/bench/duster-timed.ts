// A duster session in a process of its own, as gdb runs in one, timing only the measured
// commands: `vite-node test/bench/duster-timed.ts JSON` with {address, elf, before, measured,
// after}. Prints `DUSTER-BENCH-MS <ms>` and each command's text, like gdbTimed's gdb, and sends
// a qC just before and just after the measured commands: markers for the packet proxy. With
// DUSTER_BENCH_PROFILE=FILE it writes a V8 CPU profile of the measured commands there.
import { writeFileSync } from 'node:fs';
import inspector from 'node:inspector';
import { CommandInterpreter } from '../../src/commands/interpreter.js';
import { Program } from '../../src/engine/program.js';
import { Session } from '../../src/engine/session.js';
import { LiveTarget } from '../../src/targets/index.js';

interface Job {
  address: string;
  elf: string;
  before: string[];
  measured: string[];
  after: string[];
}

const job = JSON.parse(process.argv[2]!) as Job;
const program = await Program.load(job.elf);
const target = await LiveTarget.connect(job.address);
const session = new Session(target);
await session.loadProgram(program);
await session.start('interrupt');
const cli = new CommandInterpreter({ session, out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) });
const run = async (lines: string[]) => {
  for (const line of lines) {
    const r = await cli.execute(line);
    if (!r.ok) throw new Error(`${line}: ${r.error}`);
  }
};
await run(job.before);
const profiler = process.env.DUSTER_BENCH_PROFILE ? await startProfile() : undefined;
await target.client.currentThread();
const t = performance.now();
const cpu = process.cpuUsage();
await run(job.measured);
const ms = performance.now() - t;
const used = process.cpuUsage(cpu);
await target.client.currentThread();
await profiler?.(process.env.DUSTER_BENCH_PROFILE!);
process.stdout.write(`\nDUSTER-BENCH-MS ${ms.toFixed(3)}\nDUSTER-BENCH-CPU-MS ${((used.user + used.system) / 1000).toFixed(3)}\n`);
await run(job.after);
process.exit(0);

async function startProfile(): Promise<(file: string) => Promise<void>> {
  const session = new inspector.Session();
  session.connect();
  const post = (method: string) => new Promise<unknown>((resolve, reject) => session.post(method, (e, r) => (e ? reject(e) : resolve(r))));
  await post('Profiler.enable');
  await post('Profiler.start');
  return async (file) => writeFileSync(file, JSON.stringify(((await post('Profiler.stop')) as { profile: unknown }).profile));
}
