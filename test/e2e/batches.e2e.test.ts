/**
 * Batches on the bus, through the whole app in each mode: api processes publish their accepted orders
 * a few milliseconds' worth per message, the worker answers one result message per status per batch,
 * pay timeouts come back a batch at a time. Every fault below must leave the invariants whole.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrderMessage, SeckillResult } from '../../src/core/model.ts';
import { apiClient, bootTestApp, mapLimit, newUuid, type ApiClient, type Mode, type TestApp, loginAdmin } from '../support/app.ts';
import { makeBuyers, type Buyer } from '../support/buyers.ts';
import { adminSales, waitFor } from '../support/sales.ts';
import { servicesAvailable } from '../support/services.ts';

const servicesUp = await servicesAvailable('postgres', 'redis', 'rabbitmq');
const PAY_TIMEOUT_MS = 1500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each<Mode>(['embedded', 'services'])('batches on the bus (%s)', (mode) => {
  const skip = mode === 'services' && !servicesUp;
  let app: TestApp;
  let api: ApiClient;
  let admin: string;

  beforeAll(async () => {
    if (skip) return;
    app = await bootTestApp(mode, { API_BATCH_MAX_WAIT_MS: '20' });
    api = apiClient(app.httpUrl);
    admin = await loginAdmin(api);
  }, 60_000);

  afterAll(async () => {
    await app?.destroy();
  });

  const { sale, stats, atRest } = adminSales((...args) => api(...args), () => admin, 'Batch good');

  /** Every buyer presses buy once, all at once; returns each answer with its uuid. */
  async function press(buyers: Buyer[], goodId: number) {
    return Promise.all(
      buyers.map(async (b) => {
        const uuid = newUuid();
        const r = await api('POST', '/api/seckill/orders', { token: b.token, body: { seckillGoodId: goodId, uuid } });
        return { buyer: b, uuid, status: r.status, body: r.body };
      }),
    );
  }

  async function finalResult(b: Buyer, uuid: string, goodId: number) {
    return waitFor('a final result', () => api('GET', `/api/seckill/results/${uuid}?seckillGoodId=${goodId}`, { token: b.token }), (r) => r.body.status !== 'QUEUED');
  }

  /** Replace one bus method for the duration of `fn`. */
  async function withPublish(replace: (original: (m: readonly OrderMessage[]) => Promise<void>) => (m: readonly OrderMessage[]) => Promise<void>, fn: () => Promise<void>) {
    const bus = app.adapters.bus;
    const original = bus.publishOrders.bind(bus);
    bus.publishOrders = replace(original);
    try {
      await fn();
    } finally {
      bus.publishOrders = original;
    }
  }

  it.skipIf(skip)('a burst is published in few messages, and every QUEUED ends in SUCCESS', async () => {
    const goodId = await sale(80);
    const buyers = await makeBuyers(app, 80);
    const sizes: number[] = [];
    let answers: Awaited<ReturnType<typeof press>> = [];
    await withPublish(
      (original) => async (m) => {
        if (m.some((x) => x.seckillGoodId === goodId)) sizes.push(m.length);
        return original(m);
      },
      async () => {
        answers = await press(buyers, goodId);
      },
    );
    expect(answers.every((a) => a.status === 200 && a.body.status === 'QUEUED')).toBe(true);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(80);
    expect(sizes.length).toBeLessThan(80);
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    const results = await mapLimit(answers, 20, (a) => finalResult(a.buyer, a.uuid, goodId));
    expect(results.every((r) => r.body.status === 'SUCCESS')).toBe(true);
    expect(await atRest(goodId)).toMatchObject({ stock: 0, preStock: 0, orders: { UNPAID: 80 } });
  });

  it.skipIf(skip)('every batch message delivered twice: exactly the stock sold, one result per request', async () => {
    const goodId = await sale(30);
    const buyers = await makeBuyers(app, 60);
    let answers: Awaited<ReturnType<typeof press>> = [];
    await withPublish(
      (original) => async (m) => {
        await original(m);
        await original(m);
      },
      async () => {
        answers = await press(buyers, goodId);
      },
    );
    const queued = answers.filter((a) => a.status === 200);
    expect(queued).toHaveLength(30);
    expect(answers.filter((a) => a.status === 409).every((a) => a.body.error.code === 'SOLD_OUT')).toBe(true);
    const results = await mapLimit(queued, 20, (a) => finalResult(a.buyer, a.uuid, goodId));
    expect(results.every((r) => r.body.status === 'SUCCESS')).toBe(true);
    expect(new Set(results.map((r) => r.body.orderNo)).size).toBe(30);
    expect(await atRest(goodId)).toMatchObject({ stock: 0, preStock: 0, orders: { UNPAID: 30 } });
  });

  it.skipIf(skip)('a batch whose publish fails: every buyer of it hears 503 and every unit is back', async () => {
    const goodId = await sale(100);
    const buyers = await makeBuyers(app, 40);
    let failedOrders = 0;
    let answers: Awaited<ReturnType<typeof press>> = [];
    await withPublish(
      () => async (m) => {
        failedOrders += m.length;
        throw new Error('broker down');
      },
      async () => {
        answers = await press(buyers, goodId);
      },
    );
    expect(failedOrders).toBe(40);
    for (const a of answers) expect(a).toMatchObject({ status: 503, body: { error: { code: 'UNAVAILABLE' } } });
    expect(await stats(goodId)).toMatchObject({ stock: 100, preStock: 100, queued: 0 });
    // The queue is back: the same buyers may buy.
    const again = await press(buyers.slice(0, 5), goodId);
    expect(again.every((a) => a.status === 200)).toBe(true);
    expect(await atRest(goodId)).toMatchObject({ stock: 95, preStock: 95, orders: { UNPAID: 5 } });
  });

  it.skipIf(skip)('one batch mixing three goods, one of them sold out in the database: one SUCCESS and one FAIL message, units of the FAILs back', async () => {
    const [a, b, c] = [await sale(3), await sale(3), await sale(2)];
    // The cache of c admits more than the database holds (as after a cache reset): the worker refuses the rest.
    await app.adapters.cache.load(c, 5, [], { onlyIfMissing: false });
    const buyers = await makeBuyers(app, 9);
    const now = Date.now();
    const plan: [number, Buyer][] = [...buyers.slice(0, 3).map((x) => [a, x] as [number, Buyer]), ...buyers.slice(3, 5).map((x) => [b, x] as [number, Buyer]), ...buyers.slice(5).map((x) => [c, x] as [number, Buyer])];
    const messages: OrderMessage[] = plan.map(([goodId, buyer]) => ({ uuid: newUuid(), userId: buyer.userId, seckillGoodId: goodId, reservedAt: now }));
    for (const m of messages) expect((await app.adapters.cache.reserve(m.seckillGoodId, m.userId, m.uuid, now)).kind).toBe('RESERVED');

    const ours = new Set([a, b, c]);
    const resultMessages: SeckillResult[][] = [];
    const stockAgain: number[][] = [];
    const subs = [
      await app.adapters.bus.subscribeResults((batch) => {
        if (batch.some((r) => ours.has(r.seckillGoodId))) resultMessages.push(batch);
      }),
      await app.adapters.bus.subscribeStockAgain((ids) => {
        if (ids.some((id) => ours.has(id))) stockAgain.push(ids);
      }),
    ];
    try {
      await app.adapters.bus.publishOrders(messages);
      await waitFor('two result messages', async () => resultMessages.length, (n) => n >= 2);
      await sleep(200);
      expect(resultMessages).toHaveLength(2);
      const success = resultMessages.find((m) => m[0]!.status === 'SUCCESS')!;
      const fail = resultMessages.find((m) => m[0]!.status === 'FAIL')!;
      expect(success.map((r) => r.seckillGoodId).sort()).toEqual([a, a, a, b, b, c, c].sort());
      expect(fail).toHaveLength(2);
      expect(fail.every((r) => r.seckillGoodId === c && r.reason === 'SOLD_OUT')).toBe(true);
      expect(stockAgain).toEqual([[c]]);
    } finally {
      for (const s of subs) await s.close();
    }
    expect(await stats(a)).toMatchObject({ stock: 0, preStock: 0, queued: 0, orders: { UNPAID: 3 } });
    expect(await stats(b)).toMatchObject({ stock: 1, preStock: 1, queued: 0, orders: { UNPAID: 2 } });
    // c: the database sold its 2; the cache (5 - 4 reserved) got the 2 refused units back: 3 until the reconciler resyncs.
    expect(await stats(c)).toMatchObject({ stock: 0, preStock: 3, queued: 0, orders: { UNPAID: 2 } });
    const report = await app.reconciler!.runNow();
    expect(report.stockResynced).toBeGreaterThanOrEqual(1);
    expect(await stats(c)).toMatchObject({ stock: 0, preStock: 0 });
  });

  it.skipIf(skip)('pay timeouts of a batch where some orders were paid: the unpaid time out, the paid stay paid, units back once', async () => {
    // An app of its own with a short pay timeout (the other tests here must not see their orders time out).
    const shared = { app, api, admin };
    app = await bootTestApp(mode, {
      ORDER_PAY_TIMEOUT_MS: String(PAY_TIMEOUT_MS),
      RECONCILE_INTERVAL_MS: '3600000', // the timeout messages, not the reconciler, close the orders here
      API_BATCH_MAX_WAIT_MS: '20',
    });
    api = apiClient(app.httpUrl);
    admin = await loginAdmin(api);
    try {
      await payTimeoutsOfABatch();
    } finally {
      await app.destroy();
      ({ app, api, admin } = shared);
    }
  }, 60_000);

  async function payTimeoutsOfABatch(): Promise<void> {
    const goodId = await sale(20);
    const buyers = await makeBuyers(app, 20);
    const answers = await press(buyers, goodId);
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const results = await mapLimit(answers, 20, (x) => finalResult(x.buyer, x.uuid, goodId));
    const paid = await mapLimit(results.slice(0, 8), 8, (r, i) => api('POST', `/api/orders/${r.body.orderNo}/pay`, { token: answers[i]!.buyer.token }));
    expect(paid.every((p) => p.status === 200 && p.body.status === 'PAID')).toBe(true);
    const s = await waitFor('every unpaid order timed out', () => stats(goodId), (x) => x.orders.UNPAID === 0, 30_000);
    expect(s.orders).toMatchObject({ PAID: 8, TIMEOUT: 12, UNPAID: 0 });
    expect(await atRest(goodId)).toMatchObject({ stock: 12, preStock: 12 });
    // The buyers whose orders timed out may buy again; the paying ones may not.
    const again = await press([answers[0]!.buyer, answers[19]!.buyer], goodId);
    expect(again.map((x) => x.status)).toEqual([409, 200]);
  }
});
