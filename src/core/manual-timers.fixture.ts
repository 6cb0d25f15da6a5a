/** A `Timers` the test moves by hand: nothing runs until `advance` passes its time. */
import type { Timers } from './ports/timers.ts';

export interface ManualTimers extends Timers {
  /** Move time forward by `ms`, running every timer that falls due, in order. */
  advance(ms: number): void;
  /** Timers waiting. */
  pending(): number;
}

export function createManualTimers(): ManualTimers {
  let now = 0;
  let seq = 0;
  const waiting = new Map<number, { at: number; fn: () => void }>();
  return {
    after(ms, fn) {
      const id = seq++;
      waiting.set(id, { at: now + Math.max(0, ms), fn });
      return () => void waiting.delete(id);
    },
    advance(ms) {
      const until = now + ms;
      for (;;) {
        const due = [...waiting].filter(([, t]) => t.at <= until).sort(([a, x], [b, y]) => x.at - y.at || a - b)[0];
        if (!due) break;
        waiting.delete(due[0]);
        now = due[1].at;
        due[1].fn();
      }
      now = until;
    },
    pending: () => waiting.size,
  };
}
