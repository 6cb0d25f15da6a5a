/**
 * The OrderBus behaviour every adapter must show. Run by memory-order-bus.test.ts and
 * rabbitmq-order-bus.int.test.ts.
 *
 * `makeFresh` gives an empty bus whose buses (the first one and its peers) were made with
 * `maxAttempts: CONTRACT_MAX_ATTEMPTS`. `makePeer` is a second process on the same broker and topology.
 * `cleanup` closes every bus it made (closing twice is fine) and removes what the test left behind.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Alert, Delivery, OrderBus, OrderMessage, SeckillResult } from '../../core/ports.ts';

export interface OrderBusFixture {
  bus: OrderBus;
  makePeer?: () => Promise<OrderBus>;
  cleanup: () => Promise<void>;
}

export const CONTRACT_MAX_ATTEMPTS = 3;
/** Fixtures make their buses with this pay timeout, so timeout tests finish quickly. */
export const CONTRACT_PAY_TIMEOUT_MS = 300;

/** Long enough for a broker to deliver something that should not be delivered. */
const QUIET_MS = 250;

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

    describe('orders', () => {
      it('a published order reaches a consumer as an equal copy, attempt 1, not redelivered, never inside publish', async () => {
        const got: [OrderMessage, Delivery][] = [];
        let publishing = false;
        let calledInsidePublish = false;
        await bus.consumeOrders(async (message, delivery) => {
          calledInsidePublish ||= publishing;
          got.push([message, delivery]);
        });
        const sent = order(1);
        publishing = true;
        const published = bus.publishOrder(sent);
        publishing = false;
        sent.userId = 999; // the caller's object is not shared with the consumer
        await published;

        await waitFor(() => got.length === 1);
        expect(got[0]).toEqual([order(1), { attempt: 1, redelivered: false }]);
        expect(calledInsidePublish).toBe(false);
      });

      it('1000 orders published at once are each handled once, by one of two competing consumers', async () => {
        const handled = new Map<string, number>();
        const perConsumer = [0, 0];
        const consumer = (index: 0 | 1) => async (message: OrderMessage) => {
          handled.set(message.uuid, (handled.get(message.uuid) ?? 0) + 1);
          perConsumer[index]! += 1;
          await new Promise((resolve) => setImmediate(resolve));
        };
        await bus.consumeOrders(consumer(0), { prefetch: 20 });
        await (await otherProcess()).consumeOrders(consumer(1), { prefetch: 20 });

        await Promise.all(Array.from({ length: 1000 }, (_, i) => bus.publishOrder(order(i))));
        await waitFor(() => perConsumer[0]! + perConsumer[1]! >= 1000, 30_000);
        await sleep(QUIET_MS);

        expect(handled.size).toBe(1000);
        expect([...handled.values()].filter((n) => n !== 1)).toEqual([]);
        expect(perConsumer[0]).toBeGreaterThan(0);
        expect(perConsumer[1]).toBeGreaterThan(0);
      });

      it('a handler that fails once sees the message again with attempt 2, and its success is final', async () => {
        const seen: Delivery[] = [];
        await bus.consumeOrders(async (_message, delivery) => {
          seen.push(delivery);
          if (delivery.attempt === 1) throw new Error('transient');
        });
        await bus.publishOrder(order(1));

        await waitFor(() => seen.length >= 2);
        await sleep(QUIET_MS);
        expect(seen).toEqual([
          { attempt: 1, redelivered: false },
          { attempt: 2, redelivered: true },
        ]);
        expect(await bus.takeDeadOrders(10)).toEqual([]);
      });

      it(`a handler that always fails sends the message to the dead-letter queue after ${CONTRACT_MAX_ATTEMPTS} attempts, without looping`, async () => {
        const attempts: number[] = [];
        await bus.consumeOrders(async (_message, delivery) => {
          attempts.push(delivery.attempt);
          throw new Error('permanent');
        });
        await bus.publishOrder(order(7));

        const dead: OrderMessage[] = [];
        await waitFor(async () => {
          dead.push(...(await bus.takeDeadOrders(10)));
          return dead.length > 0;
        });
        await sleep(QUIET_MS);
        expect(dead).toEqual([order(7)]);
        expect(attempts).toEqual([1, 2, 3]);
        expect(await bus.takeDeadOrders(10)).toEqual([]);
      });

      it('a message is not acked before its handler resolves: when that process dies, another consumer gets it again', async ({ skip }) => {
        if (!fx.makePeer) return skip();
        const dying = await fx.makePeer();
        const started = deferred();
        const neverDone = deferred();
        await dying.consumeOrders(async () => {
          started.resolve();
          await neverDone.promise;
        });
        await bus.publishOrder(order(1));
        await started.promise;

        const seen: [OrderMessage, Delivery][] = [];
        await bus.consumeOrders(async (message, delivery) => {
          seen.push([message, delivery]);
        });
        await sleep(QUIET_MS);
        expect(seen).toEqual([]); // still held by the first process

        await dying.close();
        await waitFor(() => seen.length === 1);
        expect(seen[0]).toEqual([order(1), { attempt: 1, redelivered: true }]);

        neverDone.resolve(); // the dead process's late success acks nothing
        await sleep(QUIET_MS);
        expect(seen).toHaveLength(1);
      });

      it('closing a subscription waits for the handler in hand and acks it, and takes no new messages', async () => {
        const started = deferred();
        const release = deferred();
        let finished = false;
        const subscription = await bus.consumeOrders(async () => {
          started.resolve();
          await release.promise;
          finished = true;
        });
        await bus.publishOrder(order(1));
        await started.promise;

        let closed = false;
        const closing = subscription.close().then(() => {
          closed = true;
        });
        await sleep(QUIET_MS);
        expect(closed).toBe(false);
        await bus.publishOrder(order(2));
        release.resolve();
        await closing;
        expect(finished).toBe(true);

        const seen: string[] = [];
        await bus.consumeOrders(async (message) => {
          seen.push(message.uuid);
        });
        await waitFor(() => seen.length >= 1);
        await sleep(QUIET_MS);
        expect(seen).toEqual([order(2).uuid]);
      });

      it('prefetch bounds the messages a consumer holds at once', async () => {
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
        await Promise.all(Array.from({ length: 10 }, (_, i) => bus.publishOrder(order(i))));

        await waitFor(() => inHand === 3);
        await sleep(QUIET_MS);
        expect(most).toBe(3);
        release.resolve();
        await waitFor(() => done === 10);
        expect(most).toBe(3);
      });
    });

    describe('broadcasts', () => {
      it('every result reaches every subscriber of both processes, as separate copies; a closed subscription gets no more', async () => {
        const peer = await otherProcess();
        const a: SeckillResult[] = [];
        const b: SeckillResult[] = [];
        const c: SeckillResult[] = [];
        const subA = await bus.subscribeResults((r) => {
          a.push(r);
          r.uuid = 'changed-by-a';
        });
        await bus.subscribeResults((r) => b.push(r));
        await peer.subscribeResults((r) => c.push(r));

        const success = result('u-success', 'SUCCESS');
        const fail = result('u-fail', 'FAIL');
        await peer.publishResult(success);
        await bus.publishResult(fail);
        await waitFor(() => a.length === 2 && b.length === 2 && c.length === 2);
        expect(b).toEqual([success, fail]);
        expect(c).toEqual([success, fail]);

        await subA.close();
        const late = result('u-late', 'SUCCESS');
        await bus.publishResult(late);
        await waitFor(() => b.length === 3 && c.length === 3);
        await sleep(QUIET_MS);
        expect(a).toHaveLength(2);
        expect(c[2]).toEqual(late);
      });

      it('a stock-again broadcast reaches every process', async () => {
        const peer = await otherProcess();
        const here: number[] = [];
        const there: number[] = [];
        await bus.subscribeStockAgain((id) => here.push(id));
        await peer.subscribeStockAgain((id) => there.push(id));

        await bus.broadcastStockAgain(42);
        await peer.broadcastStockAgain(43);
        await waitFor(() => here.length === 2 && there.length === 2);
        expect(here).toEqual([42, 43]);
        expect(there).toEqual([42, 43]);
      });
    });

    describe('alerts', () => {
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
      it('a SUCCESS reaches one of two competing timeout consumers after the pay timeout; a FAIL never does', async () => {
        const peer = await otherProcess();
        const got: string[] = [];
        await bus.consumeTimeouts(async (r) => {
          got.push(r.uuid);
        });
        await peer.consumeTimeouts(async (r) => {
          got.push(r.uuid);
        });
        await bus.publishResult(result('due-1', 'SUCCESS'));
        await bus.publishResult(result('never', 'FAIL'));
        await peer.publishResult(result('due-2', 'SUCCESS'));
        expect(got).toEqual([]); // not before its time
        await waitFor(() => got.length === 2);
        await sleep(QUIET_MS);
        expect(got.sort()).toEqual(['due-1', 'due-2']);
      });

      it('a timeout handler that fails sees the message again (at-least-once), then its success is final', async () => {
        const attempts: number[] = [];
        await bus.consumeTimeouts(async (_r, delivery) => {
          attempts.push(delivery.attempt);
          if (delivery.attempt === 1) throw new Error('database down');
        });
        await bus.publishResult(result('due', 'SUCCESS'));
        await waitFor(() => attempts.length === 2);
        await sleep(QUIET_MS);
        expect(attempts).toEqual([1, 2]);
      });
    });

    describe('close', () => {
      it('after close every publish and subscribe rejects, and closing again is fine', async () => {
        await bus.close();
        await expect(bus.publishOrder(order(1))).rejects.toThrow();
        await expect(bus.publishResult(result('u', 'SUCCESS'))).rejects.toThrow();
        await expect(bus.broadcastStockAgain(1)).rejects.toThrow();
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

function result(uuid: string, status: 'SUCCESS' | 'FAIL'): SeckillResult {
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
