/** The platform's timers behind the `Timers` port: `setImmediate` for "after this turn", else `setTimeout`. */
import type { Timers } from '../../core/ports/timers.ts';

export const systemTimers: Timers = {
  after(ms, fn, opts) {
    if (ms <= 0) {
      const immediate = setImmediate(fn);
      if (opts?.background) immediate.unref();
      return () => clearImmediate(immediate);
    }
    const timeout = setTimeout(fn, ms);
    if (opts?.background) timeout.unref();
    return () => clearTimeout(timeout);
  },
};
