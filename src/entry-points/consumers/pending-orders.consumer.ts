/**
 * Consumes the pending queue. Each delivery is a batch of order requests (one api process's orders of a
 * few milliseconds); deliveries that arrive together are decided together, whole, up to `batchSize`
 * orders per database batch (the store groups them by good), so a hot good costs one stock UPDATE per
 * batch instead of one per order. Each delivery is acked (its handler resolves) only after its batch is
 * committed and its results published.
 *
 * Up to `concurrency` batches run at once. One at a time, a batch's stages (transaction, cache settles,
 * result publishes and their confirms) ran back to back and the process mostly waited. Measured with
 * `npm run bench` (30k orders on one good, 2 cores): the store alone went from 22k to 31-35k orders/s
 * with 4 batches at once; the whole drain from 5.4k to 5.9-6.1k (there RabbitMQ's ~130 µs of CPU per
 * order is the limit; 8 at once was no better than 4). Concurrent batches overlap those waits;
 * on one good they still queue on its stock row only for the UPDATE and COMMIT (sql-create-orders.ts
 * takes locks in one order, so concurrent batches cannot deadlock and every invariant holds as with
 * several worker processes).
 */
import type { Logger } from 'pino';
import { createOrders, type CreateOrdersDeps } from '../../core/create-orders.ts';
import { isSeckillError } from '../../core/errors.ts';
import { createLogThrottle } from '../../log-throttle.ts';
import type { OrderBus, Subscription } from '../../core/ports.ts';
import type { OrderMessage } from '../../core/model.ts';
import type { Metrics } from '../metrics.ts';

interface Waiting {
  messages: OrderMessage[];
  resolve: () => void;
  reject: (e: unknown) => void;
}

export async function consumePendingOrders(
  deps: CreateOrdersDeps & { bus: Pick<OrderBus, 'consumeOrders'> & CreateOrdersDeps['bus']; logger: Logger; metrics: Metrics },
  opts: { prefetch: number; batchSize: number; concurrency?: number },
): Promise<Subscription> {
  const waiting: Waiting[] = [];
  const failureLog = createLogThrottle(5000);
  const concurrency = Math.max(1, opts.concurrency ?? 1);
  let running = 0;
  let scheduled = false;

  let waitingOrders = 0;

  /** Whole deliveries, oldest first, up to `batchSize` orders (at least one delivery, however large). */
  function takeBatch(): Waiting[] {
    let n = 0;
    let count = 0;
    while (count < waiting.length && (count === 0 || n + waiting[count]!.messages.length <= opts.batchSize)) {
      n += waiting[count]!.messages.length;
      count++;
    }
    waitingOrders -= n;
    return waiting.splice(0, count);
  }

  async function drain(): Promise<void> {
    running++;
    try {
      while (waiting.length > 0) {
        const batch = takeBatch();
        const messages = batch.flatMap((w) => w.messages);
        try {
          const summary = await createOrders(deps, messages);
          deps.metrics.batchSize.observe(messages.length);
          for (const r of summary.results) deps.metrics.ordersProcessed.inc({ status: r.status, repeat: 'false' });
          if (summary.repeats > 0) deps.metrics.ordersProcessed.inc({ status: 'ANY', repeat: 'true' }, summary.repeats);
          deps.logger.debug({ batch: messages.length, deliveries: batch.length, created: summary.created, failed: summary.failed, repeats: summary.repeats }, 'batch decided');
          for (const w of batch) w.resolve();
        } catch (err) {
          const outage = isSeckillError(err) && err.code === 'UNAVAILABLE';
          // An outage fails every batch alike: one line per 5 s (the bus logs its retries too).
          const { log, repeats } = outage ? failureLog.take(err.message) : { log: true, repeats: 0 };
          if (log) deps.logger.warn({ err, batch: messages.length, deliveries: batch.length, ...(repeats ? { sameOutageUnlogged: repeats } : {}) }, 'batch failed; its messages will be redelivered');
          for (const w of batch) w.reject(err);
        }
      }
    } finally {
      running--;
    }
  }

  /**
   * Another batch starts when a slot is free and either nothing runs (a lone message never waits) or a
   * whole batch is waiting (a full batch never waits behind a slow one). Otherwise the messages wait for
   * the next batch to finish, which takes them: so batches stay large under load.
   */
  function startBatches(): void {
    scheduled = false;
    while (waiting.length > 0 && running < concurrency && (running === 0 || waitingOrders >= opts.batchSize)) void drain();
  }

  return deps.bus.consumeOrders(
    (messages) =>
      new Promise<void>((resolve, reject) => {
        waiting.push({ messages, resolve, reject });
        waitingOrders += messages.length;
        // Let the deliveries already in the socket buffer join this batch before it starts.
        if (!scheduled) {
          scheduled = true;
          setImmediate(startBatches);
        }
      }),
    { prefetch: opts.prefetch },
  );
}
