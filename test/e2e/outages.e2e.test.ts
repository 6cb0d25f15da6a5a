/**
 * Services that are down at start or go down later (services mode). A proxy in front of Redis or
 * PostgreSQL stands in for the outage, so the shared services keep running for the other suites.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { apiClient, bootTestApp, newUuid, type TestApp, TEST_ADMIN, loginAdmin } from '../support/app.ts';
import { makeBuyers } from '../support/buyers.ts';
import { SERVICE_URLS, servicesAvailable } from '../support/services.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';

const up = await servicesAvailable('postgres', 'redis', 'rabbitmq');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const target = (url: string, port: number) => ({ host: new URL(url).hostname || '127.0.0.1', port: Number(new URL(url).port) || port });

/** An admin session on the app and a sale of `stock` units running now. */
async function withSale(app: TestApp, stock: number) {
  const api = apiClient(app.httpUrl);
  const admin: string = await loginAdmin(api);
  const now = Date.now();
  const created = await api('POST', '/api/admin/seckill/goods', {
    token: admin,
    body: { name: 'Outage good', price: 100, seckillPrice: 1, stock, startAt: new Date(now - 1000).toISOString(), endAt: new Date(now + 3_600_000).toISOString() },
  });
  return { api, admin, good: created.body.id as number };
}

describe.skipIf(!up)('outages (services)', () => {
  const proxies: TcpProxy[] = [];
  const apps: TestApp[] = [];
  afterAll(async () => {
    for (const app of apps) await app.destroy();
    for (const p of proxies) await p.close();
  });

  it('a process started while PostgreSQL is down waits for it, then serves', async () => {
    const pg = await startTcpProxy(target(SERVICE_URLS.postgres, 5432), { up: false });
    proxies.push(pg);
    const booting = bootTestApp('services', { DATABASE_URL: pg.url(SERVICE_URLS.postgres) });
    let booted = false;
    void booting.then(() => (booted = true), () => undefined);
    // Start-up has tried PostgreSQL several times and is still waiting.
    await vi.waitUntil(() => pg.refused() >= 3, { timeout: 30_000, interval: 20 });
    expect(booted).toBe(false);
    pg.up();
    const app = await booting;
    apps.push(app);
    expect((await apiClient(app.httpUrl)('GET', '/api/health')).body).toMatchObject({ status: 'ok', checks: { db: 'ok', cache: 'ok', bus: 'ok' } });
  }, 60_000);

  it('PostgreSQL down under a sale: orders wait (retried, never dead-lettered or expired) and are all made once it is back', async () => {
    const pg = await startTcpProxy(target(SERVICE_URLS.postgres, 5432), { up: true });
    proxies.push(pg);
    const app = await bootTestApp('services', { DATABASE_URL: pg.url(SERVICE_URLS.postgres), DATABASE_CONNECT_TIMEOUT_MS: '500' });
    apps.push(app);
    const { api, good } = await withSale(app, 30);
    const [early, ...buyers] = await makeBuyers(app, 21);
    // One order before the outage: the sale is in the api's memory, as during any running sale.
    const earlyUuid = newUuid();
    expect((await api('POST', '/api/seckill/orders', { token: early!.token, body: { seckillGoodId: good, uuid: earlyUuid } })).status).toBe(200);

    pg.down();
    const uuids = buyers.map(() => newUuid());
    // The early order may still be in the worker's hands when the database goes: it waits too.
    const all = [earlyUuid, ...uuids];
    const answers = await Promise.all(buyers.map((b, i) => api('POST', '/api/seckill/orders', { token: b.token, body: { seckillGoodId: good, uuid: uuids[i] } })));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect((await api('GET', '/api/health')).body.checks.db).toBe('down');
    // The worker's batch meets the outage several times (each attempt needs a connection) before it ends.
    const refusedAtDown = pg.refused();
    await vi.waitUntil(() => pg.refused() >= refusedAtDown + 3, { timeout: 30_000, interval: 20 });
    pg.up();

    let stored: unknown[] = [];
    for (let i = 0; i < 200; i++) {
      stored = await Promise.all(all.map((u) => app.adapters.store.getResult(u).catch(() => null)));
      if (stored.every((r) => r !== null)) break;
      await sleep(100);
    }
    expect(stored.every((r) => (r as { status?: string } | null)?.status === 'SUCCESS')).toBe(true);
    expect(await app.adapters.bus.takeDeadOrders(100)).toEqual([]);
    expect(await app.adapters.store.stats(good)).toMatchObject({ stock: 9, orders: { UNPAID: 21 } });
  }, 60_000);

  it('Redis down: health names the cache, a buy answers 503 at once and takes nothing; back up, all is well', async () => {
    const redis = await startTcpProxy(target(SERVICE_URLS.redis, 6379), { up: true });
    proxies.push(redis);
    // With the shared limits on (they live in the same Redis).
    const app = await bootTestApp('services', {
      REDIS_URL: redis.url(SERVICE_URLS.redis),
      REDIS_COMMAND_TIMEOUT_MS: '500',
      SECKILL_RATE_LIMIT_PER_S: '5',
      SECKILL_IP_RATE_LIMIT_PER_S: '50',
      SECKILL_AUTH_RATE_LIMIT_PER_MIN: '20',
    });
    apps.push(app);
    const { api, admin, good } = await withSale(app, 10);
    const [buyer, other] = await makeBuyers(app, 2);

    redis.down();
    const health = await api('GET', '/api/health');
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: 'degraded', checks: { db: 'ok', cache: 'down', bus: 'ok' } });
    const started = Date.now();
    const refused = await api('POST', '/api/seckill/orders', { token: buyer!.token, body: { seckillGoodId: good, uuid: newUuid() } });
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(10_000); // the command deadline, not ioredis' retries
    // Login's limits fail closed: no unthrottled guesses while the counters are away.
    const login = await api('POST', '/api/auth/login', { body: TEST_ADMIN });
    expect([login.status, login.body.error?.code]).toEqual([503, 'UNAVAILABLE']);

    redis.up();
    for (let i = 0; i < 100 && (await api('GET', '/api/health')).status !== 200; i++) await sleep(100);
    expect((await api('GET', '/api/health')).status).toBe(200);
    const bought = await api('POST', '/api/seckill/orders', { token: other!.token, body: { seckillGoodId: good, uuid: newUuid() } });
    expect(bought.status).toBe(200);
    expect((await api('POST', '/api/auth/login', { body: TEST_ADMIN })).status).toBe(200);
    let stats: any;
    for (let i = 0; i < 100; i++) {
      stats = (await api('GET', `/api/admin/seckill/goods/${good}/stats`, { token: admin })).body;
      // Stock and order counts are two reads: wait until both show the commit.
      if (stats.queued === 0 && stats.orders.UNPAID === 1 && stats.stock === 9) break;
      await sleep(50);
    }
    expect(stats).toMatchObject({ stock: 9, preStock: 9, queued: 0, orders: { UNPAID: 1 } });
  }, 60_000);
});
