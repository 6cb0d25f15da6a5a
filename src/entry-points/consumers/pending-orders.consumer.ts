/**
 * Consumes the pending queue. Each delivery is a batch of order requests (one api process's orders of a
 * few milliseconds); how deliveries are gathered into database batches is core/delivery-batches.ts. Each
 * delivery is acked (its handler resolves) only after its batch is committed and its results published.
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
import { createDeliveryBatches } from '../../core/delivery-batches.ts';
import { isSeckillError } from '../../core/errors.ts';
import { createLogThrottle } from '../../shared/log-throttle.ts';
import type { OrderBus, Subscription } from '../../core/ports/order-bus.ts';
import type { Timers } from '../../core/ports/timers.ts';
import type { OrderMessage } from '../../core/model.ts';
import type { Metrics } from '../metrics.ts';

export async function consumePendingOrders(
  deps: CreateOrdersDeps & { bus: Pick<OrderBus, 'consumeOrders'> & CreateOrdersDeps['bus']; timers: Timers; logger: Logger; metrics: Metrics },
  opts: { prefetch: number; batchSize: number; concurrency?: number },
): Promise<Subscription> {
  const failureLog = createLogThrottle(5000);
  const handle = createDeliveryBatches<OrderMessage>(
    {
      timers: deps.timers,
      async decide(messages, deliveries) {
        try {
          const summary = await createOrders(deps, messages);
          deps.metrics.batchSize.observe(messages.length);
          for (const r of summary.results) deps.metrics.ordersProcessed.inc({ status: r.status, repeat: 'false' });
          if (summary.repeats > 0) deps.metrics.ordersProcessed.inc({ status: 'ANY', repeat: 'true' }, summary.repeats);
          deps.logger.debug({ batch: messages.length, deliveries, created: summary.created, failed: summary.failed, repeats: summary.repeats }, 'batch decided');
        } catch (err) {
          const outage = isSeckillError(err) && err.code === 'UNAVAILABLE';
          // An outage fails every batch alike: one line per 5 s (the bus logs its retries too).
          const { log, repeats } = outage ? failureLog.take(err.message) : { log: true, repeats: 0 };
          if (log) deps.logger.warn({ err, batch: messages.length, deliveries, ...(repeats ? { sameOutageUnlogged: repeats } : {}) }, 'batch failed; its messages will be redelivered');
          throw err;
        }
      },
    },
    { batchSize: opts.batchSize, concurrency: opts.concurrency ?? 1 },
  );

  return deps.bus.consumeOrders(handle, { prefetch: opts.prefetch });
}
