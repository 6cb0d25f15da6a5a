/**
 * How a consumer treats a failed handler. A failure of the infrastructure (a dependency down or past its
 * deadline: SeckillError UNAVAILABLE) says nothing about the message: it is retried after a wait that grows
 * while the outage lasts, and never counts toward the poison-message limit. Any other failure counts as an
 * attempt; after `maxAttempts` the message is dead-lettered instead of looping.
 */
import { isSeckillError } from '../../core/errors.ts';

export const isInfrastructureFailure = (err: unknown): boolean => isSeckillError(err) && err.code === 'UNAVAILABLE';

export interface Backoff {
  /** The wait before the next retry (grows with each failure in a row). */
  next(): number;
  /** A handler succeeded: the outage is over. */
  reset(): void;
}

export function createBackoff(opts: { firstMs?: number; maxMs?: number } = {}): Backoff {
  const first = opts.firstMs ?? 200;
  const max = opts.maxMs ?? 10_000;
  let failures = 0;
  return {
    next() {
      const base = Math.min(max, first * 2 ** Math.min(failures, 16));
      failures++;
      // Jitter, so consumers of many processes do not retry in step.
      return Math.round(base * (0.8 + Math.random() * 0.4));
    },
    reset() {
      failures = 0;
    },
  };
}
