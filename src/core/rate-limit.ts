/**
 * Per-buyer token bucket for the hot path: a buyer (or a script with their token) pressing the button
 * faster than `perSecond` after a `burst` is told RATE_LIMITED instead of costing a cache round trip.
 * In process memory: each api process limits what reaches it, which is what protects it.
 */
import type { Clock } from './ports/timers.ts';

export interface RateLimiter {
  /** Take one token for `key`: 0 if allowed, else the seconds until one is available. */
  take(key: number): number;
  /** Drop buckets that have refilled (idle keys), so memory follows active buyers only. */
  prune(): void;
  size(): number;
}

export function createRateLimiter(clock: Clock, opts: { perSecond: number; burst: number }): RateLimiter {
  const buckets = new Map<number, { tokens: number; at: number }>();
  const refill = (b: { tokens: number; at: number }, now: number) => {
    b.tokens = Math.min(opts.burst, b.tokens + ((now - b.at) / 1000) * opts.perSecond);
    b.at = now;
  };
  return {
    take(key) {
      const now = clock.now().getTime();
      let bucket = buckets.get(key);
      if (!bucket) buckets.set(key, (bucket = { tokens: opts.burst, at: now }));
      else refill(bucket, now);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return 0;
      }
      return Math.max(1, Math.ceil((1 - bucket.tokens) / opts.perSecond));
    },
    prune() {
      const now = clock.now().getTime();
      for (const [key, bucket] of buckets) {
        refill(bucket, now);
        if (bucket.tokens >= opts.burst) buckets.delete(key);
      }
    },
    size: () => buckets.size,
  };
}
