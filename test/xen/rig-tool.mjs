// The host's `xl` and `gdbsx` for duster's Xen rig: each runs the REAL tool in the rig's dom0
// through its control channel (test/xen/rig/ctl.sh on 127.0.0.1:$DUSTER_XEN_RIG_CTL), with the
// same arguments, output and exit status, so duster's own code path is the one a dom0 runs.
//   xl ARGS...                 -> `xl ARGS...` in dom0
//   xl dump-core DOMID FILE    -> the core streams out of dom0 into FILE
//   gdbsx -a DOMID BITS PORT   -> gdbsx in dom0 on its port 9999, which QEMU forwards to
//                                 127.0.0.1:$DUSTER_XEN_RIG_GDBSX; this process serves it on
//                                 127.0.0.1:PORT for one connection, then ends as gdbsx did.
import { createWriteStream } from 'node:fs';
import net from 'node:net';

const tool = process.argv[2];
const args = process.argv.slice(3);
const ctlPort = Number(process.env.DUSTER_XEN_RIG_CTL);
const gdbsxPort = Number(process.env.DUSTER_XEN_RIG_GDBSX);
if (!ctlPort || !gdbsxPort) fail(`${tool}: DUSTER_XEN_RIG_CTL/DUSTER_XEN_RIG_GDBSX not set (start the rig: test/xen/rig.ts)`);

function fail(line, status = 1) {
  process.stderr.write(`${line}\n`);
  process.exit(status);
}

/** Sends one request line; resolves with every byte dom0 answered until it closed. */
function request(line, sink) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    const sock = net.connect(ctlPort, '127.0.0.1', () => sock.write(`${line}\n`));
    sock.setTimeout(120_000, () => sock.destroy(new Error(`dom0 did not answer '${line}' within 120 s`)));
    sock.on('data', (d) => (sink ? sink.write(d) : chunks.push(d)));
    sock.on('error', reject);
    sock.on('close', () => resolve(Buffer.concat(chunks)));
  });
}

/** Parses `rc=N out=BYTES err=BYTES\n` + stdout + stderr. */
async function run(line) {
  const reply = await request(line);
  const nl = reply.indexOf(10);
  const m = /^rc=(\d+) out=(\d+) err=(\d+)$/.exec(reply.subarray(0, nl).toString());
  if (!m) fail(`${tool}: dom0 answered '${line}' with ${JSON.stringify(reply.subarray(0, 200).toString())}`);
  const out = reply.subarray(nl + 1, nl + 1 + Number(m[2]));
  const err = reply.subarray(nl + 1 + Number(m[2]), nl + 1 + Number(m[2]) + Number(m[3]));
  return { rc: Number(m[1]), out, err };
}

// Words go to dom0 as one line split on spaces: refuse anything that would not survive that.
for (const a of args) if (!/^[\w./:=,+-]+$/.test(a)) fail(`${tool}: argument ${JSON.stringify(a)} cannot pass the rig's control channel`);

if (tool === 'xl' && args[0] === 'dump-core') {
  if (args.length !== 3) fail('usage: xl dump-core DOMID FILE');
  const file = createWriteStream(args[2]);
  await request(`dump-core ${args[1]}`, file);
  await new Promise((r) => file.end(r));
  const { rc, out, err } = await run('dump-status');
  process.stdout.write(out);
  process.stderr.write(err);
  process.exit(rc);
} else if (tool === 'xl') {
  const { rc, out, err } = await run(`xl ${args.join(' ')}`);
  process.stdout.write(out);
  process.stderr.write(err);
  process.exit(rc);
} else if (tool === 'gdbsx') {
  if (args.length !== 4 || args[0] !== '-a') fail('usage: gdbsx -a DOMID 32|64 PORT');
  const started = await run(`gdbsx ${args[1]} ${args[2]}`);
  if (started.rc !== 0) {
    process.stderr.write(started.err);
    process.exit(started.rc);
  }
  const ending = async () => {
    const { rc, err } = await run('gdbsx-wait');
    process.stderr.write(err);
    process.exit(rc === 124 ? 1 : rc);
  };
  process.on('SIGTERM', async () => {
    await run('gdbsx-kill');
    process.exit(143);
  });
  const server = net.createServer((client) => {
    server.close();
    const upstream = net.connect(gdbsxPort, '127.0.0.1');
    client.pipe(upstream);
    upstream.pipe(client);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      client.destroy();
      upstream.destroy();
      void ending();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', () => {});
    upstream.on('error', () => {});
  });
  server.listen(Number(args[3]), '127.0.0.1');
} else {
  fail(`rig-tool: unknown tool ${tool}`);
}
