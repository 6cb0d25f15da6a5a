/**
 * Start-up against services that may not be up yet (a deploy that starts every process at once, a
 * database restarting): try, log the attempt, wait with backoff, try again, until `deadlineMs` has passed.
 */
import type { Logger } from 'pino';

export interface UntilUpOptions {
  logger: Logger;
  /** Give up (rethrow the last error) after this long. */
  deadlineMs: number;
  firstDelayMs?: number;
  maxDelayMs?: number;
  /** An error no retry can cure (a setting that contradicts the service's state): rethrown at once. */
  isPermanent?: (err: unknown) => boolean;
}

export async function untilUp<T>(what: string, attempt: () => Promise<T>, opts: UntilUpOptions): Promise<T> {
  const started = Date.now();
  let delay = opts.firstDelayMs ?? 250;
  for (let n = 1; ; n++) {
    try {
      const value = await attempt();
      if (n > 1) opts.logger.info({ service: what, attempts: n }, `${what} is up`);
      return value;
    } catch (err) {
      const waited = Date.now() - started;
      if (waited + delay > opts.deadlineMs || opts.isPermanent?.(err)) throw err;
      opts.logger.warn({ service: what, attempt: n, retryInMs: delay, err: (err as Error).message }, `${what} is not reachable yet; retrying`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(opts.maxDelayMs ?? 5000, delay * 2);
    }
  }
}
