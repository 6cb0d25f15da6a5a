/**
 * The worker under faults, in each mode: a pending message delivered twice, a worker that fails once
 * after its commit, a worker killed after committing a batch but before acking it. Always: one order
 * and one stored result per uuid, and the cache settles to the database's stock.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRabbitOrderBus } from '../../src/adapters/order-bus/rabbitmq-order-bus.ts';
import { connectionLoss, type ConnectionLoss } from '../../src/adapters/order-bus/rabbitmq-connection-loss.fixture.ts';
import type { MemoryOrderBus } from '../../src/adapters/order-bus/memory-order-bus.ts';
import { createSale } from '../../src/core/sales.ts';
import type { OrderBus } from '../../src/core/ports/order-bus.ts';
import type { OrderStore } from '../../src/core/ports/order-store.ts';
import type { SeckillResult } from '../../src/core/model.ts';
import { consumePendingOrders } from '../../src/entry-points/consumers/pending-orders.consumer.ts';
import { createMetrics } from '../../src/entry-points/metrics.ts';
import { bootTestApp, newUuid, type Mode, type TestApp } from '../support/app.ts';
import { servicesAvailable } from '../support/services.ts';
import { systemTimers } from '../../src/adapters/timers/system-timers.ts';

const servicesUp = await servicesAvailable('postgres', 'redis', 'rabbitmq');
const clock = { now: () => new Date() };
const silent = pino({ level: 'silent' });

describe.each<Mode>(['embedded', 'services'])('worker faults (%s)', (mode) => {
  const skip = mode === 'services' && !servicesUp;
  let app: TestApp;
  let userIds: number[];

  /** How each peer bus on RabbitMQ can lose its connection, as its process dying would. */
  const losses = new Map<OrderBus, ConnectionLoss>();

  /** A second process's bus on the same broker. */
  async function peerBus(): Promise<OrderBus> {
    if (mode === 'embedded') return (app.adapters.bus as MemoryOrderBus).peer();
    const loss = connectionLoss();
    const bus = await createRabbitOrderBus({ url: app.config.amqpUrl, prefix: app.config.amqpPrefix, connect: loss.connect });
    losses.set(bus, loss);
    return bus;
  }

  /** The process holding this bus dies: whatever it has not acked goes back to the queue. */
  async function kill(bus: OrderBus): Promise<void> {
    if (mode === 'services') {
      // The socket dies with the process; nothing is closed politely (close() would wait for the hung batch).
      await losses.get(bus)!.cut({ outageMs: 3_600_000 });
      return;
    }
    await bus.close();
  }

  function startWorker(bus: OrderBus, store: Partial<Pick<OrderStore, 'createOrders'>> = {}) {
    return consumePendingOrders(
      { store: { createOrders: app.adapters.store.createOrders, liveOrderNos: app.adapters.store.liveOrderNos, ...store }, cache: app.adapters.cache, bus, clock, timers: systemTimers, payTimeoutMs: 60_000, logger: silent, metrics: createMetrics() },
      { prefetch: 100, batchSize: 50 },
    );
  }

  async function saleWithReservations(stock: number, buyers: number[]) {
    const now = Date.now();
    const good = await createSale(app.adapters, {
      name: 'Fault good', title: '', imageUrl: '', price: 1000, seckillPrice: 10, stock,
      startAt: new Date(now - 1000), endAt: new Date(now + 3_600_000),
    }, new Date());
    const messages = [];
    for (const userId of buyers) {
      const uuid = newUuid();
      expect((await app.adapters.cache.reserve(good.id, userId, uuid, now)).kind).toBe('RESERVED');
      messages.push({ uuid, userId, seckillGoodId: good.id, reservedAt: now });
    }
    return { good, messages };
  }

  async function waitUntil(what: string, check: () => Promise<boolean>, ms = 20_000) {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async function expectSettled(goodId: number, uuids: string[], orders: number) {
    await waitUntil('every result stored and the cache settled', async () => {
      const results = await Promise.all(uuids.map((u) => app.adapters.store.getResult(u)));
      return results.every(Boolean) && (await app.adapters.cache.read(goodId)).inFlight === 0;
    });
    const rows = await app.adapters.db.query<{ uuid: string; n: number }>(
      'SELECT uuid, count(*)::int AS n FROM orders WHERE seckill_good_id = $1 GROUP BY uuid',
      [goodId],
    );
    expect(rows).toHaveLength(orders);
    expect(rows.every((r) => r.n === 1)).toBe(true);
    const stats = await app.adapters.store.stats(goodId);
    const cached = await app.adapters.cache.read(goodId);
    expect(cached.preStock).toBe(stats!.stock);
  }

  beforeAll(async () => {
    if (skip) return;
    app = await bootTestApp(mode, { SECKILL_ROLES: 'api' });
    userIds = [];
    for (let i = 0; i < 40; i++) {
      const u = await app.adapters.users.create({ phone: `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`, nickname: `u${i}`, passwordHash: 'x', role: 'user' });
      if (u) userIds.push(u.id);
    }
  }, 120_000);

  afterAll(async () => {
    await app?.destroy();
  });

  it.skipIf(skip)('every message delivered twice, and a worker failing once after its commit: one order and one result each', async () => {
    const buyers = userIds.slice(0, 10);
    const { good, messages } = await saleWithReservations(10, buyers);
    const published: SeckillResult[] = [];
    const watch = await app.adapters.bus.subscribeResults((results) => {
      for (const r of results) if (r.seckillGoodId === good.id) published.push(r);
    });
    // The worker's bus fails to publish the first result: the batch is committed, the ack never sent.
    const bus = await peerBus();
    let failures = 1;
    const flaky: OrderBus = Object.assign(Object.create(bus), {
      publishResults: async (r: SeckillResult[]) => {
        if (failures-- > 0) throw new Error('broker hiccup after the commit');
        return bus.publishResults(r);
      },
    });
    const worker = await startWorker(flaky);
    // Each message published twice: a duplicate delivery as a broker may make.
    for (const m of messages) await Promise.all([app.adapters.bus.publishOrders([m]), app.adapters.bus.publishOrders([m])]);
    // …and the whole set again as one batch: a batch overlapping decided orders changes nothing twice.
    await app.adapters.bus.publishOrders(messages);

    await expectSettled(good.id, messages.map((m) => m.uuid), 10);
    await waitUntil('a result published for every uuid', async () => new Set(published.map((r) => r.uuid)).size === 10);
    const stored = await Promise.all(messages.map((m) => app.adapters.store.getResult(m.uuid)));
    expect(stored.every((r) => r?.status === 'SUCCESS')).toBe(true);
    // A result may be published again by a redelivery, but never with a different outcome.
    for (const r of published) expect(r).toEqual(stored.find((s) => s!.uuid === r.uuid));
    expect((await app.adapters.store.stats(good.id))!.orders.UNPAID).toBe(10);
    await worker.close();
    await watch.close();
    await bus.close();
  });

  it.skipIf(skip)('a worker killed after committing a batch, before acking it: the next worker finishes it without creating anything twice', async () => {
    const buyers = userIds.slice(10, 40);
    const { good, messages } = await saleWithReservations(20, buyers.slice(0, 20));
    let committed = 0;
    const doomedBus = await peerBus();
    // This worker commits its batches and then never gets to ack them.
    const doomed = await startWorker(doomedBus, {
      createOrders: async (msgs, opts) => {
        await app.adapters.store.createOrders(msgs, opts);
        committed += msgs.length;
        return new Promise(() => undefined);
      },
    });
    // In batches of 5, as api processes publish them.
    for (let i = 0; i < messages.length; i += 5) await app.adapters.bus.publishOrders(messages.slice(i, i + 5));
    await waitUntil('the doomed worker committed a batch', async () => committed > 0);
    expect((await app.adapters.store.stats(good.id))!.orders.UNPAID).toBeGreaterThan(0);
    void doomed;
    await kill(doomedBus);

    const rescueBus = await peerBus();
    const rescue = await startWorker(rescueBus);
    await expectSettled(good.id, messages.map((m) => m.uuid), 20);
    expect(await app.adapters.store.stats(good.id)).toMatchObject({ stock: 0, orders: { UNPAID: 20 } });
    await rescue.close();
    await rescueBus.close();
  });
});
