/**
 * OrderBus in process (embedded mode): product code, as strict as RabbitMQ so consumers stay honest.
 *
 * - Every message is a batch (an array), as on RabbitMQ: order requests, results, goods with stock again.
 * - Orders: one queue, competing consumers served round robin, each with at most `prefetch` messages in
 *   hand. A message leaves the queue only when its handler resolves; a rejection puts it back at the tail
 *   with attempt + 1 and redelivered = true, and after `maxAttempts` it goes to the dead list. A rejection
 *   for an infrastructure failure (UNAVAILABLE) keeps the message in hand for a growing wait, then puts it
 *   back with the same attempt (see retry-policy.ts).
 * - Every message is a JSON copy: no caller shares objects with another.
 * - Delivery is always asynchronous, never inside the publish call.
 * - `duplicateDeliveries: n` delivers the first n order messages twice, as a broker may.
 * - `peer()` is a second "process" on the same in-memory broker (memory-broker.ts). Closing a bus is a
 *   process dying: the messages its handlers hold go back to the head of the queue, redelivered.
 */
import type { Delivery, Handler, OrderBus, Subscription } from '../../core/ports/order-bus.ts';
import { SeckillError } from '../../core/errors.ts';
import { groupResults } from './batches.ts';
import { decodeSalesChanged, decodeStockAgain, salesChangedBody } from './sale-signs.ts';
import { createBackoff, isInfrastructureFailure } from './retry-policy.ts';
import { drainedAt, noteIfEmpty, removeConsumer, schedulePump, type Consumer, type Queued, type Unacked, type WorkQueue } from './memory-work-queue.ts';
import { createBroker, queueAdmin, type Broker } from './memory-broker.ts';

export interface MemoryOrderBusOptions {
  /** Deliveries of one order message before it is dead-lettered. Default 5. */
  maxAttempts?: number;
  /** The first n order messages published are delivered twice. Default 0. */
  duplicateDeliveries?: number;
  /** The broker's clock (epoch ms), for when the order queue was last empty. Default: Date.now. */
  now?: () => number;
  /** Where a throwing subscriber is reported. Default: console.error. */
  onSubscriberError?: (err: unknown) => void;
  /** A SUCCESS result reaches the timeout consumers this long after it is published. Default 15 min. */
  payTimeoutMs?: number;
  /** Alerts kept at most (the oldest dropped). Default 10,000. */
  alertQueueMax?: number;
  /** Waits between retries after infrastructure failures. Default 200 ms growing to 10 s. */
  retryBackoff?: { firstMs?: number; maxMs?: number };
}

export interface MemoryOrderBus extends OrderBus {
  /** Another process on the same broker (its own consumers and subscribers; closing it is that process dying). */
  peer(opts?: Omit<MemoryOrderBusOptions, 'duplicateDeliveries'>): MemoryOrderBus;
  /** Messages waiting in the order queue, not in any handler's hand. */
  pendingCount(): number;
}

export const DEFAULT_PREFETCH = 50;

export function createMemoryOrderBus(options: MemoryOrderBusOptions = {}): MemoryOrderBus {
  const now = options.now ?? Date.now;
  return connect(createBroker(now, options.duplicateDeliveries ?? 0), options);
}

function connect(broker: Broker, options: MemoryOrderBusOptions): MemoryOrderBus {
  const maxAttempts = options.maxAttempts ?? 5;
  const payTimeoutMs = options.payTimeoutMs ?? 15 * 60_000;
  const onSubscriberError = options.onSubscriberError ?? ((err: unknown) => console.error('order bus subscriber threw', err));
  let closed = false;
  const myConsumers = new Set<{ queue: WorkQueue; consumer: Consumer }>();
  const myUnacked = new Set<Unacked>();
  const mySubscribers = new Set<{ set: Set<(body: string) => void>; fn: (body: string) => void }>();

  function ensureOpen(): void {
    if (closed) throw new SeckillError('UNAVAILABLE', 'The order bus is closed.');
  }

  function deliver(queue: WorkQueue, consumer: Consumer, item: Queued): void {
    consumer.inHand++;
    queue.inHand++;
    const unacked: Unacked = { item, queue, consumer, settled: false };
    myUnacked.add(unacked);
    const delivery: Delivery = { attempt: item.attempt, redelivered: item.redelivered };
    const work: Promise<void> = Promise.resolve()
      .then(() => consumer.handler(JSON.parse(item.body), delivery))
      .then(
        () => {
          consumer.backoff.reset();
          settle(unacked, null);
        },
        async (err: unknown) => {
          if (!isInfrastructureFailure(err)) { settle(unacked, item.attempt >= maxAttempts ? 'dead' : 'retry'); return; }
          await new Promise((r) => setTimeout(r, consumer.backoff.next()));
          settle(unacked, 'again');
        },
      )
      .finally(() => consumer.work.delete(work));
    consumer.work.add(work);
  }

  function settle(unacked: Unacked, failure: 'retry' | 'again' | 'dead' | null): void {
    if (unacked.settled) return; // this process died meanwhile: the message is already back in the queue
    unacked.settled = true;
    myUnacked.delete(unacked);
    unacked.consumer.inHand--;
    const { item, queue } = unacked;
    queue.inHand--;
    if (failure === 'dead') queue.dead.push(item.body);
    if (failure === 'retry') queue.pending.push({ body: item.body, attempt: item.attempt + 1, redelivered: true });
    if (failure === 'again') queue.pending.push({ body: item.body, attempt: item.attempt, redelivered: true });
    noteIfEmpty(queue, broker.now());
    schedulePump(queue);
  }

  function consume<T>(queue: WorkQueue, handler: Handler<T>, opts?: { prefetch?: number }): Subscription {
    ensureOpen();
    const consumer: Consumer = {
      handler: handler as Handler<unknown>,
      backoff: createBackoff(options.retryBackoff),
      deliver: (item) => deliver(queue, consumer, item),
      prefetch: Math.max(1, opts?.prefetch ?? DEFAULT_PREFETCH),
      inHand: 0,
      work: new Set(),
    };
    queue.consumers.push(consumer);
    myConsumers.add({ queue, consumer });
    schedulePump(queue);
    return {
      async close() {
        removeConsumer(queue, consumer);
        for (const mine of myConsumers) if (mine.consumer === consumer) myConsumers.delete(mine);
        while (consumer.work.size > 0) await Promise.allSettled([...consumer.work]);
      },
    };
  }

  function broadcast(set: Set<(body: string) => void>, value: unknown): void {
    const body = JSON.stringify(value);
    for (const fn of [...set]) setImmediate(() => set.has(fn) && fn(body));
  }

  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- a decode boundary: our own publishers wrote the body, its type is the queue's
  function subscribeTo<T>(set: Set<(body: string) => void>, handler: (message: T) => void): Subscription {
    ensureOpen();
    const fn = (body: string): void => {
      try {
        handler(JSON.parse(body) as T);
      } catch (err) {
        onSubscriberError(err);
      }
    };
    const entry = { set, fn };
    set.add(fn);
    mySubscribers.add(entry);
    return {
      async close() {
        set.delete(fn);
        mySubscribers.delete(entry);
      },
    };
  }

  const bus: MemoryOrderBus = {
    async publishOrders(messages, opts) {
      ensureOpen();
      if (messages.length === 0) return;
      if (opts?.sendBy !== undefined && broker.now() > opts.sendBy) throw new SeckillError('UNAVAILABLE', 'The order batch was not sent in time; nothing of it was published.');
      const body = JSON.stringify(messages);
      broker.orders.pending.push({ body, attempt: 1, redelivered: false });
      if (broker.duplicatesLeft > 0) {
        broker.duplicatesLeft--;
        broker.orders.pending.push({ body, attempt: 1, redelivered: true });
      }
      schedulePump(broker.orders);
    },
    async consumeOrders(handler, opts) {
      return consume(broker.orders, handler, opts);
    },
    async publishResults(results) {
      ensureOpen();
      for (const [status, group] of groupResults(results)) {
        broadcast(broker.resultSubscribers, group);
        if (status !== 'SUCCESS') continue;
        // The delay queue: the broker (not this process) holds the timer, like a TTL queue would.
        const body = JSON.stringify(group);
        broker.payTimers += 1;
        setTimeout(() => {
          broker.payTimers -= 1;
          broker.timeouts.pending.push({ body, attempt: 1, redelivered: false });
          schedulePump(broker.timeouts);
        }, payTimeoutMs).unref();
      }
    },
    async consumeTimeouts(handler, opts) {
      return consume(broker.timeouts, handler, opts);
    },
    async subscribeResults(handler) {
      return subscribeTo(broker.resultSubscribers, handler);
    },
    async broadcastStockAgain(seckillGoodIds) {
      ensureOpen();
      if (seckillGoodIds.length > 0) broadcast(broker.stockSubscribers, seckillGoodIds);
    },
    async subscribeStockAgain(handler) {
      return subscribeTo<unknown>(broker.stockSubscribers, (body) => {
        const ids = decodeStockAgain(body);
        if (ids) handler(ids);
      });
    },
    async broadcastSalesChanged(goods) {
      ensureOpen();
      if (goods.length > 0) broadcast(broker.stockSubscribers, salesChangedBody(goods));
    },
    async subscribeSalesChanged(handler) {
      return subscribeTo<unknown>(broker.stockSubscribers, (body) => {
        const goods = decodeSalesChanged(body);
        if (goods) handler(goods);
      });
    },
    ...queueAdmin(broker, ensureOpen, options.alertQueueMax ?? 10_000),
    peer(opts = {}) {
      return connect(broker, { ...options, ...opts });
    },
    pendingCount: () => broker.orders.pending.length,
    async pendingDrainedAt() {
      ensureOpen();
      return drainedAt(broker.orders, broker.now());
    },
    async ping() {
      ensureOpen();
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const { queue, consumer } of myConsumers) removeConsumer(queue, consumer);
      myConsumers.clear();
      for (const { set, fn } of mySubscribers) set.delete(fn);
      mySubscribers.clear();
      // Like a connection dropping: what this process held goes back to the head of the queue.
      const back = [...myUnacked].filter((u) => !u.settled);
      myUnacked.clear();
      for (const u of back) u.settled = true;
      for (const queue of [broker.orders, broker.timeouts]) {
        const mine = back.filter((u) => u.queue === queue);
        queue.inHand -= mine.length;
        queue.pending.unshift(...mine.map((u) => ({ body: u.item.body, attempt: u.item.attempt, redelivered: true })));
        if (mine.length > 0) schedulePump(queue);
      }
    },
  };

  return bus;
}
