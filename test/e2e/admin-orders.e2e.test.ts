/**
 * Customer service and finance over real HTTP in each mode: the audit log of admin actions, the order search,
 * refunds (and their repair after a crash), and a sale's orders as CSV.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, bootTestApp, mapLimit, type ApiClient, type Mode, type TestApp, loginAdmin } from '../support/app.ts';
import { makeBuyers, type Buyer } from '../support/buyers.ts';
import { adminSales, buyAndWait, waitFor } from '../support/sales.ts';
import { servicesAvailable } from '../support/services.ts';

const servicesUp = await servicesAvailable('postgres', 'redis', 'rabbitmq');

describe.each<Mode>(['embedded', 'services'])('admin orders (%s)', (mode) => {
  const skip = mode === 'services' && !servicesUp;
  let app: TestApp;
  let api: ApiClient;
  let admin: string;
  let adminId: number;
  const { sale, stats, atRest } = adminSales((...args) => api(...args), () => admin, 'Admin good');
  const sql = <T>(text: string, params: unknown[] = []) => app.adapters.db.query<T>(text, params);
  const phoneOf = async (b: Buyer) => (await api('GET', '/api/me', { token: b.token })).body.phone as string;

  /** Buyers who each bought one unit of the sale and paid it (when `pay`). */
  async function ordersOn(goodId: number, n: number, pay: boolean) {
    const buyers = await makeBuyers(app, n);
    return mapLimit(buyers, 10, async (b) => {
      const orderNo = await buyAndWait(api, b.token, goodId);
      if (pay) expect((await api('POST', `/api/orders/${orderNo}/pay`, { token: b.token })).body.status).toBe('PAID');
      return { ...b, orderNo };
    });
  }

  beforeAll(async () => {
    if (skip) return;
    app = await bootTestApp(mode, { RECONCILE_INTERVAL_MS: '3600000', RECONCILE_GRACE_MS: '300' });
    api = apiClient(app.httpUrl);
    admin = await loginAdmin(api);
    adminId = (await api('GET', '/api/me', { token: admin })).body.id;
  }, 60_000);

  afterAll(async () => {
    await app?.destroy();
  });

  it.skipIf(skip)('every admin action is in the audit log, newest first, with who, when, what and from where; pages by cursor', async () => {
    const started = Date.now();
    await sale(1);
    const goodId = await sale(3);
    expect((await api('POST', '/api/admin/dead-orders/replay?max=5', { token: admin })).body).toEqual({ replayed: 0 });
    const page = await api('GET', '/api/admin/audit?limit=2', { token: admin });
    expect(page.status).toBe(200);
    expect(page.body.items).toEqual([
      { at: expect.any(String), adminId, action: 'dead-orders.replay', target: 'dead-orders', details: { max: 5, replayed: 0 }, address: '127.0.0.1' },
      { at: expect.any(String), adminId, action: 'sale.create', target: String(goodId), details: expect.objectContaining({ stock: 3, seckillPrice: 990, name: 'Admin good' }), address: '127.0.0.1' },
    ]);
    expect(Date.parse(page.body.items[1].at)).toBeGreaterThanOrEqual(started - 60_000);
    expect(Date.parse(page.body.items[0].at)).toBeGreaterThanOrEqual(Date.parse(page.body.items[1].at));
    // The rest, page by page, ends with a null cursor and repeats nothing.
    const seen = [...page.body.items];
    let cursor = page.body.nextCursor as string | null;
    expect(cursor).toEqual(expect.any(String));
    while (cursor) {
      const next = await api('GET', `/api/admin/audit?limit=1&cursor=${cursor}`, { token: admin });
      seen.push(...next.body.items);
      cursor = next.body.nextCursor;
    }
    const n = (await sql<{ n: number }>('SELECT count(*) AS n FROM admin_audit'))[0]!.n;
    expect(seen.length).toBe(n);
    // Nothing an admin route does can rewrite it: the database refuses.
    await expect(sql('DELETE FROM admin_audit')).rejects.toMatchObject({ code: '42501' });
  });

  it.skipIf(skip)('the admin lists refuse a forged cursor, a bad filter, a buyer and no token', async () => {
    const [b] = await makeBuyers(app, 1);
    for (const url of ['/api/admin/audit?cursor=bm90LWEtY3Vyc29y', '/api/admin/orders?cursor=eyJvIjpbIngiLCJ5Il19', '/api/admin/orders?cursor=%25%25']) {
      const r = await api('GET', url, { token: admin });
      expect(r.status, url).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'INVALID_INPUT', details: { fields: ['cursor'] } });
    }
    expect((await api('GET', '/api/admin/orders?status=LOST', { token: admin })).body.error.details.fields).toEqual(['status']);
    expect((await api('GET', '/api/admin/orders?limit=201', { token: admin })).status).toBe(400);
    for (const [method, url] of [['GET', '/api/admin/orders'], ['GET', '/api/admin/audit'], ['POST', '/api/admin/orders/X1/refund'], ['GET', '/api/admin/seckill/goods/1/orders.csv']] as const) {
      expect((await api(method, url, { token: b!.token })).status, url).toBe(403);
      expect((await api(method, url)).status, url).toBe(401);
    }
  });

  it.skipIf(skip)('customer service finds orders by phone, order number, sale and status, a page at a time', async () => {
    const goodId = await sale(8);
    const orders = await ordersOn(goodId, 5, false);
    await api('POST', `/api/orders/${orders[0]!.orderNo}/pay`, { token: orders[0]!.token });
    await api('POST', `/api/orders/${orders[1]!.orderNo}/cancel`, { token: orders[1]!.token });
    const phone = await phoneOf(orders[2]!);

    const byPhone = await api('GET', `/api/admin/orders?phone=${phone}`, { token: admin });
    expect(byPhone.body).toEqual({ items: [expect.objectContaining({ orderNo: orders[2]!.orderNo, userId: orders[2]!.userId, phone, status: 'UNPAID', seckillGoodId: goodId, goodName: 'Admin good', seckillPrice: 990 })], nextCursor: null });
    expect((await api('GET', `/api/admin/orders?orderNo=${orders[3]!.orderNo}`, { token: admin })).body.items.map((o: any) => o.orderNo)).toEqual([orders[3]!.orderNo]);
    expect((await api('GET', `/api/admin/orders?seckillGoodId=${goodId}&status=PAID`, { token: admin })).body.items.map((o: any) => o.orderNo)).toEqual([orders[0]!.orderNo]);
    expect((await api('GET', `/api/admin/orders?seckillGoodId=${goodId}&status=CANCELLED&phone=`, { token: admin })).body.items.map((o: any) => o.orderNo)).toEqual([orders[1]!.orderNo]);

    const all: any[] = [];
    let cursor: string | null = null;
    do {
      const r: any = await api('GET', `/api/admin/orders?seckillGoodId=${goodId}&limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: admin });
      expect(r.body.items.length).toBeLessThanOrEqual(2);
      all.push(...r.body.items);
      cursor = r.body.nextCursor;
    } while (cursor);
    expect(all.map((o) => o.orderNo).sort()).toEqual(orders.map((o) => o.orderNo).sort());
    const times = all.map((o) => Date.parse(o.createdAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it.skipIf(skip)('a refund: PAID → REFUNDED for the buyer too, the money back, the unit back in both stocks, one audit entry; then 409', async () => {
    const goodId = await sale(2);
    const [paid, unpaid] = await ordersOn(goodId, 2, false);
    await api('POST', `/api/orders/${paid!.orderNo}/pay`, { token: paid!.token });
    const before = await app.adapters.payments.totals();
    expect(await atRest(goodId)).toMatchObject({ stock: 0, preStock: 0 });

    const r = await api('POST', `/api/admin/orders/${paid!.orderNo}/refund`, { token: admin });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ orderNo: paid!.orderNo, status: 'REFUNDED', paidAt: expect.any(String), closedAt: expect.any(String) });
    const mine = await api('GET', '/api/orders', { token: paid!.token });
    expect(mine.body.items).toEqual([expect.objectContaining({ orderNo: paid!.orderNo, status: 'REFUNDED' })]);
    const after = await app.adapters.payments.totals();
    expect({ refunds: after.refunds - before.refunds, refunded: after.refunded - before.refunded, charges: after.charges - before.charges }).toEqual({ refunds: 1, refunded: 990, charges: 0 });
    expect(await sql('SELECT kind, amount_cents FROM payments WHERE order_no = $1 ORDER BY id', [paid!.orderNo])).toEqual([{ kind: 'CHARGE', amount_cents: 990 }, { kind: 'REFUND', amount_cents: 990 }]);
    expect(await sql('SELECT status FROM payment_intents WHERE order_no = $1', [paid!.orderNo])).toEqual([{ status: 'SETTLED' }]);
    expect(await atRest(goodId)).toMatchObject({ stock: 1, preStock: 1, orders: { REFUNDED: 1, UNPAID: 1 } });
    const [entry] = (await api('GET', '/api/admin/audit?limit=1', { token: admin })).body.items;
    expect(entry).toMatchObject({ adminId, action: 'order.refund', target: paid!.orderNo, details: { amount: 990, userId: paid!.userId, unitBackToStock: true } });

    // The unit is for sale again, to anyone: the refunded buyer too.
    await buyAndWait(api, paid!.token, goodId);
    const again = await api('POST', `/api/admin/orders/${paid!.orderNo}/refund`, { token: admin });
    expect([again.status, again.body.error.code, again.body.error.details.status]).toEqual([409, 'ORDER_CLOSED', 'REFUNDED']);
    expect((await api('POST', `/api/admin/orders/${unpaid!.orderNo}/refund`, { token: admin })).body.error.details.status).toBe('UNPAID');
    expect((await api('POST', '/api/admin/orders/NOSUCHORDER1/refund', { token: admin })).status).toBe(404);
    expect((await app.adapters.payments.totals()).refunds).toBe(after.refunds);
  });

  it.skipIf(skip)('a refund after the sale ended gives the money back and keeps the unit sold', async () => {
    const goodId = await sale(2);
    const [o] = await ordersOn(goodId, 1, true);
    await sql(`UPDATE seckill_goods SET end_at = now() - interval '1 second', start_at = now() - interval '1 hour' WHERE id = $1`, [goodId]);
    const r = await api('POST', `/api/admin/orders/${o!.orderNo}/refund`, { token: admin });
    expect(r.body.status).toBe('REFUNDED');
    expect(await stats(goodId)).toMatchObject({ stock: 1, preStock: 1, orders: { REFUNDED: 1 } });
    expect((await api('GET', '/api/admin/audit?limit=1', { token: admin })).body.items[0].details.unitBackToStock).toBe(false);
  });

  it.skipIf(skip)('a refund whose process dies after the commit, before the provider: the reconciler gives the money back', async () => {
    const goodId = await sale(2);
    const [o] = await ordersOn(goodId, 1, true);
    const before = await app.adapters.payments.totals();
    const provider = app.adapters.payments;
    const refund = provider.refund;
    provider.refund = () => Promise.reject(new Error('process died before the provider refunded'));
    try {
      expect((await api('POST', `/api/admin/orders/${o!.orderNo}/refund`, { token: admin })).status).toBe(500);
    } finally {
      provider.refund = refund;
    }
    expect((await api('GET', `/api/orders/${o!.orderNo}`, { token: o!.token })).body.status).toBe('REFUNDED');
    expect((await provider.totals()).refunds).toBe(before.refunds);
    // Paying again does not close the intent: the refund is still due.
    expect((await api('POST', `/api/orders/${o!.orderNo}/pay`, { token: o!.token })).status).toBe(409);
    await waitFor('the reconciler to refund', () => app.reconciler!.runNow(), (report) => report.paymentsSettled === 1);
    const after = await provider.totals();
    expect([after.refunds - before.refunds, after.charges - before.charges]).toEqual([1, 0]);
    expect(await sql('SELECT status FROM payment_intents WHERE order_no = $1', [o!.orderNo])).toEqual([{ status: 'SETTLED' }]);
    expect((await app.reconciler!.runNow()).paymentsSettled).toBe(0);
  });

  it.skipIf(skip)("a sale's orders as CSV: streamed, a header and one row per order, quotes, commas, line breaks and formulas made safe", async () => {
    const goodId = await sale(2);
    const [paid] = await ordersOn(goodId, 1, true);
    // A name no form would take, straight into the database: the export must survive whatever is stored.
    const name = '=HYPERLINK("http://evil","click"), 2 lines\nsecond';
    await sql('UPDATE seckill_goods SET name = $2 WHERE id = $1', [goodId, name]);
    // Many more orders than one page, at distinct and shared moments.
    const tag = Math.random().toString(36).slice(2, 8);
    const MANY = 1203;
    await sql(
      `WITH u AS (
         INSERT INTO users (phone, nickname, password_hash, role)
         SELECT '16' || lpad((g + floor(random() * 90000)::bigint * 10000)::text, 9, '0'), '+buyer', 'x', 'user' FROM generate_series(1, $2::int) AS g
         ON CONFLICT DO NOTHING RETURNING id)
       INSERT INTO orders (order_no, uuid, user_id, seckill_good_id, seckill_price_cents, status, created_at, pay_deadline, closed_at)
       SELECT 'C' || $3 || row_number() OVER (), 'c-' || $3 || row_number() OVER (), u.id, $1, 1234, 'TIMEOUT',
              timestamptz '2030-05-01' + (row_number() OVER () / 3) * interval '1 millisecond', timestamptz '2030-05-02', timestamptz '2030-05-02'
         FROM u`,
      [goodId, MANY, tag],
    );
    const n = (await sql<{ n: number }>('SELECT count(*)::int AS n FROM orders WHERE seckill_good_id = $1', [goodId]))[0]!.n;

    const res = await fetch(`${app.httpUrl}/api/admin/seckill/goods/${goodId}/orders.csv`, { headers: { authorization: `Bearer ${admin}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="sale-${goodId}-orders.csv"`);
    // Streamed, not built first: no length known up front.
    expect(res.headers.get('content-length')).toBeNull();
    const bytes = new Uint8Array(await res.arrayBuffer());
    // UTF-8 with its byte-order mark first, so spreadsheet programs read the names as UTF-8.
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const rows = parseCsv(new TextDecoder('utf-8', { fatal: true }).decode(bytes.slice(3)));
    expect(rows[0]).toEqual(['order_no', 'created_at', 'buyer_id', 'buyer_phone', 'good_id', 'good_name', 'seckill_price_cents', 'seckill_price_yuan', 'status', 'paid_at', 'closed_or_refunded_at']);
    const body = rows.slice(1);
    expect(body.length).toBe(n);
    expect(new Set(body.map((r) => r[0])).size).toBe(n);
    expect(body.every((r) => r.length === 11 && r[4] === String(goodId) && r[5] === `'${name}`)).toBe(true);
    const mine = body.find((r) => r[0] === paid!.orderNo)!;
    expect(mine).toEqual([paid!.orderNo, expect.any(String), String(paid!.userId), await phoneOf(paid!), String(goodId), `'${name}`, '990', '9.90', 'PAID', expect.any(String), '']);
    expect(body.filter((r) => r[8] === 'TIMEOUT').every((r) => r[6] === '1234' && r[7] === '12.34' && r[10] === '2030-05-02T00:00:00.000Z')).toBe(true);
    const times = body.map((r) => Date.parse(r[1]!));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect((await api('GET', '/api/admin/seckill/goods/987654321/orders.csv', { token: admin })).status).toBe(404);
  });
});

/** RFC 4180 CSV: quoted cells may hold quotes (doubled), commas and line breaks; rows end with CRLF. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  if (cell !== '' || row.length) throw new Error('the CSV does not end with a line break');
  return rows;
}

