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
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SeckillError } from '../../core/errors.ts';
import type { Delivery, OrderBus } from '../../core/ports.ts';
import type { Alert, OrderMessage, SeckillResult } from '../../core/model.ts';

export interface OrderBusFixture {
  bus: OrderBus;
  makePeer?: () => Promise<OrderBus>;
  cleanup: () => Promise<void>;
}

export const CONTRACT_MAX_ATTEMPTS = 3;
/** Fixtures make their buses with this pay timeout, so timeout tests finish quickly. */
export const CONTRACT_PAY_TIMEOUT_MS = 300;
/** Fixtures make their buses with these waits after an infrastructure failure, so outage tests finish quickly. */
export const CONTRACT_RETRY_BACKOFF = { firstMs: 10, maxMs: 50 };
/** Fixtures make their buses with this alert queue bound. */
export const CONTRACT_ALERT_QUEUE_MAX = 20;

/** Long enough for a broker to deliver something that should not be delivered. */
const QUIET_MS = 250;
const FIRST: Delivery = { attempt: 1, redelivered: false };

export function describeOrderBus(label: string, makeFresh: () => Promise<OrderBusFixture>): void {
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
        await sleep(QUIET_MS); // the last failures reach the dead-letter queue
        fail = false; // the operator fixed the cause, then replays
        const replayed = await bus.replayDeadOrders(10);
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

    describe('broadcasts', () => {
      it('every result batch reaches every subscriber of both processes, as separate copies; a closed subscription gets no more', async () => {
        const peer = await otherProcess();
        const a: SeckillResult[][] = [];
        const b: SeckillResult[][] = [];
        const c: SeckillResult[][] = [];
        const subA = await bus.subscribeResults((rs) => {
          a.push(rs);
          rs[0]!.uuid = 'changed-by-a';
          rs.push(result('added-by-a', 'FAIL'));
        });
        await bus.subscribeResults((rs) => b.push(rs));
        await peer.subscribeResults((rs) => c.push(rs));

        const successes = [result('u-s1', 'SUCCESS'), result('u-s2', 'SUCCESS')];
        const fails = [result('u-fail', 'FAIL')];
        await peer.publishResults(successes);
        await bus.publishResults(fails);
        await waitFor(() => a.length === 2 && b.length === 2 && c.length === 2);
        expect(b).toEqual([successes, fails]);
        expect(c).toEqual([successes, fails]);

        await subA.close();
        const late = [result('u-late', 'SUCCESS')];
        await bus.publishResults(late);
        await waitFor(() => b.length === 3 && c.length === 3);
        await sleep(QUIET_MS);
        expect(a).toHaveLength(2);
        expect(c[2]).toEqual(late);
      });

      it('a mixed batch reaches every subscriber of both processes as exactly two calls, its SUCCESS and its FAIL results in order; an empty one delivers nothing', async () => {
        const peer = await otherProcess();
        const here: SeckillResult[][] = [];
        const there: SeckillResult[][] = [];
        await bus.subscribeResults((rs) => here.push(rs));
        await peer.subscribeResults((rs) => there.push(rs));

        const [s1, f1, s2, f2, s3] = [result('s1', 'SUCCESS'), result('f1', 'FAIL'), result('s2', 'SUCCESS'), result('f2', 'FAIL'), result('s3', 'SUCCESS')];
        await bus.publishResults([]);
        await bus.publishResults([s1, f1, s2, f2, s3]);
        await waitFor(() => here.length >= 2 && there.length >= 2);
        await sleep(QUIET_MS);
        for (const calls of [here, there]) {
          expect(calls).toHaveLength(2);
          expect(calls).toContainEqual([s1, s2, s3]);
          expect(calls).toContainEqual([f1, f2]);
        }
      });

      it('a stock-again broadcast reaches every process as one call with its good ids; an empty one delivers nothing', async () => {
        const peer = await otherProcess();
        const here: number[][] = [];
        const there: number[][] = [];
        await bus.subscribeStockAgain((ids) => here.push(ids));
        await peer.subscribeStockAgain((ids) => there.push(ids));

        await bus.broadcastStockAgain([1, 2, 3]);
        await peer.broadcastStockAgain([]);
        await peer.broadcastStockAgain([43]);
        await waitFor(() => here.length >= 2 && there.length >= 2);
        await sleep(QUIET_MS);
        expect(here).toEqual([[1, 2, 3], [43]]);
        expect(there).toEqual([[1, 2, 3], [43]]);
      });
    });

    describe('alerts', () => {
      it(`the alert queue keeps the newest ${CONTRACT_ALERT_QUEUE_MAX}: older ones are dropped, never a growing backlog`, async () => {
        for (let i = 1; i <= CONTRACT_ALERT_QUEUE_MAX + 5; i++) await bus.raiseAlert(alert(i));
        const kept = await bus.takeAlerts(1000);
        expect(kept.map((a) => a.seckillGoodId)).toEqual(Array.from({ length: CONTRACT_ALERT_QUEUE_MAX }, (_, i) => i + 6));
      });

      it('alerts raised by any process are kept until taken, oldest first, at most max at a time', async () => {
        const peer = await otherProcess();
        expect(await bus.takeAlerts(10)).toEqual([]);
        const alerts = [1, 2, 3].map(alert);
        await bus.raiseAlert(alerts[0]!);
        await peer.raiseAlert(alerts[1]!);
        await bus.raiseAlert(alerts[2]!);

        expect(await bus.takeAlerts(2)).toEqual(alerts.slice(0, 2));
        expect(await peer.takeAlerts(10)).toEqual(alerts.slice(2));
        expect(await bus.takeAlerts(10)).toEqual([]);
      });
    });

    describe('pay timeouts', () => {
      it('a SUCCESS batch reaches one of two competing timeout consumers after the pay timeout; a FAIL batch never does', async () => {
        const peer = await otherProcess();
        const got: SeckillResult[][] = [];
        const onTimeout = async (rs: SeckillResult[]): Promise<void> => {
          got.push(rs);
        };
        await bus.consumeTimeouts(onTimeout);
        await peer.consumeTimeouts(onTimeout);
        await bus.publishResults([result('due-1', 'SUCCESS')]);
        await bus.publishResults([result('never', 'FAIL')]);
        await peer.publishResults([result('due-2', 'SUCCESS'), result('due-3', 'SUCCESS')]);
        expect(got).toEqual([]); // not before its time
        await waitFor(() => got.length >= 2);
        await sleep(QUIET_MS);
        expect(got).toHaveLength(2);
        expect(got).toContainEqual([result('due-1', 'SUCCESS')]);
        expect(got).toContainEqual([result('due-2', 'SUCCESS'), result('due-3', 'SUCCESS')]);
      });

      it('of a mixed batch, only its SUCCESS results reach consumeTimeouts, as one delivery, once the pay timeout has passed', async () => {
        const got: [SeckillResult[], Delivery, number][] = [];
        const publishedAt = Date.now();
        await bus.consumeTimeouts(async (rs, delivery) => {
          got.push([rs, delivery, Date.now() - publishedAt]);
        });
        await bus.publishResults([result('s1', 'SUCCESS'), result('f1', 'FAIL'), result('s2', 'SUCCESS')]);

        await waitFor(() => got.length >= 1);
        await sleep(QUIET_MS);
        expect(got.map(([rs, delivery]) => [rs, delivery])).toEqual([[[result('s1', 'SUCCESS'), result('s2', 'SUCCESS')], FIRST]]);
        expect(got[0]![2]).toBeGreaterThanOrEqual(CONTRACT_PAY_TIMEOUT_MS - 25); // timers may fire a few ms early
      });

      it('a timeout handler that fails sees the whole batch again (at-least-once), then its success is final', async () => {
        const seen: [SeckillResult[], number][] = [];
        await bus.consumeTimeouts(async (rs, delivery) => {
          seen.push([rs, delivery.attempt]);
          if (delivery.attempt === 1) throw new Error('database down');
        });
        const due = [result('due-1', 'SUCCESS'), result('due-2', 'SUCCESS')];
        await bus.publishResults(due);
        await waitFor(() => seen.length >= 2);
        await sleep(QUIET_MS);
        expect(seen).toEqual([[due, 1], [due, 2]]);
      });
    });

    describe('queue depths', () => {
      it('count the batches waiting on each queue, broker-wide: pending orders, running pay timers, due timeouts, dead letters, alerts', async () => {
        const peer = await otherProcess();
        const none = { pendingOrders: 0, deadOrders: 0, payTimers: 0, dueTimeouts: 0, deadTimeouts: 0, alerts: 0 };
        expect(await bus.queueDepths()).toEqual(none);

        // Nobody consumes yet: two order batches and an alert wait; a SUCCESS batch starts one pay timer.
        await peer.publishOrders(orders(1, 3));
        await bus.publishOrders([order(9)]);
        await peer.raiseAlert(alert(1));
        await bus.publishResults([result('a', 'SUCCESS'), result('b', 'SUCCESS'), result('c', 'FAIL')]);
        await expect.poll(() => bus.queueDepths(), { timeout: 5000 }).toEqual({ ...none, pendingOrders: 2, payTimers: 1, alerts: 1 });

        // The timer runs out: the batch is due, waiting for a timeout consumer.
        await expect.poll(() => peer.queueDepths(), { timeout: 10_000 }).toEqual({ ...none, pendingOrders: 2, dueTimeouts: 1, alerts: 1 });

        // Every order batch fails for good: both end dead, none pending.
        await bus.consumeOrders(async () => {
          throw new Error('permanent');
        });
        await expect.poll(() => bus.queueDepths(), { timeout: 10_000 }).toEqual({ ...none, deadOrders: 2, dueTimeouts: 1, alerts: 1 });
        await bus.takeAlerts(10);
        expect((await bus.queueDepths()).alerts).toBe(0);
      });
    });

    describe('close', () => {
      it('after close every publish and subscribe rejects, ping included, and closing again is fine', async () => {
        await bus.ping();
        await bus.close();
        await expect(bus.ping()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
        await expect(bus.publishOrders([order(1)])).rejects.toThrow();
        await expect(bus.publishResults([result('u', 'SUCCESS')])).rejects.toThrow();
        await expect(bus.broadcastStockAgain([1])).rejects.toThrow();
        await expect(bus.raiseAlert(alert(1))).rejects.toThrow();
        await expect(bus.consumeOrders(async () => undefined)).rejects.toThrow();
        await expect(bus.subscribeResults(() => undefined)).rejects.toThrow();
        await bus.close();
      });
    });
  });
}

export function order(i: number): OrderMessage {
  return { uuid: `uuid-${String(i).padStart(6, '0')}`, userId: 1000 + i, seckillGoodId: 1 + (i % 3), reservedAt: 1_700_000_000_000 + i };
}

/** `count` orders numbered from `from`: a batch. */
export function orders(from: number, count: number): OrderMessage[] {
  return Array.from({ length: count }, (_, i) => order(from + i));
}

export function result(uuid: string, status: 'SUCCESS' | 'FAIL'): SeckillResult {
  return status === 'SUCCESS'
    ? { uuid, userId: 7, seckillGoodId: 3, status, orderNo: `NO-${uuid}` }
    : { uuid, userId: 7, seckillGoodId: 3, status, reason: 'SOLD_OUT' };
}

function alert(i: number): Alert {
  return { kind: 'CACHE_RESYNC_FAILED', message: `alert ${i}`, seckillGoodId: i, details: { tries: i }, at: new Date(1_700_000_000_000 + i).toISOString() };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}
