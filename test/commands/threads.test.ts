// Thread numbers as the commands read them: vCPUs N or 1.N, unikernel threads 2.ID, in `thread`
// and in break's `thread N`; anything else is a one-line error naming it.
import { describe, expect, it } from 'vitest';
import { splitBreakArgs } from '../../src/commands/breakpoints.js';
import { parseThreadRef } from '../../src/commands/threads.js';

describe('thread numbers', () => {
  it('reads vCPUs and unikernel threads', () => {
    expect(parseThreadRef('2')).toEqual({ kind: 'vcpu', id: 2 });
    expect(parseThreadRef(' 1.2 ')).toEqual({ kind: 'vcpu', id: 2 });
    expect(parseThreadRef('2.0')).toEqual({ kind: 'guest', id: 0 });
    expect(parseThreadRef('2.15')).toEqual({ kind: 'guest', id: 15 });
  });

  it('names what it cannot read', () => {
    for (const bad of ['3.1', 'x', '2.', '-1', '2.5.1'])
      expect(() => parseThreadRef(bad)).toThrow(`bad thread id '${bad}': vCPUs are N or 1.N, unikernel threads 2.ID`);
  });

  it('splits break LOCATION thread N if COND', () => {
    expect(splitBreakArgs('worker_step thread 2.5 if w->id == 2')).toEqual({
      location: 'worker_step',
      thread: { kind: 'guest', id: 5 },
      condition: 'w->id == 2',
    });
    expect(splitBreakArgs('src/app_demo.c:167 thread 2')).toEqual({ location: 'src/app_demo.c:167', thread: { kind: 'vcpu', id: 2 } });
    expect(splitBreakArgs('thread 2.3')).toEqual({ location: '', thread: { kind: 'guest', id: 3 } });
    expect(() => splitBreakArgs('fib thread two')).toThrow(/bad thread id 'two'/);
  });
});
