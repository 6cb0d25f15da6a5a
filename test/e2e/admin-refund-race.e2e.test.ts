/**
 * Refunds racing payments over real HTTP in each mode: for many orders at once, two admins refund while the
 * buyer pays twice. Every order ends REFUNDED exactly once, the provider's ledger and the shop's payments agree,
 * no intent is left open, and the stock invariants hold at rest.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, bootTestApp, mapLimit, type ApiClient, type Mode, type TestApp, loginAdmin } from '../support/app.ts';
import { makeBuyers } from '../support/buyers.ts';
import { adminSales, buyAndWait } from '../support/sales.ts';
import { servicesAvailable } from '../support/services.ts';

const servicesUp = await servicesAvailable('postgres', 'redis', 'rabbitmq');
const ORDERS = 120;

describe.each<Mode>(['embedded', 'services'])('refunds racing payments (%s)', (mode) => {
  const skip = mode === 'services' && !servicesUp;
  let app: TestApp;
  let api: ApiClient;
  let admin: string;
  const { sale, atRest } = adminSales((...args) => api(...args), () => admin, 'Race good');

  beforeAll(async () => {
    if (skip) return;
    app = await bootTestApp(mode, { RECONCILE_INTERVAL_MS: '3600000' });
    api = apiClient(app.httpUrl);
    admin = await loginAdmin(api);
  }, 60_000);

  afterAll(async () => {
    await app?.destroy();
  });

  it.skipIf(skip)(`${ORDERS} orders, half paid already: two admins refund each while its buyer pays it twice → one refund each, money and stock agree`, async () => {
    const goodId = await sale(ORDERS);
    const buyers = await makeBuyers(app, ORDERS);
    const orders = await mapLimit(buyers, 20, async (b) => ({ ...b, orderNo: await buyAndWait(api, b.token, goodId) }));
    // Half are PAID before the race; the other half are paid during it, so refunds meet pays in flight.
    await mapLimit(orders.slice(0, ORDERS / 2), 20, (o) => api('POST', `/api/orders/${o.orderNo}/pay`, { token: o.token }));
    const before = await app.adapters.payments.totals();
    const auditBefore = (await app.adapters.db.query<{ n: number }>(`SELECT count(*) AS n FROM admin_audit WHERE action = 'order.refund'`))[0]!.n;

    /** Refund until the order is seen paid: an UNPAID answer means its pay has not landed yet. */
    async function refundWhenPaid(orderNo: string): Promise<number> {
      for (let i = 0; i < 10_000; i++) {
        const r = await api('POST', `/api/admin/orders/${orderNo}/refund`, { token: admin });
        if (r.status === 200) return 200;
        expect([r.status, r.body.error.code]).toEqual([409, 'ORDER_CLOSED']);
        if (r.body.error.details.status !== 'UNPAID') return 409;
      }
      throw new Error(`${orderNo} never paid`);
    }
    const pay = (o: (typeof orders)[number]) => api('POST', `/api/orders/${o.orderNo}/pay`, { token: o.token });
    const outcomes = await Promise.all(
      orders.map(async (o) => {
        const [p1, p2, r1, r2] = await Promise.all([pay(o), pay(o), refundWhenPaid(o.orderNo), refundWhenPaid(o.orderNo)]);
        return { o, pays: [p1, p2], refunds: [r1, r2] };
      }),
    );

    for (const { o, pays, refunds } of outcomes) {
      // One admin's refund won; the other was told the order is closed.
      expect(refunds.sort(), o.orderNo).toEqual([200, 409]);
      for (const p of pays) {
        // A pay answers PAID (it landed before the refund) or ORDER_CLOSED (the refund came first; a charge it
        // took is the order's one charge, refunded once).
        if (p.status === 200) expect(p.body.status).toBe('PAID');
        else expect([p.status, p.body.error.code]).toEqual([409, 'ORDER_CLOSED']);
      }
    }
    // Every buyer sees the order REFUNDED.
    await mapLimit(orders, 20, async (o) => {
      const mine = await api('GET', '/api/orders', { token: o.token });
      expect(mine.body.items.map((x: any) => [x.orderNo, x.status])).toEqual([[o.orderNo, 'REFUNDED']]);
    });

    // Money: the provider charged each order once (the half paid during the race now) and refunded each once.
    const after = await app.adapters.payments.totals();
    expect({ charges: after.charges - before.charges, refunds: after.refunds - before.refunds }).toEqual({ charges: ORDERS / 2, refunds: ORDERS });
    expect(after.refunded - before.refunded).toBe(ORDERS * 990);
    const rows = await app.adapters.db.query<{ kind: string; n: number; cents: number }>(
      `SELECT p.kind, count(*)::int AS n, sum(p.amount_cents)::int AS cents FROM payments p JOIN orders o ON o.order_no = p.order_no
        WHERE o.seckill_good_id = $1 GROUP BY p.kind ORDER BY p.kind`,
      [goodId],
    );
    expect(rows).toEqual([{ kind: 'CHARGE', n: ORDERS, cents: ORDERS * 990 }, { kind: 'REFUND', n: ORDERS, cents: ORDERS * 990 }]);
    const open = await app.adapters.db.query(`SELECT order_no FROM payment_intents i JOIN orders o USING (order_no) WHERE o.seckill_good_id = $1 AND i.status = 'OPEN'`, [goodId]);
    expect(open).toEqual([]);
    const auditAfter = (await app.adapters.db.query<{ n: number }>(`SELECT count(*) AS n FROM admin_audit WHERE action = 'order.refund'`))[0]!.n;
    expect(auditAfter - auditBefore).toBe(ORDERS);

    // Stock: every unit came back while the sale runs, in the database and the cache alike; nothing is live.
    expect(await atRest(goodId)).toMatchObject({ stock: ORDERS, preStock: ORDERS, orders: { UNPAID: 0, PAID: 0, REFUNDED: ORDERS } });
    expect(await app.reconciler!.runNow()).toMatchObject({ paymentsSettled: 0, stockResynced: 0 });
  }, 180_000);
});
