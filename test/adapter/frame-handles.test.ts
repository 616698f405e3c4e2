// DAP frame ids: a frame of an earlier stop is expired (a view may still ask for it while the guest
// runs to the next stop), an id never handed out is a wrong argument.
import { describe, expect, it } from 'vitest';
import { Args, ArgumentError } from '../../adapter/args.js';
import { FrameHandles } from '../../adapter/services/frames.js';

describe('frame handles', () => {
  it('keeps ids of this stop, expires those of earlier stops, refuses ids never given', () => {
    const h = new FrameHandles();
    const old = h.id(1, 0);
    h.clear();
    const now = h.id(2, 0);
    expect(now).not.toBe(old);
    expect(h.require(Args.of({ frameId: now }))).toEqual({ thread: 2, level: 0 });
    expect(h.expired(Args.of({ frameId: now }))).toBe(false);
    expect(h.expired(Args.of({ frameId: old }))).toBe(true);
    expect(() => h.require(Args.of({ frameId: old }))).toThrow(ArgumentError);
    expect(h.expired(Args.of({ frameId: 424242 }))).toBe(false);
    expect(() => h.require(Args.of({ frameId: 424242 }))).toThrow(/^frameId 424242 is not a frame of the current stop/);
  });
});
