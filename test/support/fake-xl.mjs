// A stand-in for Xen's `xl` (list, list -l, pause, unpause) over the fake Xen state: xl's real
// output formats and messages; a pause that takes the count from 0 to 1 stops the domain's QEMU
// over QMP (so a waiting gdbstub reports the stop) and the unpause back to 0 resumes it.
import { findDomain, loadState, qmp, updateState } from './fake-xl-state.mjs';

const args = process.argv.slice(2);
const state = loadState();
if (state.xlFailure) {
  process.stderr.write(state.xlFailure.stderr);
  process.exit(state.xlFailure.status);
}

function fail(message) {
  process.stderr.write(message + '\n');
  process.exit(1);
}

/** find_domain(): an unknown name is an invalid identifier; an unknown id only fails later. */
function qualifierToDomain(q) {
  const d = findDomain(state, q);
  if (!d && !/^\d+$/.test(q)) fail(`${q} is an invalid domain identifier (rc=-6)`);
  return d;
}

function row(d) {
  const paused = d.pauseCount > 0;
  const flags = `${d.domid === 0 ? 'r' : '-'}${!paused && d.domid !== 0 ? 'b' : '-'}${paused ? 'p' : '-'}---`;
  return `${d.name.padEnd(40)} ${String(d.domid).padStart(5)} ${String(d.memory).padStart(5)} ${String(d.vcpus).padStart(5)}     ${flags}  ${'12.3'.padStart(8)}`;
}

const dom0 = { domid: 0, name: 'Domain-0', memory: 2048, vcpus: 2, pauseCount: 0 };

function libxlConfig(d) {
  return {
    c_info: { type: d.type, name: d.name, uuid: '5a3c1f1e-0000-4000-8000-00000000000' + d.domid, run_hotplug_scripts: 'True' },
    b_info: { max_vcpus: d.vcpus, avail_vcpus: [...Array(d.vcpus).keys()], max_memkb: d.memory * 1024, target_memkb: d.memory * 1024, kernel: d.kernel, cmdline: d.cmdline, [`type.${d.type}`]: {}, arch_arm: {}, arch_x86: { msr_relaxed: 'False' } },
    on_reboot: 'restart',
  };
}

async function main() {
  const [cmd, ...rest] = args;
  if (cmd === 'list') {
    const long = rest[0] === '-l' || rest[0] === '--long';
    const q = long ? rest[1] : rest[0];
    let shown = [dom0, ...state.domains];
    if (q !== undefined) {
      const d = q === '0' || q === 'Domain-0' ? dom0 : qualifierToDomain(q);
      if (!d) fail(`Error: Domain '${q}' does not exist.`);
      shown = [d];
    }
    if (long) {
      // libxl cannot retrieve dom0's configuration: it is left out.
      const entries = shown.filter((d) => d.domid !== 0).map((d) => ({ domid: d.domid, config: libxlConfig(d) }));
      process.stdout.write(JSON.stringify(entries, null, 4) + '\n');
    } else {
      process.stdout.write('Name                                        ID   Mem VCPUs\tState\tTime(s)\n');
      for (const d of shown) process.stdout.write(row(d) + '\n');
    }
    return;
  }
  if (cmd === 'pause' || cmd === 'unpause') {
    if (rest.length !== 1) fail(`Usage: xl ${cmd} <Domain>`);
    const d = qualifierToDomain(rest[0]);
    // xl ignores libxl's result here: a bad domain or an unpause too many is logged, status 0.
    if (!d) return void process.stderr.write(`libxl: error: libxl_domain.c:585:libxl_domain_${cmd}: Domain ${rest[0]}:${cmd === 'pause' ? 'Pausing' : 'Unpausing'} domain: No such process\n`);
    const count = updateState((s) => {
      const dom = s.domains.find((x) => x.domid === d.domid);
      if (cmd === 'pause') return ++dom.pauseCount;
      if (dom.pauseCount === 0) return -1;
      return --dom.pauseCount;
    });
    if (count === -1) return void process.stderr.write(`libxl: error: libxl_domain.c:641:libxl_domain_unpause: Domain ${d.domid}:Unpausing domain: Invalid argument\n`);
    if (cmd === 'pause' && count === 1) await qmp(d.qmp, 'stop');
    if (cmd === 'unpause' && count === 0) await qmp(d.qmp, 'cont');
    return;
  }
  fail(`command not implemented by the fake xl: ${cmd}`);
}

main().catch((e) => fail(`fake xl: ${e.message}`));
