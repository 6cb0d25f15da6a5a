/** Sales made and watched through the admin api, for whole-app tests. */
import { randomBytes } from 'node:crypto';
import type { ApiClient } from './app.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `get` until `ok` holds; fail with what was last seen after `ms`. */
export async function waitFor<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await sleep(25);
  }
}

/** Win one unit of a sale and wait for the order: its order number. */
export async function buyAndWait(api: ApiClient, token: string, goodId: number, uuid = randomBytes(12).toString('base64url')): Promise<string> {
  const r = await api('POST', '/api/seckill/orders', { token, body: { seckillGoodId: goodId, uuid } });
  if (r.status !== 200) throw new Error(`buying failed: ${r.status} ${JSON.stringify(r.body)}`);
  const result = await waitFor('the result', () => api('GET', `/api/seckill/results/${uuid}?seckillGoodId=${goodId}`, { token }), (x) => x.body.status !== 'QUEUED');
  if (result.body.status !== 'SUCCESS') throw new Error(`the order failed: ${JSON.stringify(result.body)}`);
  return result.body.orderNo;
}

export function adminSales(api: ApiClient, adminToken: () => string, name = 'Test good') {
  /** A sale running now for an hour (or starting `startsInMs` from now); returns its id. */
  async function sale(stock: number, opts: { startsInMs?: number } = {}): Promise<number> {
    const now = Date.now();
    const r = await api('POST', '/api/admin/seckill/goods', {
      token: adminToken(),
      body: { name, price: 2000, seckillPrice: 990, stock, startAt: new Date(now + (opts.startsInMs ?? -1000)).toISOString(), endAt: new Date(now + 3_600_000).toISOString() },
    });
    if (r.status !== 201) throw new Error(`could not create a sale: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.id;
  }
  const stats = async (id: number) => (await api('GET', `/api/admin/seckill/goods/${id}/stats`, { token: adminToken() })).body;
  /** Nothing queued, and the cache's pre-stock equal to the database stock. */
  const atRest = (id: number) => waitFor('the good at rest', () => stats(id), (s) => s.queued === 0 && s.preStock === s.stock);
  return { sale, stats, atRest };
}
