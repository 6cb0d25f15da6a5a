/**
 * The api's side of batches on the bus: accepted reservations are gathered for at most `maxWaitMs` (or
 * until `maxOrders` are waiting) and published as ONE confirmed message.
 *
 * - A caller's promise settles only with the publish that covers its order, so QUEUED keeps meaning
 *   "on the queue".
 * - A publish that failed gives back every unit of its batch (one cache call per good) BEFORE any caller
 *   hears of the failure: no buyer is told "nothing was taken" while its unit is still held.
 * - A publish whose confirm did not come in time may still reach the queue: its units are NOT given back
 *   (the worker may yet make them orders). The callers hear UNAVAILABLE; the reconciler decides any
 *   reservation whose message never arrives, so nothing stays held for good.
 * - A repeated request republishes without owning its unit (`releaseOnFailure: false`): its first
 *   publish may be on its way, so a failure here gives nothing back.
 * - With `noteKeepMs`, the batch's requests are noted in the cache first (one call), so the result poll
 *   can tell them from uuids never accepted without reading the database (results.ts).
 * - With `publishWithinMs`, a batch is handed to the broker within that long of its oldest reservation or
 *   not at all (a process frozen or a broker that stopped reading): then it fails like any publish, units
 *   back first. The reconciler relies on it: a reservation older than that can have no message still coming
 *   once the queue has drained (reconcile.ts).
 */
import { SeckillError } from './errors.ts';
import { groupBy } from './group-by.ts';
import type { OrderBus } from './ports/order-bus.ts';
import type { StockCache } from './ports/stock-cache.ts';
import type { Timers } from './ports/timers.ts';
import type { OrderMessage } from './model.ts';

export interface OrderBatcherDeps {
  bus: Pick<OrderBus, 'publishOrders'>;
  cache: Pick<StockCache, 'release' | 'noteRequests'>;
  timers: Timers;
  /** A batch whose units could not be given back after a failed publish (the reconciler will). */
  onReleaseFailed?: (err: unknown, messages: readonly OrderMessage[]) => void;
}

export interface OrderBatcherOptions {
  /** A batch not handed to the broker within this long of its oldest reservation is not sent (see above). */
  publishWithinMs?: number;
  /** Publish as soon as this many orders wait. */
  maxOrders: number;
  /** Publish at the latest this long after the first order of a batch arrived (0: at the end of this event-loop turn). */
  maxWaitMs: number;
  /**
   * Note the batch's requests in the cache, kept this long, before publishing it (StockCache.noteRequests):
   * a QUEUED answer then means the result poll will find the uuid. A failed note fails the batch like a
   * failed publish. Unset: nothing is noted.
   */
  noteKeepMs?: number;
}

export interface OrderBatcher {
  /** Resolves once a confirmed publish covers this order; rejects with UNAVAILABLE otherwise. */
  publish(message: OrderMessage, opts: { releaseOnFailure: boolean }): Promise<void>;
  /** Publish what waits now; resolves when every batch published so far has settled. */
  flush(): Promise<void>;
}

interface Waiting {
  message: OrderMessage;
  releaseOnFailure: boolean;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export function createOrderBatcher(deps: OrderBatcherDeps, opts: OrderBatcherOptions): OrderBatcher {
  const maxOrders = Math.max(1, opts.maxOrders);
  let waiting: Waiting[] = [];
  /** Cancels the pending send of the open batch; null while no batch is open. */
  let cancelTimer: (() => void) | null = null;
  const inFlight = new Set<Promise<void>>();

  function startTimer(): void {
    cancelTimer = deps.timers.after(Math.max(0, opts.maxWaitMs), send);
  }

  function send(): void {
    cancelTimer?.();
    cancelTimer = null;
    if (waiting.length === 0) return;
    const batch = waiting;
    waiting = [];
    const done: Promise<void> = publishBatch(batch).finally(() => inFlight.delete(done));
    inFlight.add(done);
  }

  async function publishBatch(batch: Waiting[]): Promise<void> {
    try {
      const messages = batch.map((w) => w.message);
      if (opts.noteKeepMs !== undefined) {
        await deps.cache.noteRequests(messages.map(({ uuid, seckillGoodId, userId }) => ({ uuid, seckillGoodId, userId })), opts.noteKeepMs);
      }
      await deps.bus.publishOrders(messages, opts.publishWithinMs === undefined ? {} : { sendBy: Math.min(...messages.map((m) => m.reservedAt)) + opts.publishWithinMs });
    } catch (cause) {
      const unconfirmed = (cause as SeckillError | undefined)?.details as { unconfirmed?: boolean } | undefined;
      if (!unconfirmed?.unconfirmed) await releaseUnits(batch.filter((w) => w.releaseOnFailure).map((w) => w.message));
      const error = new SeckillError(
        'UNAVAILABLE',
        unconfirmed?.unconfirmed
          ? 'The order queue did not confirm in time; send the same request again to learn its outcome.'
          : 'The order queue is unavailable; nothing was taken from stock.',
        { cause },
      );
      for (const w of batch) w.reject(error);
      return;
    }
    for (const w of batch) w.resolve();
  }

  async function releaseUnits(messages: OrderMessage[]): Promise<void> {
    await Promise.all(
      [...groupBy(messages, (m) => m.seckillGoodId)].map(([goodId, ofGood]) =>
        // If even this fails, the reservations stay recorded by uuid and the reconciler gives them back.
        deps.cache.release(goodId, ofGood.map((m) => m.uuid)).catch((err: unknown) => deps.onReleaseFailed?.(err, ofGood)),
      ),
    );
  }

  return {
    publish(message, { releaseOnFailure }) {
      return new Promise<void>((resolve, reject) => {
        waiting.push({ message, releaseOnFailure, resolve, reject });
        if (waiting.length >= maxOrders) send();
        else if (cancelTimer === null) startTimer();
      });
    },
    async flush() {
      send();
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}
