/**
 * The worker's side of batches on the bus: deliveries (each one api process's orders of a few
 * milliseconds) that arrive together are decided together, whole, up to `batchSize` items per decision,
 * so a hot good costs one stock UPDATE per batch instead of one per order.
 *
 * - A delivery's promise settles with the decision that covers it: the consumer acks it only after its
 *   batch is committed and its results published. A failed decision rejects exactly its own deliveries
 *   (they are delivered again).
 * - A delivery is never split: one larger than `batchSize` is decided alone.
 * - Up to `concurrency` decisions run at once. Another starts when a slot is free and either nothing runs
 *   (a lone delivery never waits) or a whole batch is waiting (a full batch never waits behind a slow
 *   one). Otherwise deliveries wait for the running decision to finish, and the next one takes them all:
 *   so batches grow under load instead of splitting into many small transactions on one stock row.
 * - Deliveries already in the socket buffer join: a batch starts once the I/O of this turn is done.
 */
import type { Timers } from './ports/timers.ts';

export interface DeliveryBatchOptions {
  batchSize: number;
  concurrency: number;
}

export interface DeliveryBatchDeps<T> {
  timers: Timers;
  /** Decide the items of whole deliveries, oldest first; `deliveries` is how many deliveries they came in. */
  decide(items: T[], deliveries: number): Promise<void>;
}

interface Waiting<T> {
  items: readonly T[];
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** Returns the handler of one delivery: it resolves once a decision covering the delivery succeeded. */
export function createDeliveryBatches<T>(deps: DeliveryBatchDeps<T>, opts: DeliveryBatchOptions): (items: readonly T[]) => Promise<void> {
  const batchSize = Math.max(1, opts.batchSize);
  const concurrency = Math.max(1, opts.concurrency);
  const waiting: Waiting<T>[] = [];
  let waitingItems = 0;
  let running = 0;
  let scheduled = false;

  /** Whole deliveries, oldest first, up to `batchSize` items (at least one delivery, however large). */
  function takeBatch(): Waiting<T>[] {
    let n = 0;
    let count = 0;
    while (count < waiting.length && (count === 0 || n + waiting[count]!.items.length <= batchSize)) {
      n += waiting[count]!.items.length;
      count++;
    }
    waitingItems -= n;
    return waiting.splice(0, count);
  }

  async function drain(): Promise<void> {
    running++;
    try {
      while (waiting.length > 0) {
        const batch = takeBatch();
        try {
          await deps.decide(
            batch.flatMap((w) => w.items),
            batch.length,
          );
          for (const w of batch) w.resolve();
        } catch (err) {
          for (const w of batch) w.reject(err);
        }
      }
    } finally {
      running--;
    }
  }

  function startBatches(): void {
    scheduled = false;
    while (waiting.length > 0 && running < concurrency && (running === 0 || waitingItems >= batchSize)) void drain();
  }

  return (items) =>
    new Promise<void>((resolve, reject) => {
      waiting.push({ items, resolve, reject });
      waitingItems += items.length;
      if (!scheduled) {
        scheduled = true;
        deps.timers.after(0, startBatches);
      }
    });
}
