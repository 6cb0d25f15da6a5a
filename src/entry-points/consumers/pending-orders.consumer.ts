/**
 * Consumes the pending queue. Deliveries that arrive together are decided together: one database
 * batch per round (the store groups them by good), one round at a time, so a hot good costs one
 * stock UPDATE per batch instead of one per order. Each delivery is acked (its handler resolves)
 * only after its batch is committed and its result published.
 */
import type { Logger } from 'pino';
import { createOrders, type CreateOrdersDeps } from '../../core/create-orders.ts';
import type { OrderBus, OrderMessage, Subscription } from '../../core/ports.ts';
import type { Metrics } from '../metrics.ts';

interface Waiting {
  message: OrderMessage;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export async function consumePendingOrders(
  deps: CreateOrdersDeps & { bus: Pick<OrderBus, 'consumeOrders'> & CreateOrdersDeps['bus']; logger: Logger; metrics: Metrics },
  opts: { prefetch: number; batchSize: number },
): Promise<Subscription> {
  const waiting: Waiting[] = [];
  let running = false;

  async function drain(): Promise<void> {
    running = true;
    try {
      while (waiting.length > 0) {
        const batch = waiting.splice(0, opts.batchSize);
        try {
          const summary = await createOrders(deps, batch.map((w) => w.message));
          deps.metrics.batchSize.observe(batch.length);
          for (const r of summary.results) deps.metrics.ordersProcessed.inc({ status: r.status, repeat: 'false' });
          if (summary.repeats > 0) deps.metrics.ordersProcessed.inc({ status: 'ANY', repeat: 'true' }, summary.repeats);
          deps.logger.debug({ batch: batch.length, created: summary.created, failed: summary.failed, repeats: summary.repeats }, 'batch decided');
          for (const w of batch) w.resolve();
        } catch (err) {
          deps.logger.warn({ err, batch: batch.length }, 'batch failed; its messages will be redelivered');
          for (const w of batch) w.reject(err);
        }
      }
    } finally {
      running = false;
    }
  }

  return deps.bus.consumeOrders(
    (message) =>
      new Promise<void>((resolve, reject) => {
        waiting.push({ message, resolve, reject });
        // Let the deliveries already in the socket buffer join this batch before it starts.
        if (!running && waiting.length === 1) setImmediate(() => void (running ? undefined : drain()));
      }),
    { prefetch: opts.prefetch },
  );
}
