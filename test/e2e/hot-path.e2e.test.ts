/**
 * The product's spine over real HTTP: 500 registered buyers race for 50 units, in each mode, and in
 * services mode once more on a private 3-master Redis Cluster with quorum queues.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, bootTestApp, mapLimit, newUuid, type ApiClient, type Mode, type TestApp, TEST_ADMIN } from '../support/app.ts';
import { redisClusterAvailable, startRedisCluster, type TestRedisCluster } from '../support/redis-cluster.ts';
import { servicesAvailable } from '../support/services.ts';

const BUYERS = 500;
const UNITS = 50;

const servicesUp = await servicesAvailable('postgres', 'redis', 'rabbitmq');

const targets: { label: string; mode: Mode; redisCluster?: true }[] = [
  { label: 'embedded', mode: 'embedded' },
  { label: 'services', mode: 'services' },
  { label: 'services on a Redis Cluster, quorum queues', mode: 'services', redisCluster: true },
];

describe.each(targets)('hot path end to end ($label)', ({ label, mode, redisCluster }) => {
  const skip = (mode === 'services' && !servicesUp) || (redisCluster && !redisClusterAvailable());
  let cluster: TestRedisCluster | undefined;
  let app: TestApp;
  let api: ApiClient;
  let adminToken: string;
  let goodId: number;
  let buyers: { phone: string; token: string; userId: number }[];
  const uuidOf = new Map<number, string>();

  beforeAll(async () => {
    if (skip) return;
    if (redisCluster) cluster = await startRedisCluster({ masters: 3 });
    // Hundreds of buyers register at once: the race is the subject here, not proving their phones.
    app = await bootTestApp(mode, { SECKILL_PHONE_VERIFICATION: 'off', ...(cluster ? { REDIS_CLUSTER_NODES: cluster.nodesSetting, AMQP_QUEUE_TYPE: 'quorum' } : {}) });
    api = apiClient(app.httpUrl);
    const login = await api('POST', '/api/auth/login', { body: TEST_ADMIN });
    expect(login.status).toBe(200);
    adminToken = login.body.token;
    const now = Date.now();
    const created = await api('POST', '/api/admin/seckill/goods', {
      token: adminToken,
      body: { name: 'Race good', price: 10000, seckillPrice: 100, stock: UNITS, startAt: new Date(now - 60_000).toISOString(), endAt: new Date(now + 3_600_000).toISOString() },
    });
    expect(created.status).toBe(201);
    goodId = created.body.id;
    expect(created.body.stock).toBe(UNITS);

    const base = 13_100_000_000 + Math.floor(Math.random() * 800_000_000);
    buyers = await mapLimit(Array.from({ length: BUYERS }, (_, i) => String(base + i)), 50, async (phone) => {
      const r = await api('POST', '/api/auth/register', { body: { phone, password: 'tulip-orbit-92' } });
      expect(r.status).toBe(201);
      return { phone, token: r.body.token as string, userId: r.body.user.id as number };
    });
  }, 180_000);

  afterAll(async () => {
    try {
      await app?.destroy();
    } finally {
      await cluster?.stop();
    }
  });

  it.skipIf(skip)(`${BUYERS} buyers pressing at once get exactly ${UNITS} QUEUED and the rest SOLD_OUT`, async () => {
    const started = performance.now();
    const answers = await Promise.all(
      buyers.map(async (b) => {
        const uuid = newUuid();
        uuidOf.set(b.userId, uuid);
        const r = await api('POST', '/api/seckill/orders', { token: b.token, body: { seckillGoodId: goodId, uuid } });
        return { buyer: b, uuid, status: r.status, body: r.body };
      }),
    );
    const burstMs = performance.now() - started;
    const queued = answers.filter((a) => a.status === 200);
    const soldOut = answers.filter((a) => a.status === 409 && a.body.error.code === 'SOLD_OUT');
    expect(queued.length).toBe(UNITS);
    expect(soldOut.length).toBe(BUYERS - UNITS);
    for (const q of queued) expect(q.body).toEqual({ uuid: q.uuid, status: 'QUEUED' });

    // Every QUEUED uuid reaches SUCCESS (polling, the WebSocket's fallback).
    const results = await Promise.all(queued.map((q) => pollResult(api, q.buyer.token, q.uuid)));
    const settledMs = performance.now() - started;
    expect(results.every((r) => r.status === 'SUCCESS' && typeof r.orderNo === 'string')).toBe(true);
    expect(new Set(results.map((r) => r.orderNo)).size).toBe(UNITS);
    console.info(`[${label}] ${BUYERS} buyers / ${UNITS} units: burst answered in ${burstMs.toFixed(0)} ms, all results in ${settledMs.toFixed(0)} ms`);

    // Losers have no result; a result is only readable by its owner.
    const loser = answers.find((a) => a.status === 409)!;
    expect((await api('GET', `/api/seckill/results/${loser.uuid}`, { token: loser.buyer.token })).status).toBe(404);
    const other = buyers.find((b) => b.userId !== queued[0]!.buyer.userId)!;
    expect((await api('GET', `/api/seckill/results/${queued[0]!.uuid}`, { token: other.token })).status).toBe(404);

    // At rest: exactly UNITS orders, database stock 0, cache pre-stock equal to it, nothing queued.
    const stats = await api('GET', `/api/admin/seckill/goods/${goodId}/stats`, { token: adminToken });
    expect(stats.body).toMatchObject({ id: goodId, stock: 0, preStock: 0, queued: 0 });
    expect(stats.body.orders).toEqual({ UNPAID: UNITS, PAID: 0, CANCELLED: 0, TIMEOUT: 0, REFUNDED: 0 });
    const perBuyer = await app.adapters.db.query<{ user_id: number; n: number }>(
      `SELECT user_id, count(*)::int AS n FROM orders WHERE seckill_good_id = $1 AND status IN ('UNPAID','PAID') GROUP BY user_id HAVING count(*) > 1`,
      [goodId],
    );
    expect(perBuyer).toEqual([]);
    const good = await api('GET', `/api/seckill/goods/${goodId}`);
    expect(good.body.stock).toBe(0);

    // Each winner sees exactly their one order; a loser sees none, and nobody reads another's order.
    const winner = queued[0]!;
    const mine = await api('GET', '/api/orders', { token: winner.buyer.token });
    expect(mine.body.items).toHaveLength(1);
    expect(mine.body.items[0]).toMatchObject({ orderNo: results[0]!.orderNo, userId: winner.buyer.userId, seckillGoodId: goodId, status: 'UNPAID', seckillPrice: 100 });
    expect((await api('GET', '/api/orders', { token: loser.buyer.token })).body.items).toEqual([]);
    expect((await api('GET', `/api/orders/${results[0]!.orderNo}`, { token: winner.buyer.token })).status).toBe(200);
    expect((await api('GET', `/api/orders/${results[0]!.orderNo}`, { token: loser.buyer.token })).status).toBe(404);
  }, 120_000);

  it.skipIf(skip)('a repeated uuid is answered like the first time and a second uuid takes nothing', async () => {
    // A buyer who won: their uuid sent again answers 200 with its outcome (or a 409, never a second unit).
    const winners = await Promise.all(buyers.map(async (b) => ({ b, orders: await app.adapters.store.listOrders(b.userId) })));
    const w = winners.find((x) => x.orders.length === 1)!;
    const again = await api('POST', '/api/seckill/orders', { token: w.b.token, body: { seckillGoodId: goodId, uuid: uuidOf.get(w.b.userId) } });
    expect([200, 409]).toContain(again.status);
    if (again.status === 200) expect(again.body).toMatchObject({ uuid: uuidOf.get(w.b.userId), status: 'SUCCESS', orderNo: w.orders[0]!.orderNo });
    const second = await api('POST', '/api/seckill/orders', { token: w.b.token, body: { seckillGoodId: goodId, uuid: newUuid() } });
    expect(second.status).toBe(409);
    expect(['DUPLICATE_ORDER', 'SOLD_OUT']).toContain(second.body.error.code);
    const stats = await api('GET', `/api/admin/seckill/goods/${goodId}/stats`, { token: adminToken });
    expect(stats.body).toMatchObject({ stock: 0, preStock: 0, queued: 0 });
    expect(stats.body.orders.UNPAID).toBe(UNITS);
  });

  it.skipIf(skip)('on a good with stock, the same buyer racing two uuids and one uuid twice gets one unit', async () => {
    const now = Date.now();
    const created = await api('POST', '/api/admin/seckill/goods', {
      token: adminToken,
      body: { name: 'Roomy good', price: 500, seckillPrice: 100, stock: 10, startAt: new Date(now - 1000).toISOString(), endAt: new Date(now + 3_600_000).toISOString() },
    });
    const id = created.body.id as number;
    const b = buyers[0]!;
    const uuid = newUuid();
    const answers = await Promise.all([
      ...Array.from({ length: 5 }, () => api('POST', '/api/seckill/orders', { token: b.token, body: { seckillGoodId: id, uuid } })),
      ...Array.from({ length: 5 }, () => api('POST', '/api/seckill/orders', { token: b.token, body: { seckillGoodId: id, uuid: newUuid() } })),
    ]);
    // The one uuid is answered 200 every time (or its outcome); other uuids of the same buyer are duplicates.
    expect(answers.slice(0, 5).every((a) => a.status === 200)).toBe(true);
    expect(answers.slice(5).every((a) => a.status === 409 && a.body.error.code === 'DUPLICATE_ORDER')).toBe(true);
    const result = await pollResult(api, b.token, uuid);
    expect(result.status).toBe('SUCCESS');
    const stats = await api('GET', `/api/admin/seckill/goods/${id}/stats`, { token: adminToken });
    expect(stats.body).toMatchObject({ stock: 9, preStock: 9, queued: 0 });
    expect(stats.body.orders.UNPAID).toBe(1);
  });

  it.skipIf(skip)('after a cache flush mid-sale the good reloads from the database: no buyer wins twice, nothing is oversold', async () => {
    const now = Date.now();
    const created = await api('POST', '/api/admin/seckill/goods', {
      token: adminToken,
      body: { name: 'Flushed good', price: 500, seckillPrice: 100, stock: 30, startAt: new Date(now - 1000).toISOString(), endAt: new Date(now + 3_600_000).toISOString() },
    });
    const id = created.body.id as number;
    const wave = (group: typeof buyers) =>
      Promise.all(group.map(async (b) => ({ b, r: await api('POST', '/api/seckill/orders', { token: b.token, body: { seckillGoodId: id, uuid: newUuid() } }) })));
    const first = await wave(buyers.slice(0, 20));
    const firstWinners = first.filter((a) => a.r.status === 200);
    expect(firstWinners).toHaveLength(20);
    await Promise.all(firstWinners.map((a) => pollResult(api, a.b.token, a.r.body.uuid)));

    await app.adapters.cache.forget(id); // the cache loses the good (flush, failover)

    // The first wave's winners press again, with the rest of a second wave: the reload remembers them.
    const second = await wave([...buyers.slice(0, 20), ...buyers.slice(20, 60)]);
    const again = second.slice(0, 20);
    expect(again.every((a) => a.r.status === 409)).toBe(true);
    const secondWinners = second.filter((a) => a.r.status === 200);
    expect(secondWinners).toHaveLength(10);
    await Promise.all(secondWinners.map((a) => pollResult(api, a.b.token, a.r.body.uuid)));
    const stats = await api('GET', `/api/admin/seckill/goods/${id}/stats`, { token: adminToken });
    expect(stats.body).toMatchObject({ stock: 0, preStock: 0, queued: 0 });
    expect(stats.body.orders.UNPAID).toBe(30);
  });
});

async function pollResult(api: ApiClient, token: string, uuid: string): Promise<{ status: string; orderNo?: string; reason?: string }> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await api('GET', `/api/seckill/results/${uuid}`, { token });
    if (r.status === 200 && r.body.status !== 'QUEUED') return r.body;
    if (r.status !== 200) throw new Error(`result of ${uuid}: ${r.status} ${JSON.stringify(r.body)}`);
    if (Date.now() > deadline) throw new Error(`result of ${uuid} still QUEUED after 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
