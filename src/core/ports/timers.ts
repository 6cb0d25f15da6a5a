export interface Clock {
  now(): Date;
}

/** Work for later, so that core waits without the platform's timers (and tests can drive them by hand). */
export interface Timers {
  /**
   * Run `fn` once after `ms` milliseconds; `0` runs it once the I/O of this event-loop turn is done.
   * `background`: the wait alone does not keep the process alive. Returns a cancel.
   */
  after(ms: number, fn: () => void, opts?: { background?: boolean }): () => void;
}
