/**
 * The OrderBus behaviour every adapter must show. Run by memory-order-bus.test.ts and
 * rabbitmq-order-bus.int.test.ts.
 *
 * Every hop carries batches: a message is an array (of order requests, results, good ids), delivered
 * whole, never split or merged.
 *
 * `makeFresh` gives an empty bus whose buses (the first one and its peers) were made with
 * `maxAttempts: CONTRACT_MAX_ATTEMPTS`. `makePeer` is a second process on the same broker and topology.
 * `cleanup` closes every bus it made (closing twice is fine) and removes what the test left behind.
 * `drainSettleMs`: how long the bus may take to see the pending queue's state (the broker's figures lag).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SeckillError } from '../../core/errors.ts';
import type { Delivery, OrderBus } from '../../core/ports/order-bus.ts';
import type { OrderMessage } from '../../core/model.ts';
import { describeOrderBusBroadcastsAndTimers } from './order-bus-broadcasts.contract.ts';
import { describeOrderBusDrain } from './order-bus-drain.contract.ts';
import { CONTRACT_MAX_ATTEMPTS, FIRST, QUIET_MS, deferred, order, orders, sleep, waitFor, type OrderBusFixture } from './order-bus.fixture.ts';

export * from './order-bus.fixture.ts';

export function describeOrderBus(label: string, makeFresh: () => Promise<OrderBusFixture>, opts: { drainSettleMs?: number } = {}): void {
  const settleMs = opts.drainSettleMs ?? 0;
  describe(`OrderBus contract: ${label}`, () => {
    let fx: OrderBusFixture;
    let bus: OrderBus;
    const otherProcess = async (): Promise<OrderBus> => (fx.makePeer ? fx.makePeer() : bus);

    beforeEach(async () => {
      fx = await makeFresh();
      bus = fx.bus;
    });
    afterEach(async () => {
      await fx.cleanup();
    });

    /** Consume orders on the bus, recording every delivery. */
    async function recordOrders(): Promise<[OrderMessage[], Delivery][]> {
      const seen: [OrderMessage[], Delivery][] = [];
      await bus.consumeOrders(async (batch, delivery) => {
        seen.push([batch, delivery]);
      });
      return seen;
    }

    describe('orders', () => {
      it.each([1, 300])(
        'a batch of %i orders published at once arrives as ONE delivery equal to it (a copy), attempt 1, not redelivered, never inside publish; an empty batch publishes nothing',
        async (size) => {
          let publishing = false;
          let calledInsidePublish = false;
          const got: [OrderMessage[], Delivery][] = [];
          await bus.consumeOrders(async (batch, delivery) => {
            calledInsidePublish ||= publishing;
            got.push([batch, delivery]);
          });
          await bus.publishOrders([]);
          const sent = orders(0, size);
          publishing = true;
          const published = bus.publishOrders(sent);
          publishing = false;
          sent[0]!.userId = 999; // the caller's array and objects are not shared with the consumer
          sent.push(order(size));
          await published;

          await waitFor(() => got.length >= 1);
          await sleep(QUIET_MS);
          expect(got).toEqual([[orders(0, size), FIRST]]);
          expect(calledInsidePublish).toBe(false);
        },
      );

      it('about 1000 orders in 250 batches, published at once: each batch is handled once, whole, by one of two competing consumers', async () => {
        const batches = Array.from({ length: 250 }, (_, b) => orders(b * 10, 1 + (b % 7)));
        const handled: OrderMessage[][] = [];
        const perConsumer = [0, 0];
        const consumer = (index: 0 | 1) => async (batch: OrderMessage[]) => {
          handled.push(batch);
          perConsumer[index]! += 1;
          await new Promise((resolve) => setImmediate(resolve));
        };
        await bus.consumeOrders(consumer(0), { prefetch: 20 });
        await (await otherProcess()).consumeOrders(consumer(1), { prefetch: 20 });

        await Promise.all(batches.map((batch) => bus.publishOrders(batch)));
        await waitFor(() => handled.length >= batches.length, 30_000);
        await sleep(QUIET_MS);

        // A split batch would show as more deliveries, a merged one as fewer; each equals one published batch.
        expect([...handled].sort((x, y) => x[0]!.uuid.localeCompare(y[0]!.uuid))).toEqual(batches);
        expect(perConsumer[0]).toBeGreaterThan(0);
        expect(perConsumer[1]).toBeGreaterThan(0);
      });

      it('a handler that fails once sees the whole batch again (same contents, attempt 2), and its success is final', async () => {
        const seen: [OrderMessage[], Delivery][] = [];
        await bus.consumeOrders(async (batch, delivery) => {
          seen.push([structuredClone(batch), delivery]);
          if (delivery.attempt === 1) {
            batch.length = 0; // what the failed handler did to its copy does not reach the retry
            throw new Error('transient');
          }
        });
        await bus.publishOrders(orders(1, 5));

        await waitFor(() => seen.length >= 2);
        await sleep(QUIET_MS);
        expect(seen).toEqual([
          [orders(1, 5), FIRST],
          [orders(1, 5), { attempt: 2, redelivered: true }],
        ]);
        expect(await bus.takeDeadOrders(10)).toEqual([]);
      });

      it(`a handler that always fails dead-letters each whole batch after ${CONTRACT_MAX_ATTEMPTS} attempts, without looping; takeDeadOrders(max) takes up to max batches, flattened`, async () => {
        const attempts = new Map<string, number[]>();
        await bus.consumeOrders(async (batch, delivery) => {
          const key = batch[0]!.uuid;
          attempts.set(key, [...(attempts.get(key) ?? []), delivery.attempt]);
          throw new Error('permanent');
        });
        const batches = [orders(7, 3), [order(20)]];
        for (const batch of batches) await bus.publishOrders(batch);

        const taken: OrderMessage[][] = [];
        await waitFor(async () => {
          const dead = await bus.takeDeadOrders(1); // one batch message at most
          if (dead.length > 0) taken.push(dead);
          return taken.length === 2;
        });
        await sleep(QUIET_MS);
        expect(taken).toHaveLength(2);
        for (const batch of batches) expect(taken).toContainEqual(batch);
        expect([...attempts.values()]).toEqual([[1, 2, 3], [1, 2, 3]]);
        expect(await bus.takeDeadOrders(10)).toEqual([]);
      });

      it('a handler failing for an outage (UNAVAILABLE) is retried after waits, past maxAttempts, never dead-lettered, its attempt unchanged', async () => {
        const seen: number[] = [];
        const failures = CONTRACT_MAX_ATTEMPTS + 2;
        await bus.consumeOrders(async (_batch, delivery) => {
          seen.push(delivery.attempt);
          if (seen.length <= failures) throw new SeckillError('UNAVAILABLE', 'The database is unavailable.');
        });
        await bus.publishOrders(orders(1, 3));
        await waitFor(() => seen.length >= failures + 1, 15_000);
        await sleep(QUIET_MS);
        expect(seen).toEqual(Array(failures + 1).fill(1));
        expect(await bus.takeDeadOrders(10)).toEqual([]);
      });

      it('dead-lettered batches replayed: back on the queue whole, as attempt 1, counted in orders; the dead queue is empty after', async () => {
        let fail = true;
        const lastAttempt = new Map<string, number>();
        const handled: [OrderMessage[], number][] = [];
        await bus.consumeOrders(async (batch, delivery) => {
          if (fail) {
            lastAttempt.set(batch[0]!.uuid, delivery.attempt);
            throw new Error('bad content, until fixed');
          }
          handled.push([batch, delivery.attempt]);
        });
        await bus.publishOrders(orders(1, 3));
        await bus.publishOrders(orders(4, 2));
        await waitFor(() => [...lastAttempt.values()].filter((a) => a === CONTRACT_MAX_ATTEMPTS).length === 2);
        fail = false; // the operator fixed the cause, then replays as the last failures reach the dead-letter queue
        let replayed = 0;
        await waitFor(async () => (replayed += await bus.replayDeadOrders(10)) >= 5);
        await waitFor(() => handled.length === 2);
        await sleep(QUIET_MS);
        expect(replayed).toBe(5);
        expect(handled.map(([b]) => b).sort((a, b) => b.length - a.length)).toEqual([orders(1, 3), orders(4, 2)]);
        expect(handled.every(([, attempt]) => attempt === 1)).toBe(true);
        expect(await bus.replayDeadOrders(10)).toBe(0);
        expect(await bus.takeDeadOrders(10)).toEqual([]);
      });

      it('a batch is not acked before its handler resolves: when that process dies, another consumer gets it again', async ({ skip }) => {
        if (!fx.makePeer) return skip();
        const dying = await fx.makePeer();
        const started = deferred();
        const neverDone = deferred();
        await dying.consumeOrders(async () => {
          started.resolve();
          await neverDone.promise;
        });
        await bus.publishOrders(orders(1, 2));
        await started.promise;

        const seen = await recordOrders();
        await sleep(QUIET_MS);
        expect(seen).toEqual([]); // still held by the first process

        await dying.close();
        await waitFor(() => seen.length === 1);
        expect(seen[0]).toEqual([orders(1, 2), { attempt: 1, redelivered: true }]);

        neverDone.resolve(); // the dead process's late success acks nothing
        await sleep(QUIET_MS);
        expect(seen).toHaveLength(1);
      });

      it('closing a subscription waits for the handler in hand and acks it, and takes no new batches', async () => {
        const started = deferred();
        const release = deferred();
        let finished = false;
        const subscription = await bus.consumeOrders(async () => {
          started.resolve();
          await release.promise;
          finished = true;
        });
        await bus.publishOrders(orders(1, 2));
        await started.promise;

        let closed = false;
        const closing = subscription.close().then(() => {
          closed = true;
        });
        await sleep(QUIET_MS);
        expect(closed).toBe(false);
        await bus.publishOrders(orders(3, 2));
        release.resolve();
        await closing;
        expect(finished).toBe(true);

        const seen = await recordOrders();
        await waitFor(() => seen.length >= 1);
        await sleep(QUIET_MS);
        expect(seen.map(([batch]) => batch)).toEqual([orders(3, 2)]);
      });

      it('prefetch bounds the batch messages a consumer holds at once', async () => {
        const release = deferred();
        let inHand = 0;
        let most = 0;
        let done = 0;
        await bus.consumeOrders(
          async () => {
            inHand++;
            most = Math.max(most, inHand);
            await release.promise;
            inHand--;
            done++;
          },
          { prefetch: 3 },
        );
        await Promise.all(Array.from({ length: 10 }, (_, i) => bus.publishOrders(orders(i * 10, 4))));

        await waitFor(() => inHand === 3);
        await sleep(QUIET_MS);
        expect(most).toBe(3);
        release.resolve();
        await waitFor(() => done === 10);
        expect(most).toBe(3);
      });
    });

    describeOrderBusBroadcastsAndTimers({ bus: () => bus, otherProcess });
    describeOrderBusDrain({ bus: () => bus, drainSettleMs: settleMs });
  });
}
