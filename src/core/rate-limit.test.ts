import { describe, expect, it } from 'vitest';
import { createRateLimiter } from './rate-limit.ts';

describe('per-buyer rate limit', () => {
  it('a burst is allowed, the next press waits, and tokens come back at the set rate', () => {
    let t = 0;
    const limiter = createRateLimiter({ now: () => new Date(t) }, { perSecond: 2, burst: 3 });
    expect([limiter.take(1), limiter.take(1), limiter.take(1)]).toEqual([0, 0, 0]);
    expect(limiter.take(1)).toBe(1);
    expect(limiter.take(2)).toBe(0); // another buyer has their own bucket
    t = 500;
    expect(limiter.take(1)).toBe(0);
    expect(limiter.take(1)).toBeGreaterThan(0);
  });

  it('idle buckets are pruned once full again', () => {
    let t = 0;
    const limiter = createRateLimiter({ now: () => new Date(t) }, { perSecond: 10, burst: 5 });
    for (let u = 0; u < 100; u++) limiter.take(u);
    expect(limiter.size()).toBe(100);
    t = 10_000;
    limiter.prune();
    expect(limiter.size()).toBe(0);
  });
});
