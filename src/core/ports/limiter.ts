/**
 * A shared count of events per key in fixed windows (one limit: "5 logins per phone per minute"). Every api
 * process that uses the same limit name sees the same counts (Redis in the services mode; process memory in
 * the embedded mode, which runs one api process). A call that cannot reach the store rejects; it never waits
 * longer than the store's command deadline.
 */
export interface Limiter {
  /** Count one event for `key`: `wait` 0 when within the limit, else whole seconds until the key may try again. */
  take(key: string): Promise<{ wait: number; count: number }>;
  /** Seconds `key` is still refused (0 = free), counting nothing. */
  waitOf(key: string): Promise<number>;
  /** Events counted for `key` in its current window and the seconds until that window ends (0 and 0: none), counting nothing. */
  countOf(key: string): Promise<{ count: number; seconds: number }>;
  /** Refuse `key` for `seconds`, whatever its count (the count restarts above the limit). */
  block(key: string, seconds: number): Promise<void>;
  /** Forget `key` (a success ends a run of failures). */
  reset(key: string): Promise<void>;
}

/** `points` events per `durationSeconds` window (whole seconds) under `name`, which isolates the limit's keys. */
export interface LimiterSpec {
  name: string;
  points: number;
  durationSeconds: number;
}

export type MakeLimiter = (spec: LimiterSpec) => Limiter;
