import { afterEach, describe, expect, it, vi } from 'vitest';
import { PublishAllowance } from '../../src/activities/outbound';

describe("a worker's allowance for notices sent in the task that ends an ask", () => {
  afterEach(() => vi.useRealTimers());

  it('lets a second of the publish rate through at once, then refills at the rate', () => {
    vi.useFakeTimers({ now: 0 });
    const allowance = new PublishAllowance(3, 100);
    const takeAndEnd = () => {
      const taken = allowance.take();
      if (taken) allowance.release();
      return taken;
    };
    expect([1, 2, 3, 4].map(takeAndEnd)).toEqual([true, true, true, false]);
    vi.setSystemTime(340); // one token's worth (1/3 s) later
    expect([takeAndEnd(), takeAndEnd()]).toEqual([true, false]);
    vi.setSystemTime(60_000); // never more than a second's worth saved up
    expect([1, 2, 3, 4].map(takeAndEnd)).toEqual([true, true, true, false]);
  });

  it('holds at most so many notices in flight at once, whatever the rate left, and takes more as they end', () => {
    const allowance = new PublishAllowance(1_000, 2);
    expect([allowance.take(), allowance.take(), allowance.take()]).toEqual([true, true, false]);
    allowance.release();
    expect([allowance.take(), allowance.take()]).toEqual([true, false]);
    allowance.release();
    allowance.release();
    expect([allowance.take(), allowance.take(), allowance.take()]).toEqual([true, true, false]);
  });
});
