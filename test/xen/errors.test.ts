// What `duster attach DOMID` says when it cannot attach, and xl's output as the fake dom0 prints
// it: domain lookups by id and name, the config behind --symbols, not root, not a dom0, tools missing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachXen, parseXenTarget, Xl } from '../../src/xen/index.js';
import { FakeDom0, kernel, type FakeDomain } from './fake-xen.js';

const domain: FakeDomain = {
  domid: 3,
  name: 'web',
  type: 'pvh',
  kernel,
  cmdline: 'app=demo',
  vcpus: 2,
  memory: 128,
  pauseCount: 1,
  qmp: '/nonexistent',
  gdb: '/nonexistent',
};

describe('Xen attach errors and xl parsing', () => {
  let dom0: FakeDom0;
  beforeAll(() => {
    dom0 = FakeDom0.create({ domains: [domain] });
  });
  afterAll(() => dom0?.close());

  it('reads xl list rows and the libxl config by id or name', async () => {
    const xl = new Xl();
    expect(await xl.list('web')).toEqual({ domid: 3, name: 'web', vcpus: 2, state: '--p---', paused: true });
    expect((await xl.list(3)).name).toBe('web');
    expect(await xl.config(3)).toEqual({ type: 'pvh', kernel, cmdline: 'app=demo' });
  });

  it('names the domain it cannot find, by name or by id', async () => {
    await expect(attachXen('nosuch')).rejects.toThrow("no Xen domain 'nosuch' (see 'xl list')");
    await expect(attachXen('42')).rejects.toThrow("no Xen domain '42' (see 'xl list')");
  });

  it('refuses dom0 itself', async () => {
    await expect(attachXen('0')).rejects.toThrow(/domain 0 is the dom0 itself/);
  });

  it('says to run as root when xl is denied the hypervisor', async () => {
    dom0.update((s) => {
      s.xlFailure = {
        status: 1,
        stderr:
          'xencall: error: Could not obtain handle on privileged command interface: Permission denied\nlibxl: error: libxl.c:102:libxl_ctx_alloc: cannot open libxc handle: Permission denied\ncannot init xl context\n',
      };
    });
    try {
      await expect(attachXen('3')).rejects.toThrow('xl list: permission denied: run duster as root on the Xen dom0');
    } finally {
      dom0.update((s) => delete s.xlFailure);
    }
  });

  it('says when this is not a dom0', async () => {
    dom0.update((s) => {
      s.xlFailure = {
        status: 1,
        stderr:
          'xencall: error: Could not obtain handle on privileged command interface: No such file or directory\nlibxl: error: libxl.c:102:libxl_ctx_alloc: cannot open libxc handle: No such file or directory\ncannot init xl context\n',
      };
    });
    try {
      await expect(attachXen('3')).rejects.toThrow(/^this machine is not a Xen dom0 \(xl: xencall: error: Could not obtain handle/);
    } finally {
      dom0.update((s) => delete s.xlFailure);
    }
  });

  it('says which tool is missing and where Debian has it', async () => {
    await expect(attachXen('3', { xl: '/nonexistent/xl' })).rejects.toThrow(/^\/nonexistent\/xl not found: .*xen-utils-common/);
    dom0.usePath(dom0.binWithoutGdbsx);
    try {
      await expect(attachXen('3')).rejects.toThrow(/^gdbsx not found on PATH .*\(Debian: apt-get install xen-utils-common\)/);
    } finally {
      dom0.usePath(dom0.bin);
    }
  });

  it('tells Xen targets from gdbstub addresses', () => {
    expect(parseXenTarget('7')).toBe('7');
    expect(parseXenTarget('xen:7')).toBe('7');
    expect(parseXenTarget('xen:web')).toBe('web');
    expect(parseXenTarget('tcp:127.0.0.1:1234')).toBeUndefined();
    expect(parseXenTarget('unix:/tmp/gdb.sock')).toBeUndefined();
  });
});
