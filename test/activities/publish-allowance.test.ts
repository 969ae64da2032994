import { afterEach, describe, expect, it, vi } from 'vitest';
import { PublishAllowance } from '../../src/activities/outbound';

describe("a worker's allowance for notices sent in the task that ends an ask", () => {
  afterEach(() => vi.useRealTimers());

  it('lets a second of the publish rate through at once, then refills at the rate', () => {
    vi.useFakeTimers({ now: 0 });
    const allowance = new PublishAllowance(3);
    expect([1, 2, 3, 4].map(() => allowance.take())).toEqual([true, true, true, false]);
    vi.setSystemTime(340); // one token's worth (1/3 s) later
    expect([allowance.take(), allowance.take()]).toEqual([true, false]);
    vi.setSystemTime(60_000); // never more than a second's worth saved up
    expect([1, 2, 3, 4].map(() => allowance.take())).toEqual([true, true, true, false]);
  });
});
