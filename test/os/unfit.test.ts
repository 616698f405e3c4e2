// A description written for another version of a unikernel: when its thread expressions name a
// member or symbol this image does not have, the walk says the model does not fit (the session
// then warns once and shows vCPUs only); memory that cannot be read now is not that.
import { describe, expect, it } from 'vitest';
import type { GuestAccess } from '../../src/engine/guest-os.js';
import { EvalError } from '../../src/engine/evaluate.js';
import { GuestThreads } from '../../src/engine/guest-threads.js';
import type { Inspector } from '../../src/engine/inspect.js';
import { DESCRIPTIONS } from '../../src/os/index.js';
import { DescribedThreads } from '../../src/os/threads.js';
import { TargetError } from '../../src/targets/index.js';

const unikraft = DESCRIPTIONS.find((d) => d.name === 'Unikraft')!.threads!;

function access(fail: Error): GuestAccess {
  return {
    evaluate: async () => {
      throw fail;
    },
    vcpus: async () => [1],
  } as unknown as GuestAccess;
}

describe('a thread model that does not fit the image', () => {
  it('is unfit when an expression names what the image lacks, and the engine is told once per walk', async () => {
    const model = new DescribedThreads(access(new EvalError('There is no member named thread_list.')), unikraft);
    expect(await model.list()).toEqual({
      threads: [],
      error: 'cannot find the thread list: There is no member named thread_list.',
      unfit: true,
    });
    const told: string[] = [];
    const guest = new GuestThreads('Unikraft', model, {} as Inspector, (reason) => told.push(reason));
    await guest.list();
    expect(told).toEqual(['cannot find the thread list: There is no member named thread_list.']);
  });

  it('is not unfit when memory cannot be read', async () => {
    const model = new DescribedThreads(access(new TargetError('cannot read 8 bytes at 0x17a420')), unikraft);
    const l = await model.list();
    expect(l.unfit).toBeUndefined();
    expect(l.error).toBe('cannot find the thread list: cannot read 8 bytes at 0x17a420');
  });
});
