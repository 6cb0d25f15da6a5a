/**
 * When this process last saw the sale's pipeline fail (the database, the cache or the broker unreachable).
 * A reservation whose message waits in a queue through an outage is not lost, only late; the reconciler
 * decides a reservation as EXPIRED only after the pipeline has worked, as this process saw it, for a whole
 * grace period. A process that has just started counts as having just seen an outage (it may have been
 * started because of one).
 */
import type { Clock } from './ports.ts';

export interface OutageWatch {
  noteOutage(): void;
  /** Epoch ms since which no outage was seen. */
  healthySince(): number;
}

export function createOutageWatch(clock: Clock): OutageWatch {
  let since = clock.now().getTime();
  return {
    noteOutage: () => {
      since = Math.max(since, clock.now().getTime());
    },
    healthySince: () => since,
  };
}
