// A stand-in for Xen's `gdbsx -a DOMID 64 PORT` that debugs the domain's QEMU through QEMU's
// gdbstub while speaking to its own client exactly as gdbsx does (tools/debugger/gdbsx in Xen):
// no qSupported, target.xml, p/P, vCont or Z; thread ids are vCPU ids from 0 (QEMU's are 1-based);
// `qfThreadInfo` is answered `m0,1l` and `qsThreadInfo` with nothing; `c` and `s` block until the
// domain pauses again; `D` is acknowledged but never answered; 0x03 is ignored (pause with xl).
// Xen's int3 behaviour: an int3 written with `M` becomes a QEMU Z0 with the byte shadowed (reads
// show 0xCC, as real memory would); a trap there reports PC = breakpoint + 1; writing the old byte
// back removes the Z0; int3s still shadowed when gdbsx detaches are written into memory for real.
// The domain's pause count (fake-xl-state.mjs) is kept as Xen keeps it.
import net from 'node:net';
import { findDomain, loadState, updateState } from './fake-xl-state.mjs';

const [mode, domArg, bitsArg, portArg] = process.argv.slice(2);
if (mode !== '-a' || !/^\d+$/.test(domArg ?? '') || Number(domArg) === 0 || !['32', '64'].includes(bitsArg) || !portArg) {
  process.stdout.write('Usage 1: gdbsx -a domid <32|64> PORT [-d]\n         PORT to listen for a TCP connection.\n         Eg. gdbsx -a 3 32 9999\n\n');
  process.exit(1);
}
const domid = Number(domArg);
const domain = findDomain(loadState(), domArg);
if (!domain) {
  process.stderr.write(`ERROR:xg_attach:Unable to pause domain:${domid}\nERROR: failed to attach to domain:${domid} errno:3\n`);
  process.exit(1);
}

function changePause(delta) {
  return updateState((s) => {
    const d = s.domains.find((x) => x.domid === domid);
    d.pauseCount = Math.max(0, d.pauseCount + delta);
    return d.pauseCount;
  });
}

function checksum(body) {
  let sum = 0;
  for (const c of Buffer.from(body, 'latin1')) sum = (sum + c) & 0xff;
  return sum.toString(16).padStart(2, '0');
}

/** Splits `$body#xx` packets out of a byte stream; acks and anything between packets are dropped. */
function packetReader(onPacket) {
  let buf = '';
  return (chunk) => {
    buf += chunk.toString('latin1');
    for (;;) {
      const start = buf.indexOf('$');
      if (start < 0) return void (buf = '');
      const hash = buf.indexOf('#', start);
      if (hash < 0 || buf.length < hash + 3) return void (buf = buf.slice(start));
      const body = buf.slice(start + 1, hash);
      buf = buf.slice(hash + 3);
      onPacket(body);
    }
  };
}

/** Client of QEMU's gdbstub: one request at a time; stop replies nobody waits for are dropped. */
class Qemu {
  pending = [];
  constructor(sock) {
    this.sock = sock;
    sock.on('data', packetReader((body) => {
      sock.write('+');
      const isStop = /^[STWX][0-9a-fA-F]{2}/.test(body);
      const head = this.pending[0];
      if (!head || isStop !== head.expectStop) return;
      this.pending.shift();
      head.resolve(body);
    }));
  }
  static connect(path) {
    return new Promise((resolve, reject) => {
      const sock = net.createConnection({ path }, () => resolve(new Qemu(sock)));
      sock.once('error', reject);
    });
  }
  request(body, expectStop = false) {
    return new Promise((resolve) => {
      this.pending.push({ resolve, expectStop });
      this.sock.write(`$${body}#${checksum(body)}`);
    });
  }
  async registers(vcpu) {
    await this.request(`Hg${(vcpu + 1).toString(16)}`);
    return this.request('g');
  }
}

// gdbsx's fixed x86_64 `g` block is exactly the first 164 bytes of QEMU's (rax..rip, eflags..gs).
const GDBSX_G_HEX = 164 * 2;
const RIP_HEX = 16 * 8 * 2;

const qemu = await Qemu.connect(domain.gdb); // connecting stops QEMU: xg_attach pauses the domain
changePause(+1);
updateState((s) => void (s.gdbsxPid = process.pid)); // for tests that kill gdbsx
const shadows = new Map(); // address -> the byte an int3 replaced
let currentVcpu = 0;

const leHex = (v) => Buffer.from(v.toString(16).padStart(16, '0'), 'hex').reverse().toString('hex');
const fromLeHex = (h) => BigInt(`0x${Buffer.from(h, 'hex').reverse().toString('hex')}`);

async function readMemory(addr, len) {
  if (len > 2047) return 'E01';
  const reply = await qemu.request(`m${addr.toString(16)},${len.toString(16)}`);
  if (reply.startsWith('E') || reply === '') return 'E01';
  const bytes = Buffer.from(reply, 'hex');
  for (const [a] of shadows) if (a >= addr && a < addr + BigInt(len)) bytes[Number(a - addr)] = 0xcc;
  return bytes.toString('hex');
}

async function writeMemory(addr, data) {
  if (data.length === 1 && data[0] === 0xcc && !shadows.has(addr)) {
    const old = await qemu.request(`m${addr.toString(16)},1`);
    if (old.startsWith('E') || (await qemu.request(`Z0,${addr.toString(16)},1`)) !== 'OK') return 'E01';
    shadows.set(addr, parseInt(old, 16));
    return 'OK';
  }
  for (const [a, orig] of [...shadows]) {
    if (a < addr || a >= addr + BigInt(data.length)) continue;
    const i = Number(a - addr);
    if (data[i] === 0xcc) data[i] = orig;
    else {
      await qemu.request(`z0,${a.toString(16)},1`);
      shadows.delete(a);
    }
  }
  const reply = await qemu.request(`M${addr.toString(16)},${data.length.toString(16)}:${data.toString('hex')}`);
  return reply === 'OK' ? 'OK' : 'E01';
}

/** The domain runs when its pause count reaches 0; `c`/`s` then wait for it to pause again. */
async function resume(qemuPacket) {
  if (changePause(-1) > 0) return undefined; // still paused by someone else: returns at once
  const stop = await qemu.request(qemuPacket, true);
  const trap = stop.startsWith('T05');
  // A trap pauses the domain for the debugger; an `xl pause` has counted itself already.
  if (trap) changePause(+1);
  const tid = /thread:(?:p[0-9a-f]+\.)?([0-9a-f]+)/.exec(stop);
  return { trap, vcpu: tid ? parseInt(tid[1], 16) - 1 : 0 };
}

async function cont() {
  const r = await resume('c');
  if (!r || !r.trap) {
    currentVcpu = 0;
    return 'T02thread:0;';
  }
  currentVcpu = r.vcpu;
  const g = await qemu.registers(r.vcpu);
  const rip = fromLeHex(g.slice(RIP_HEX, RIP_HEX + 16));
  if (shadows.has(rip)) await qemu.request(`G${g.slice(0, RIP_HEX)}${leHex(rip + 1n)}${g.slice(RIP_HEX + 16)}`);
  return `T05thread:${r.vcpu.toString(16)};`;
}

async function step() {
  await resume(`vCont;s:${(currentVcpu + 1).toString(16)}`);
  return `T05thread:${currentVcpu.toString(16)};`;
}

/** xg_detach_deinit: int3s stay in memory, debugging ends, one pause is released. */
async function detach() {
  for (const [a] of shadows) {
    await qemu.request(`z0,${a.toString(16)},1`);
    await qemu.request(`M${a.toString(16)},1:cc`);
  }
  // QEMU's `D` lets the guest run. Its gdbstub stays in multiprocess mode once a client asked for
  // it, and then wants `D;1`.
  if (loadState().domains.find((d) => d.domid === domid).pauseCount > 0 && changePause(-1) === 0 && (await qemu.request('D')) !== 'OK') await qemu.request('D;1');
  qemu.sock.end();
}

async function handle(p) {
  const c = p[0];
  if (p === 'qfThreadInfo') return `m${[...Array(domain.vcpus).keys()].map((v) => v.toString(16)).join(',')}l`;
  if (c === 'q') return '';
  if (c === 'H') {
    if (!'cgs'.includes(p[1])) return '';
    const v = parseInt(p.slice(2), 16);
    currentVcpu = Number.isNaN(v) || v < 0 || p.slice(2) === '-1' ? 0 : v;
    return 'OK';
  }
  if (c === '?') return 'T05thread:0;';
  if (c === 'g') return (await qemu.registers(currentVcpu)).slice(0, GDBSX_G_HEX);
  if (c === 'G') {
    const g = await qemu.registers(currentVcpu);
    return (await qemu.request(`G${p.slice(1, 1 + GDBSX_G_HEX)}${g.slice(GDBSX_G_HEX)}`)) === 'OK' ? 'OK' : 'E01';
  }
  let m = /^m([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(p);
  if (m) return readMemory(BigInt(`0x${m[1]}`), parseInt(m[2], 16));
  m = /^M([0-9a-fA-F]+),([0-9a-fA-F]+):([0-9a-fA-F]*)$/.exec(p);
  if (m) return writeMemory(BigInt(`0x${m[1]}`), Buffer.from(m[3], 'hex'));
  if (c === 'c') return cont();
  if (c === 's') return step();
  if (c === 'T') return 'OK';
  return '';
}

const server = net.createServer();
server.listen(Number(portArg), '127.0.0.1', () => process.stdout.write(`Listening on port ${portArg}\n`));
server.once('connection', (sock) => {
  server.close(); // gdbsx serves one debugger, then stops listening
  sock.setNoDelay(true);
  let chain = Promise.resolve();
  let detached = false;
  const finish = (status) => {
    if (detached) return;
    detached = true;
    chain = chain.then(detach).then(() => {
      sock.destroy();
      process.exit(status);
    });
  };
  sock.on('data', packetReader((p) => {
    if (detached) return;
    sock.write('+');
    if (p === 'D') return finish(1); // gdbsx leaves its loop on `D` before answering it
    chain = chain.then(async () => {
      const reply = await handle(p);
      if (!sock.destroyed) sock.write(`$${reply}#${checksum(reply)}`);
    });
  }));
  sock.on('close', () => finish(0));
  sock.on('error', () => undefined);
});
