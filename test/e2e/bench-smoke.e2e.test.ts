/**
 * The benchmark's scenarios at tiny sizes: the same functions `npm run bench` runs (children on isolated
 * names, buyers seeded in bulk, autocannon, result sockets), asserting the invariants only — never a time.
 * Plus the speed-up the bench led to in the worker (several order batches at once), under its worst case.
 */
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSale } from '../../src/core/sales.ts';
import type { OrderStore } from '../../src/core/ports/order-store.ts';
import type { OrderMessage } from '../../src/core/model.ts';
import { consumePendingOrders } from '../../src/entry-points/consumers/pending-orders.consumer.ts';
import { createMetrics } from '../../src/entry-points/metrics.ts';
import { bootTestApp, newUuid, type TestApp } from '../support/app.ts';
import { startHello, type HelloServer } from '../../bench/lib/baselines.ts';
import type { Check } from '../../bench/lib/invariants.ts';
import { acceptThenDrain, burst, endToEnd, helloBaseline, type ScenarioContext } from '../../bench/lib/scenarios.ts';
import { adminToken, seedBuyers } from '../../bench/lib/seed.ts';
import { sockets } from '../../bench/lib/sockets-scenario.ts';
import { startStack, type Mode, type Stack } from '../../bench/lib/stack.ts';
import { servicesAvailable } from '../support/services.ts';
import { systemTimers } from '../../src/adapters/timers/system-timers.ts';

// The children's logs go to a temporary folder, not into bench/results.
process.env.BENCH_LOG_DIR ??= path.join(os.tmpdir(), 'seckill-bench-smoke-logs');
const servicesUp = await servicesAvailable('postgres', 'redis', 'rabbitmq');

describe.each<Mode>(['embedded', 'services'])('bench scenarios, tiny (%s)', (mode) => {
  const skip = mode === 'services' && !servicesUp;
  let stack: Stack | undefined;
  let hello: HelloServer | undefined;
  let ctx: ScenarioContext;
  const lines: string[] = [];

  const expectAllPass = (checks: Check[]) => {
    const failed = checks.filter((c) => !c.ok);
    if (failed.length) console.error(lines.join('\n'));
    expect(failed.map((c) => `${c.name}: ${c.detail}`)).toEqual([]);
    expect(checks.length).toBeGreaterThan(0);
  };

  beforeAll(async () => {
    if (skip) return;
    [stack, hello] = await Promise.all([startStack({ mode, workers: 1, namePrefix: 'smoke' }), startHello()]);
    const buyers = await seedBuyers(stack.sql, stack.secret, 300);
    ctx = { stack, adminToken: await adminToken(stack), buyers, connections: 10, tag: `s${Date.now().toString(36)}`, log: (l) => lines.push(l) };
  }, 90_000);

  afterAll(async () => {
    await Promise.all([stack?.close(), hello?.child.stop()]);
  }, 60_000);

  it.skipIf(skip)('the hello-world baseline answers every request', async () => {
    const load = await helloBaseline(ctx, hello!.url, 200, hello!.child.proc.pid);
    expect(load.statuses).toEqual({ 200: 200 });
  });

  it.skipIf(skip)('a burst sells exactly its units and keeps every invariant', async () => {
    const r = await burst(ctx, { units: 20, requests: 300 });
    expect(r.load.acceptedBuyers).toHaveLength(20);
    expect(r.load.statuses).toEqual({ 200: 20, 409: 280 });
    expectAllPass(r.checks);
  });

  it.skipIf(skip)('end to end: every sampled QUEUED buyer hears its result over WebSocket', async () => {
    const r = await endToEnd(ctx, { units: 20, requests: 100, sockets: 30 });
    expect(r.sampledQueued).toBeGreaterThan(0);
    expectAllPass(r.checks);
  });

  it.skipIf(skip)('sockets: one buyer’s result sockets are all held by the push process and by the bare ws server', async () => {
    const r = await sockets(ctx, { count: 60, inFlight: 10 });
    expect(r.push.held).toBe(60);
    expect(r.bare.held).toBe(60);
    expectAllPass(r.checks);
  });

  it.skipIf(skip)('accept path, then the worker drains the hot good', async () => {
    const { accept, hot } = await acceptThenDrain(ctx, { requests: 150, onePerTx: 30, onePerTxConcurrency: 4, rawPublish: mode === 'services' });
    expect(accept.load.acceptedBuyers).toHaveLength(150);
    expect(hot.orders).toBe(150);
    if (mode === 'services') expect(accept.raw?.published).toBe(150);
    expect(hot.onePerTx?.orders).toBe(30);
    expectAllPass([...accept.checks, ...hot.checks]);
  });
});

describe.each<Mode>(['embedded', 'services'])('worker deciding several batches at once (%s)', (mode) => {
  const skip = mode === 'services' && !servicesUp;
  let app: TestApp;

  beforeAll(async () => {
    if (!skip) app = await bootTestApp(mode, { SECKILL_ROLES: 'api' });
  }, 90_000);
  afterAll(async () => {
    await app?.destroy();
  }, 60_000);

  it.skipIf(skip)('on an oversubscribed good, with every message delivered twice: exactly the stock sold, one result per request', async () => {
    const STOCK = 60;
    const ADMITTED = 100;
    const now = Date.now();
    const good = await createSale(app.adapters, {
      name: 'Concurrent batches', title: '', imageUrl: '', price: 100, seckillPrice: 1, stock: STOCK,
      startAt: new Date(now - 1000), endAt: new Date(now + 3_600_000),
    }, new Date());
    // The cache admits more than the database holds (as after a resync race): 40 requests must end in FAIL.
    await app.adapters.cache.load(good.id, ADMITTED, [], { onlyIfMissing: false });
    const users = await app.adapters.db.query<{ id: number }>(
      `INSERT INTO users (phone, nickname, password_hash, role)
       SELECT '17' || lpad((g + $2::int)::text, 9, '0'), 'c' || g, 'x', 'user' FROM generate_series(1, $1::int) g RETURNING id`,
      [ADMITTED, Math.floor(Math.random() * 1e8)],
    );
    const messages: OrderMessage[] = [];
    for (const { id: userId } of users) {
      const uuid = newUuid();
      expect((await app.adapters.cache.reserve(good.id, userId, uuid, now)).kind).toBe('RESERVED');
      messages.push({ uuid, userId, seckillGoodId: good.id, reservedAt: now });
    }

    let inFlight = 0;
    let mostAtOnce = 0;
    const store: Pick<OrderStore, 'createOrders' | 'liveOrderNos'> = {
      liveOrderNos: app.adapters.store.liveOrderNos,
      async createOrders(msgs, opts) {
        mostAtOnce = Math.max(mostAtOnce, ++inFlight);
        try {
          return await app.adapters.store.createOrders(msgs, opts);
        } finally {
          inFlight--;
        }
      },
    };
    const worker = await consumePendingOrders(
      { store, cache: app.adapters.cache, bus: app.adapters.bus, clock: { now: () => new Date() }, timers: systemTimers, payTimeoutMs: 60_000, logger: pino({ level: 'silent' }), metrics: createMetrics() },
      { prefetch: 200, batchSize: 10, concurrency: 4 },
    );
    try {
      await Promise.all(messages.flatMap((m) => [app.adapters.bus.publishOrders([m]), app.adapters.bus.publishOrders([m])]));
      const deadline = Date.now() + 30_000;
      while ((await app.adapters.cache.read(good.id)).inFlight > 0 || (await app.adapters.store.getResult(messages.at(-1)!.uuid)) === null) {
        if (Date.now() > deadline) throw new Error('the worker did not settle every reservation');
        await new Promise((r) => setTimeout(r, 25));
      }
      const results = await Promise.all(messages.map((m) => app.adapters.store.getResult(m.uuid)));
      expect(results.filter((r) => r?.status === 'SUCCESS')).toHaveLength(STOCK);
      expect(results.filter((r) => r?.status === 'FAIL' && r.reason === 'SOLD_OUT')).toHaveLength(ADMITTED - STOCK);
      const [row] = await app.adapters.db.query<{ stock: number; orders: number; buyers: number }>(
        `SELECT g.stock, count(o.*)::int AS orders, count(DISTINCT o.user_id)::int AS buyers
           FROM seckill_goods g LEFT JOIN orders o ON o.seckill_good_id = g.id AND o.status IN ('UNPAID', 'PAID')
          WHERE g.id = $1 GROUP BY g.stock`,
        [good.id],
      );
      expect(row).toEqual({ stock: 0, orders: STOCK, buyers: STOCK });
      // Every FAIL gave its unit back to the cache exactly once.
      expect(await app.adapters.cache.read(good.id)).toEqual({ preStock: ADMITTED - STOCK, inFlight: 0 });
      expect(mostAtOnce).toBeGreaterThan(1);
    } finally {
      await worker.close();
    }
  });
});
