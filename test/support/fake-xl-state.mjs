// The world a fake `xl` and a fake `gdbsx` share: domains and their pause counts, in one JSON file
// named by $DUSTER_FAKE_XEN (written whole and renamed, so a reader never sees half of it).
//
// { "domains": [{ "domid", "name", "type", "kernel", "cmdline", "vcpus", "memory",
//                 "pauseCount", "qmp": QMP socket path, "gdb": QEMU gdbstub socket path }],
//   "xlFailure"?: { "status", "stderr" } }       every xl command fails this way (not root, not dom0)
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import net from 'node:net';

function statePath() {
  const p = process.env.DUSTER_FAKE_XEN;
  if (!p) {
    process.stderr.write('fake Xen: DUSTER_FAKE_XEN is not set\n');
    process.exit(2);
  }
  return p;
}

export function loadState() {
  return JSON.parse(readFileSync(statePath(), 'utf8'));
}

/** Applies `fn` to the state and saves it; returns what `fn` returned. */
export function updateState(fn) {
  const state = loadState();
  const out = fn(state);
  const p = statePath();
  const tmp = `${p}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2));
  renameSync(tmp, p);
  return out;
}

/** xl's domain qualifier: all digits is an id, anything else a name. */
export function findDomain(state, qualifier) {
  return /^\d+$/.test(qualifier) ? state.domains.find((d) => d.domid === Number(qualifier)) : state.domains.find((d) => d.name === qualifier);
}

/** Runs one QMP command on a fresh connection (QEMU serves each -qmp socket one client at a time). */
export function qmp(path, command) {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection({ path });
    let buf = '';
    let step = 0;
    sock.setEncoding('utf8');
    sock.on('error', reject);
    sock.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const msg = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if ('event' in msg) continue;
        if ('error' in msg) return reject(new Error(msg.error.desc));
        if (step === 0) sock.write(JSON.stringify({ execute: 'qmp_capabilities' }) + '\n');
        else if (step === 1) sock.write(JSON.stringify({ execute: command }) + '\n');
        else {
          sock.end();
          return resolve(msg.return);
        }
        step++;
      }
    });
  });
}
