/**
 * A sale's api processes for the admin-operations tests: embedded mode is one process; services mode is two
 * api processes in this test process on one namespace (each with its own catalog, signs, connections and
 * broadcast queues), the first also running the worker and the push, so a sign set on one must reach the other.
 */
import type { Buyer } from './buyers.ts';
import { apiClient, bootTestApp, newUuid, type ApiClient, type Mode, type TestApp } from './app.ts';
import { waitFor } from './sales.ts';

export interface SaleFleet {
  app: TestApp;
  apis: ApiClient[];
  stop(): Promise<void>;
}

export async function bootSaleFleet(mode: Mode): Promise<SaleFleet> {
  const app = await bootTestApp(mode);
  const others: TestApp[] = [];
  try {
    if (mode === 'services') {
      others.push(
        await bootTestApp('services', {
          SECKILL_ROLES: 'api',
          DATABASE_SCHEMA: app.config.databaseSchema!,
          REDIS_KEY_PREFIX: app.config.redisKeyPrefix,
          AMQP_PREFIX: app.config.amqpPrefix,
          SECKILL_TOKEN_SECRET: app.config.tokenSecret!,
        }),
      );
    }
  } catch (err) {
    await app.destroy();
    throw err;
  }
  return {
    app,
    apis: [app, ...others].map((a) => apiClient(a.httpUrl)),
    async stop() {
      // The second process shares the first's namespace: stopped, not destroyed; the first removes it all.
      for (const other of others) await other.stop();
      await app.destroy();
    },
  };
}

/** Press once; the status and error code (or QUEUED) of the answer. */
export async function press(api: ApiClient, buyer: Buyer, goodId: number, uuid = newUuid()): Promise<{ uuid: string; answer: string }> {
  const r = await api('POST', '/api/seckill/orders', { token: buyer.token, body: { seckillGoodId: goodId, uuid } });
  return { uuid, answer: r.status === 200 ? r.body.status : (r.body?.error?.code ?? String(r.status)) };
}

/** Wait for the outcome of a QUEUED request: SUCCESS or FAIL (invariant 3). */
export async function outcomeOf(api: ApiClient, buyer: Buyer, goodId: number, uuid: string): Promise<{ status: string; orderNo?: string }> {
  const r = await waitFor(`the result of ${uuid}`, () => api('GET', `/api/seckill/results/${uuid}?seckillGoodId=${goodId}`, { token: buyer.token }), (x) => x.status === 200 && x.body.status !== 'QUEUED', 60_000);
  return r.body;
}
