/**
 * Repeated request ids and payments lost in a crash, over real HTTP in each mode, with the default (long)
 * pay timeout so that no order times out under the test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { apiClient, bootTestApp, newUuid, type ApiClient, type Mode, type TestApp, loginAdmin } from '../support/app.ts';
import { makeBuyers } from '../support/buyers.ts';
import { adminSales, buyAndWait, waitFor } from '../support/sales.ts';
import { servicesAvailable } from '../support/services.ts';

const servicesUp = await servicesAvailable('postgres', 'redis', 'rabbitmq');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each<Mode>(['embedded', 'services'])('repeats and payments (%s)', (mode) => {
  const skip = mode === 'services' && !servicesUp;
  let app: TestApp;
  let api: ApiClient;
  let admin: string;
  const { sale, atRest } = adminSales((...args) => api(...args), () => admin, 'Repeat good');
  const buyers = (n: number) => makeBuyers(app, n);
  const buy = (token: string, goodId: number) => buyAndWait(api, token, goodId);

  beforeAll(async () => {
    if (skip) return;
    app = await bootTestApp(mode, { RECONCILE_INTERVAL_MS: '3600000', RECONCILE_GRACE_MS: '500', PAYMENT_CHARGE_TIMEOUT_MS: '400' });
    api = apiClient(app.httpUrl);
    admin = await loginAdmin(api);
  }, 60_000);

  afterAll(async () => {
    await app?.destroy();
  });

  /** Pay, with the process dying right after the provider charged (the PAY transition never runs): a 500. */
  async function payDyingAfterTheCharge(orderNo: string, token: string): Promise<void> {
    const store = app.adapters.store;
    const original = store.applyTransition;
    store.applyTransition = async (orderNos, transition, now, opts) => {
      if (transition.name === 'pay') throw new Error('process died after the charge');
      return original(orderNos, transition, now, opts);
    };
    try {
      expect((await api('POST', `/api/orders/${orderNo}/pay`, { token })).status).toBe(500);
    } finally {
      store.applyTransition = original;
    }
  }

  it.skipIf(skip)('a charge taken and then lost with its process is found by the reconciler: recorded, the order paid', async () => {
    const goodId = await sale(1);
    const [b] = await buyers(1);
    const orderNo = await buy(b!.token, goodId);
    const before = (await app.adapters.payments.totals());
    await payDyingAfterTheCharge(orderNo, b!.token);
    expect((await app.adapters.payments.totals()).charges).toBe(before.charges + 1);
    expect((await api('GET', `/api/orders/${orderNo}`, { token: b!.token })).body.status).toBe('UNPAID');
    await sleep(1000); // past the charge expiry (400 ms) and the reconciler's grace period (500 ms) here
    const report = await app.reconciler!.runNow();
    expect(report.paymentsSettled).toBe(1);
    expect((await api('GET', `/api/orders/${orderNo}`, { token: b!.token })).body.status).toBe('PAID');
    // Paying again charges nothing more; a second reconciler run finds nothing open.
    expect((await api('POST', `/api/orders/${orderNo}/pay`, { token: b!.token })).body.status).toBe('PAID');
    expect((await app.adapters.payments.totals()).charges).toBe(before.charges + 1);
    expect((await app.reconciler!.runNow()).paymentsSettled).toBe(0);
  });

  it.skipIf(skip)('a lost charge of an order cancelled meanwhile is refunded by the reconciler; an intent never charged is closed', async () => {
    const goodId = await sale(2);
    const [b, c] = await buyers(2);
    const orderNo = await buy(b!.token, goodId);
    const before = (await app.adapters.payments.totals());
    await payDyingAfterTheCharge(orderNo, b!.token);
    expect((await api('POST', `/api/orders/${orderNo}/cancel`, { token: b!.token })).body.status).toBe('CANCELLED');
    // An intent whose charge never happened (the process died before asking the provider).
    const other = await buy(c!.token, goodId);
    await app.adapters.store.openPaymentIntent({ orderNo: other, amount: 990, idempotencyKey: `charge:${other}` }, { now: new Date(), chargeBy: new Date(Date.now() + 400) });
    await sleep(1000);
    const report = await app.reconciler!.runNow();
    expect(report).toMatchObject({ paymentsSettled: 1, paymentsAbandoned: 1 });
    expect((await api('GET', `/api/orders/${orderNo}`, { token: b!.token })).body.status).toBe('REFUNDED');
    expect((await api('GET', `/api/orders/${other}`, { token: c!.token })).body.status).toBe('UNPAID');
    const after = (await app.adapters.payments.totals());
    expect(after.refunds).toBe(before.refunds + 1);
    expect(after.charged - after.refunded).toBe(before.charged - before.refunded);
  });

  it.skipIf(skip)('a uuid reused by another buyer, or on another good: that request ends FAIL UUID_CONFLICT, readable by its buyer; the first result stands', async () => {
    const [g1, g2] = [await sale(3), await sale(3)];
    const [a, b] = await buyers(2);
    const uuid = newUuid();
    expect((await api('POST', '/api/seckill/orders', { token: a!.token, body: { seckillGoodId: g1, uuid } })).status).toBe(200);
    const first = await waitFor('the result', () => api('GET', `/api/seckill/results/${uuid}?seckillGoodId=${g1}`, { token: a!.token }), (x) => x.body.status !== 'QUEUED');
    expect(first.body.status).toBe('SUCCESS');

    // Another buyer sends the same uuid. Its result socket closes 4403 at once (the uuid is another buyer's),
    // so the page reads the outcome from the results endpoint.
    const closed = await new Promise<{ code: number; frames: number }>((resolve) => {
      const socket = new WebSocket(`${app.wsUrl}/${uuid}?token=${b!.token}`);
      let frames = 0;
      socket.on('message', () => frames++);
      socket.on('close', (code) => resolve({ code, frames }));
    });
    expect(closed).toEqual({ code: 4403, frames: 0 });
    expect((await api('POST', '/api/seckill/orders', { token: b!.token, body: { seckillGoodId: g1, uuid } })).status).toBe(200);
    const theirs = await waitFor('their result', () => api('GET', `/api/seckill/results/${uuid}?seckillGoodId=${g1}`, { token: b!.token }), (x) => x.status === 200 && x.body.status !== 'QUEUED');
    expect(theirs.body).toEqual({ uuid, status: 'FAIL', reason: 'UUID_CONFLICT' });

    // The first buyer sends it again for another good: that request fails the same way; the first stands.
    expect((await api('POST', '/api/seckill/orders', { token: a!.token, body: { seckillGoodId: g2, uuid } })).status).toBe(200);
    const again = await waitFor('the result', () => api('GET', `/api/seckill/results/${uuid}?seckillGoodId=${g2}`, { token: a!.token }), (x) => x.body.status !== 'QUEUED' && x.body.reason === 'UUID_CONFLICT');
    expect(again.body).toEqual({ uuid, status: 'FAIL', reason: 'UUID_CONFLICT' });
    expect((await api('GET', `/api/seckill/results/${uuid}?seckillGoodId=${g1}`, { token: a!.token })).body).toEqual(first.body);
    // Nothing held: the refused requests' units came back.
    expect(await atRest(g1)).toMatchObject({ stock: 2, preStock: 2 });
    expect(await atRest(g2)).toMatchObject({ stock: 3, preStock: 3 });
    await buy(b!.token, g1);
  });

  it.skipIf(skip)('buy, cancel, then the same uuid again: its stored result stands, no second order, no unit hidden', async () => {
    const goodId = await sale(2);
    const [b, c] = await buyers(2);
    const uuid = newUuid();
    expect((await api('POST', '/api/seckill/orders', { token: b!.token, body: { seckillGoodId: goodId, uuid } })).status).toBe(200);
    const first = await waitFor('the result', () => api('GET', `/api/seckill/results/${uuid}?seckillGoodId=${goodId}`, { token: b!.token }), (x) => x.body.status !== 'QUEUED');
    expect(first.body.status).toBe('SUCCESS');
    expect((await api('POST', `/api/orders/${first.body.orderNo}/cancel`, { token: b!.token })).status).toBe(200);
    expect(await atRest(goodId)).toMatchObject({ stock: 2, preStock: 2 });

    const repeat = await api('POST', '/api/seckill/orders', { token: b!.token, body: { seckillGoodId: goodId, uuid } });
    expect(repeat.status).toBe(200);
    const after = await waitFor('the result', () => api('GET', `/api/seckill/results/${uuid}?seckillGoodId=${goodId}`, { token: b!.token }), (x) => x.body.status !== 'QUEUED');
    expect(after.body).toEqual(first.body);
    // The unit the repeat took in the cache came back: both units can still be sold.
    expect(await atRest(goodId)).toMatchObject({ stock: 2, preStock: 2, orders: { CANCELLED: 1, UNPAID: 0 } });
    await buy(b!.token, goodId);
    await buy(c!.token, goodId);
    expect(await atRest(goodId)).toMatchObject({ stock: 0, preStock: 0, orders: { UNPAID: 2 } });
  });

});
