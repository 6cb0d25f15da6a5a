/**
 * An admin's hand on live sales, over real HTTP, in each mode (services: two api processes on one namespace):
 * edits before and after the start, a pause in the middle of a burst of buyers, a restock in the middle of
 * another. Asserts outcomes and invariants, never times.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginAdmin, mapLimit, type Mode } from '../support/app.ts';
import { makeBuyers, type Buyer } from '../support/buyers.ts';
import { bootSaleFleet, outcomeOf, press, type SaleFleet } from '../support/sale-fleet.ts';
import { adminSales, waitFor } from '../support/sales.ts';
import { servicesAvailable } from '../support/services.ts';

const servicesUp = await servicesAvailable('postgres', 'redis', 'rabbitmq');
const HOUR = 3_600_000;

describe.each<Mode>(['embedded', 'services'])('admin operations on a sale (%s)', (mode) => {
  const skip = mode === 'services' && !servicesUp;
  let fleet: SaleFleet;
  let adminToken = '';
  let sales: ReturnType<typeof adminSales>;
  const admin = (method: string, url: string, body?: unknown) => fleet.apis[0]!(method, url, { token: adminToken, ...(body === undefined ? {} : { body }) });

  beforeAll(async () => {
    if (skip) return;
    fleet = await bootSaleFleet(mode);
    adminToken = await loginAdmin(fleet.apis[0]!);
    sales = adminSales(fleet.apis[0]!, () => adminToken, 'Operated good');
  }, 120_000);
  afterAll(async () => {
    await fleet?.stop();
  });

  /** Every invariant of a sale at rest: no oversell, stock accounted for, one live order per buyer, cache = database. */
  async function expectInvariants(goodId: number, successes: { userId: number }[]) {
    const stats = await sales.atRest(goodId);
    const good = (await admin('GET', `/api/seckill/goods/${goodId}`)).body;
    const live = stats.orders.UNPAID + stats.orders.PAID;
    expect(live).toBeLessThanOrEqual(good.initialStock);
    expect(stats.stock).toBe(good.initialStock - live);
    expect(stats.stock).toBeGreaterThanOrEqual(0);
    expect(live).toBe(successes.length);
    expect(new Set(successes.map((s) => s.userId)).size).toBe(successes.length);
    return { stats, good, live };
  }

  it.skipIf(skip)('editing: before the start everything but the stock; from the start only the end; an end of now ends the sale on every process', async () => {
    const [buyer, late] = await makeBuyers(fleet.app, 2);
    const start = Date.now() + HOUR;
    const created = await admin('POST', '/api/admin/seckill/goods', { name: 'Wrong price', price: 2000, seckillPrice: 9, stock: 5, startAt: new Date(start).toISOString(), endAt: new Date(start + HOUR).toISOString() });
    const id = created.body.id as number;
    for (const api of fleet.apis) expect((await press(api, buyer!, id)).answer).toBe('NOT_STARTED');

    const fixed = await admin('PATCH', `/api/admin/seckill/goods/${id}`, { name: 'Right price', seckillPrice: 990, startAt: new Date(Date.now() - 1000).toISOString() });
    expect(fixed.status).toBe(200);
    expect(fixed.body).toMatchObject({ name: 'Right price', seckillPrice: 990, price: 2000, stock: 5, paused: false });
    // The new start reaches every process: each one now takes buyers.
    for (const api of fleet.apis) await waitFor('the edit on every process', () => press(api, late!, id), (p) => p.answer !== 'NOT_STARTED');

    expect((await admin('PATCH', `/api/admin/seckill/goods/${id}`, { seckillPrice: 1 })).body.error.code).toBe('ALREADY_STARTED');
    expect((await admin('PATCH', `/api/admin/seckill/goods/${id}`, { stock: 50 })).status).toBe(400);
    expect((await admin('PATCH', `/api/admin/seckill/goods/${id}`, {})).status).toBe(400);
    expect((await fleet.apis[0]!('PATCH', `/api/admin/seckill/goods/${id}`, { token: buyer!.token, body: { endAt: new Date().toISOString() } })).status).toBe(403);
    expect((await admin('PATCH', '/api/admin/seckill/goods/987654321', { name: 'x' })).status).toBe(404);

    // An end already past ends the sale now (dates stay within the years admin routes take).
    const ended = await admin('PATCH', `/api/admin/seckill/goods/${id}`, { endAt: new Date(Date.now() - 60_000).toISOString() });
    expect(ended.status).toBe(200);
    for (const api of fleet.apis) await waitFor('the end on every process', () => press(api, buyer!, id), (p) => p.answer === 'ENDED');
    expect((await admin('PATCH', `/api/admin/seckill/goods/${id}`, { seckillPrice: 1 })).body.error.code).toBe('ENDED');

    const orders = (await fleet.apis[0]!('GET', '/api/orders', { token: late!.token })).body.items;
    for (const order of orders) expect(order.seckillPrice).toBe(990);
  });

  it.skipIf(skip)('a pause in the middle of 300 buyers, 150 at a time: no QUEUED after a process answered PAUSED, every QUEUED before ends SUCCESS or FAIL; resume opens it everywhere', async () => {
    const buyers = await makeBuyers(fleet.app, 300);
    const id = await sales.sale(1000);
    const n = fleet.apis.length;
    const pausedSeen = new Array<boolean>(n).fill(false);
    const queued: { buyer: Buyer; uuid: string; api: number }[] = [];
    const afterPause: string[] = [];
    let pausing: Promise<{ status: number; body: { paused: boolean } }> | undefined;
    let answered!: () => void;
    const pauseAnswered = new Promise<void>((resolve) => (answered = resolve));

    await mapLimit(buyers, 150, async (buyer, i) => {
      // The last hundred press only once the pause was answered, so presses surely follow it.
      if (i >= buyers.length - 100) await pauseAnswered;
      const at = i % n;
      const seenBefore = pausedSeen[at];
      const { uuid, answer } = await press(fleet.apis[at]!, buyer, id);
      if (answer === 'QUEUED') queued.push({ buyer, uuid, api: at });
      if (answer === 'PAUSED') pausedSeen[at] = true;
      if (seenBefore) afterPause.push(answer);
      if (queued.length >= 40 && !pausing) {
        pausing = admin('POST', `/api/admin/seckill/goods/${id}/pause`);
        void pausing.finally(answered);
      }
    });
    const paused = await pausing!;
    expect(paused.status).toBe(200);
    expect(paused.body.paused).toBe(true);
    expect(pausedSeen.some(Boolean)).toBe(true);
    expect(afterPause.length).toBeGreaterThan(0);
    expect(afterPause.filter((a) => a !== 'PAUSED')).toEqual([]);

    const [probe, again] = await makeBuyers(fleet.app, 2);
    for (const api of fleet.apis) await waitFor('PAUSED on every process', () => press(api, probe!, id), (p) => p.answer === 'PAUSED');
    expect((await admin('GET', `/api/seckill/goods/${id}`)).body.paused).toBe(true);

    const outcomes = await mapLimit(queued, 40, (q) => outcomeOf(fleet.apis[q.api]!, q.buyer, id, q.uuid));
    expect(outcomes.every((o) => o.status === 'SUCCESS' || o.status === 'FAIL')).toBe(true);
    const successes = queued.filter((_, i) => outcomes[i]!.status === 'SUCCESS').map((q) => ({ userId: q.buyer.userId }));
    // Paused, not sold out: with stock to spare every accepted request became an order.
    expect(successes.length).toBe(queued.length);
    await expectInvariants(id, successes);

    const resumed = await admin('POST', `/api/admin/seckill/goods/${id}/resume`);
    expect(resumed.body.paused).toBe(false);
    for (const [i, api] of fleet.apis.entries()) {
      await waitFor('open again on every process', () => press(api, [probe!, again!][i]!, id), (p) => p.answer !== 'PAUSED');
    }
  });

  it.skipIf(skip)('a restock in the middle of a burst: exactly the old stock plus the new units are sold, signs cleared everywhere, invariants hold', async () => {
    const OLD = 30;
    const NEW = 20;
    const buyers = await makeBuyers(fleet.app, 120);
    const id = await sales.sale(OLD);
    const n = fleet.apis.length;
    const successes: { userId: number }[] = [];
    let queuedCount = 0;
    let restocking: Promise<{ status: number; body: any }> | undefined;

    await mapLimit(buyers, 120, async (buyer, i) => {
      const api = fleet.apis[i % n]!;
      // Each buyer presses until they hold an order, or until every unit, old and new, has found one.
      while (successes.length < OLD + NEW) {
        const { uuid, answer } = await press(api, buyer, id);
        if (answer === 'QUEUED') {
          if (++queuedCount >= OLD / 2) restocking ??= admin('POST', `/api/admin/seckill/goods/${id}/restock`, { units: NEW });
          const outcome = await outcomeOf(api, buyer, id, uuid);
          if (outcome.status === 'SUCCESS') {
            successes.push({ userId: buyer.userId });
            return;
          }
        } else if (answer === 'SOLD_OUT') {
          // A buyer looks again a moment later, as people do; the restock may not have landed yet.
          await new Promise((r) => setTimeout(r, 50));
        } else {
          throw new Error(`unexpected answer ${answer}`);
        }
      }
    });
    const restocked = await restocking!;
    expect(restocked.status).toBe(200);
    const { stats, good, live } = await expectInvariants(id, successes);
    expect(good.initialStock).toBe(OLD + NEW);
    expect(live).toBe(OLD + NEW);
    expect(stats).toMatchObject({ stock: 0, preStock: 0 });
    // Sold out again: every process says so.
    const [late] = await makeBuyers(fleet.app, 1);
    for (const api of fleet.apis) await waitFor('sold out everywhere', () => press(api, late!, id), (p) => p.answer === 'SOLD_OUT');
  });

  it.skipIf(skip)('a restock of a sold-out sale: database and cache both grow by exactly n; ended, unknown or below one unit → refused', async () => {
    const id = await sales.sale(1);
    const buyers = await makeBuyers(fleet.app, 3);
    expect((await press(fleet.apis[0]!, buyers[0]!, id)).answer).toBe('QUEUED');
    await sales.atRest(id);
    for (const api of fleet.apis) expect((await press(api, buyers[1]!, id)).answer).toBe('SOLD_OUT');

    const r = await admin('POST', `/api/admin/seckill/goods/${id}/restock`, { units: 2 });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id, stock: 2, preStock: 2 });
    for (const [i, api] of fleet.apis.entries()) {
      await waitFor('the sign cleared everywhere', () => press(api, buyers[1 + i]!, id), (p) => p.answer !== 'SOLD_OUT');
    }

    expect((await admin('POST', `/api/admin/seckill/goods/${id}/restock`, { units: 0 })).status).toBe(400);
    expect((await admin('POST', '/api/admin/seckill/goods/987654321/restock', { units: 1 })).status).toBe(404);
    await admin('PATCH', `/api/admin/seckill/goods/${id}`, { endAt: new Date().toISOString() });
    expect((await admin('POST', `/api/admin/seckill/goods/${id}/restock`, { units: 1 })).body.error.code).toBe('ENDED');
  });

  it.skipIf(skip)('every action that changed a sale is in the audit log, newest first, with who, what and from where; a refused one is not', async () => {
    const id = await sales.sale(3);
    const me = (await admin('GET', '/api/me')).body;
    const laterEnd = new Date(Date.now() + 3_600_000).toISOString();
    expect((await admin('POST', `/api/admin/seckill/goods/${id}/pause`)).status).toBe(200);
    expect((await admin('POST', `/api/admin/seckill/goods/${id}/resume`)).status).toBe(200);
    expect((await admin('POST', `/api/admin/seckill/goods/${id}/restock`, { units: 2 })).status).toBe(200);
    expect((await admin('PATCH', `/api/admin/seckill/goods/${id}`, { seckillPrice: 1 })).body.error.code).toBe('ALREADY_STARTED');
    expect((await admin('PATCH', `/api/admin/seckill/goods/${id}`, { endAt: laterEnd })).status).toBe(200);

    const items = (await admin('GET', '/api/admin/audit?limit=20')).body.items.filter((e: { target: string }) => e.target === String(id));
    expect(items.map((e: { action: string }) => e.action)).toEqual(['sale.edit', 'sale.restock', 'sale.resume', 'sale.pause', 'sale.create']);
    for (const e of items) expect(e).toMatchObject({ adminId: me.id, address: expect.any(String) });
    expect(items[0].details).toMatchObject({ endAt: laterEnd });
    expect(items[1].details).toMatchObject({ units: 2 });
  });
});
