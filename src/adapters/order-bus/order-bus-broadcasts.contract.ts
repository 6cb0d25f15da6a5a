/** The OrderBus contract, part two: broadcasts, alerts, pay timeouts, queue depths and closing. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Delivery, OrderBus } from '../../core/ports/order-bus.ts';
import type { SeckillGood, SeckillResult } from '../../core/model.ts';
import { CONTRACT_ALERT_QUEUE_MAX, CONTRACT_PAY_TIMEOUT_MS, FIRST, QUIET_MS, alert, order, orders, result, sleep, waitFor } from './order-bus.fixture.ts';

export function describeOrderBusBroadcastsAndTimers(engine: { bus: () => OrderBus; otherProcess: () => Promise<OrderBus> }): void {
  let bus: OrderBus;
  const otherProcess = () => engine.otherProcess();
  beforeEach(() => {
    bus = engine.bus();
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

    it('changed sales reach every process whole (dates as dates), in the order sent, on the same fanout as stock again: each subscriber hears only its own kind', async () => {
      const peer = await otherProcess();
      const sales: SeckillGood[][] = [];
      const stock: number[][] = [];
      await bus.subscribeSalesChanged((goods) => sales.push(goods));
      await peer.subscribeStockAgain((ids) => stock.push(ids));
      const peerSales: SeckillGood[][] = [];
      await peer.subscribeSalesChanged((goods) => peerSales.push(goods));

      const paused = sale(7, { paused: true, revision: 2 });
      const resumed = sale(7, { paused: false, revision: 3, seckillPrice: 1 });
      await peer.broadcastSalesChanged([paused]);
      await bus.broadcastStockAgain([7]);
      await peer.broadcastSalesChanged([]);
      await peer.broadcastSalesChanged([resumed, sale(8, {})]);
      await waitFor(() => sales.length >= 2 && peerSales.length >= 2 && stock.length >= 1);
      await sleep(QUIET_MS);
      expect(sales).toEqual([[paused], [resumed, sale(8, {})]]);
      expect(peerSales).toEqual(sales);
      expect(sales[0]![0]!.startAt).toBeInstanceOf(Date);
      expect(stock).toEqual([[7]]);
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
      // The pay timer is short: on a busy machine it may have run out before the first look.
      await expect
        .poll(async () => {
          const d = await bus.queueDepths();
          return { ...d, payTimers: d.payTimers + d.dueTimeouts, dueTimeouts: 0 };
        }, { timeout: 5000 })
        .toEqual({ ...none, pendingOrders: 2, payTimers: 1, alerts: 1 });

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
}

function sale(id: number, change: Partial<SeckillGood>): SeckillGood {
  return {
    id, name: `sale ${id}`, title: '', imageUrl: '/i.png', price: 2000, seckillPrice: 990, initialStock: 10, stock: 10,
    startAt: new Date('2030-01-01T10:00:00.000Z'), endAt: new Date('2030-01-01T11:00:00.000Z'), paused: false, revision: 1,
    ...change,
  };
}
