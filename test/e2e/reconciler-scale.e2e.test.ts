/**
 * The reconciler on many overdue orders whose timeout messages were all lost: every one closes, every
 * unit returns to database and cache, nothing is closed twice. RECONCILE_SCALE_ORDERS sets the size
 * (default 2000; docs/design.md quotes a 10k run). Prints the time; asserts no time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSale } from '../../src/core/sales.ts';
import { makeOrderNo } from '../../src/core/create-orders.ts';
import { bootTestApp, newUuid, type Mode, type TestApp } from '../support/app.ts';
import { servicesAvailable } from '../support/services.ts';

const servicesUp = await servicesAvailable('postgres', 'redis', 'rabbitmq');
const N = Number(process.env.RECONCILE_SCALE_ORDERS ?? 2000);

describe.each<Mode>(['embedded', 'services'])('reconciler at scale (%s)', (mode) => {
  const skip = mode === 'services' && !servicesUp;
  let app: TestApp;

  beforeAll(async () => {
    if (skip) return;
    app = await bootTestApp(mode, { RECONCILE_INTERVAL_MS: '3600000', ORDER_PAY_TIMEOUT_MS: '1000' });
  }, 60_000);

  afterAll(async () => {
    await app?.destroy();
  });

  it.skipIf(skip)(`${N} overdue orders with lost timeout messages: all closed once, stock and pre-stock whole again`, async () => {
    const { db, store, cache } = app.adapters;
    const good = await createSale({ store, cache }, {
      name: 'Scale good', title: '', imageUrl: '', price: 100, seckillPrice: 1, stock: N,
      startAt: new Date(Date.now() - 60_000), endAt: new Date(Date.now() + 3_600_000),
    }, new Date());
    const tag = newUuid().slice(0, 6);
    const users = await db.query<{ id: number }>(
      `INSERT INTO users (phone, nickname, password_hash, role)
       SELECT 'r' || $1 || g, 'r', 'x', 'user' FROM generate_series(1, $2::int) AS g RETURNING id`,
      [tag, N],
    );
    // Orders made long ago, as the worker makes them, whose results (and timeout messages) were never published.
    const past = new Date(Date.now() - 60_000);
    const messages = users.map((u) => ({ uuid: newUuid(), userId: u.id, seckillGoodId: good.id, reservedAt: past.getTime() }));
    for (let i = 0; i < messages.length; i += 500) {
      await store.createOrders(messages.slice(i, i + 500), { now: past, payTimeoutMs: 1000, makeOrderNo: () => makeOrderNo() });
    }
    await cache.load(good.id, 0, users.map((u) => u.id), { onlyIfMissing: false });
    expect((await store.stats(good.id))!.orders.UNPAID).toBe(N);

    const started = performance.now();
    const report = await app.reconciler!.runNow();
    const ms = performance.now() - started;
    console.info(`[${mode}] reconciler closed ${report.timedOut} overdue orders in ${ms.toFixed(0)} ms (${((report.timedOut / ms) * 1000).toFixed(0)} orders/s)`);

    expect(report.timedOut).toBe(N);
    const stats = (await store.stats(good.id))!;
    expect(stats).toMatchObject({ stock: N, orders: { UNPAID: 0, TIMEOUT: N } });
    expect((await cache.read(good.id)).preStock).toBe(N);
    // A second run finds nothing to do.
    expect((await app.reconciler!.runNow()).timedOut).toBe(0);
  }, 180_000);
});
