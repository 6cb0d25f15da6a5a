/**
 * The admin side of the database, run on every engine (PGlite in process, PostgreSQL server): the append-only
 * audit log (AuditLog, and entries written inside an action's own transaction), the order search (OrderSearch:
 * filters, keyset pages to the microsecond, indexes instead of scans) and the refund of a paid order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditLog } from '../../core/ports/audit-log.ts';
import type { OrderSearch, OrderStore } from '../../core/ports/order-store.ts';
import type { AuditEntry, OrderFilter, OrderKey } from '../../core/model.ts';
import { PAY, chargeKey, refundKey } from '../../core/order-lifecycle.ts';
import type { Database } from '../database/database.ts';
import { migrate } from '../database/migrate.ts';
import { createSqlOrderStore } from '../order-store/sql-order-store.ts';
import { createSqlOrderSearch } from '../order-store/sql-order-search.ts';
import { NOW, orderStoreFixture, type MakeDb } from '../order-store/order-store.fixture.ts';
import { createSqlAuditLog } from './sql-audit-log.ts';

export function describeAdminStores(label: string, makeDb: MakeDb): void {
  describe(`admin stores on ${label}`, () => {
    let db: Database;
    let cleanup: (() => Promise<void>) | undefined;
    let store: OrderStore;
    let search: OrderSearch;
    let audit: AuditLog;
    let admin: number;

    beforeAll(async () => {
      ({ db, cleanup } = await makeDb());
      await migrate(db);
      store = createSqlOrderStore(db);
      search = createSqlOrderSearch(db);
      audit = createSqlAuditLog(db);
      admin = await newBuyer();
    });
    afterAll(async () => {
      await cleanup?.();
    });

    const { newGood, newBuyers, newBuyer, message, opts, uniquePhone } = orderStoreFixture(() => db, (good) => store.createGood(good));
    const entry = (over: Partial<AuditEntry> = {}): AuditEntry => ({ adminId: admin, action: 'order.refund', target: 'O1', details: { amount: 990 }, address: '10.0.0.7', ...over });
    const auditCount = async () => (await db.query<{ n: number }>('SELECT count(*) AS n FROM admin_audit'))[0]!.n;

    describe('audit log', () => {
      it('a recorded entry → listed first with who, when (the database clock), what and from where', async () => {
        const before = Date.now();
        const rec = await audit.record(entry({ details: { nested: { a: [1, 'x'] } } }));
        expect(rec).toEqual({ ...entry({ details: { nested: { a: [1, 'x'] } } }), id: expect.any(Number), at: expect.any(Date) });
        // Database and test share the machine's clock; a minute's slack leaves room for a slow machine.
        expect(Math.abs(rec.at.getTime() - before)).toBeLessThan(60_000);
        expect((await audit.list({ limit: 1 }))[0]).toEqual(rec);
      });

      it('pages newest first: `before` continues strictly after the last entry seen', async () => {
        const made = [];
        for (let i = 0; i < 5; i++) made.push(await audit.record(entry({ target: `page-${i}` })));
        const first = await audit.list({ limit: 2 });
        expect(first.map((r) => r.target)).toEqual(['page-4', 'page-3']);
        const second = await audit.list({ before: first[1]!.id, limit: 2 });
        expect(second.map((r) => r.target)).toEqual(['page-2', 'page-1']);
        expect(made.map((r) => r.id)).toEqual([...made.map((r) => r.id)].sort((a, b) => a - b));
      });

      it('UPDATE, DELETE and TRUNCATE of the log → refused by the database, the entry unchanged', async () => {
        const rec = await audit.record(entry({ target: 'keep-me' }));
        for (const sql of [
          `UPDATE admin_audit SET target = 'changed' WHERE id = ${rec.id}`,
          `DELETE FROM admin_audit WHERE id = ${rec.id}`,
          'DELETE FROM admin_audit',
          'TRUNCATE admin_audit',
        ]) {
          await expect(db.query(sql, []), sql).rejects.toMatchObject({ code: '42501' });
        }
        expect((await audit.list({ limit: 50 })).find((r) => r.id === rec.id)).toEqual(rec);
      });

      it('an unknown admin or a malformed action → refused, nothing written', async () => {
        const n = await auditCount();
        await expect(audit.record(entry({ adminId: 987_654_321 }))).rejects.toThrow();
        await expect(audit.record(entry({ action: 'DROP TABLE' as AuditEntry['action'] }))).rejects.toThrow();
        expect(await auditCount()).toBe(n);
      });

      it('createGood with an entry → the good and its entry commit together; an entry that fails takes the good with it', async () => {
        const good = await store.createGood(
          { name: 'audited', title: '', imageUrl: '', price: 100, seckillPrice: 50, stock: 3, startAt: NOW, endAt: new Date(NOW.getTime() + 60_000) },
          { audit: (g) => entry({ action: 'sale.create', target: String(g.id), details: { stock: g.initialStock } }) },
        );
        expect((await audit.list({ limit: 1 }))[0]).toMatchObject({ action: 'sale.create', target: String(good.id), details: { stock: 3 } });
        const name = `never-${uniquePhone()}`;
        await expect(
          store.createGood(
            { name, title: '', imageUrl: '', price: 100, seckillPrice: 50, stock: 3, startAt: NOW, endAt: new Date(NOW.getTime() + 60_000) },
            { audit: () => entry({ adminId: 987_654_321 }) },
          ),
        ).rejects.toThrow();
        expect((await store.listGoods()).some((g) => g.name === name)).toBe(false);
      });
    });

    describe('refundPaidOrder', () => {
      async function paidOrder(stock = 3) {
        const good = await newGood({ stock });
        const buyer = await newBuyer();
        const [made] = await store.createOrders([message(buyer, good.id)], opts());
        const orderNo = made!.result.orderNo!;
        const intent = { orderNo, amount: good.seckillPrice, idempotencyKey: chargeKey(orderNo) };
        await store.openPaymentIntent(intent, { now: NOW, chargeBy: new Date(NOW.getTime() + 10_000) });
        await store.applyTransition([orderNo], PAY, NOW, { payment: { orderNo, kind: 'CHARGE', amount: good.seckillPrice, providerRef: `pay_${orderNo}`, idempotencyKey: chargeKey(orderNo) } });
        await store.settlePaymentIntent(orderNo, NOW);
        return { good, orderNo, intent };
      }
      const at = new Date(NOW.getTime() + 60_000);
      const intentOf = async (orderNo: string) =>
        (await db.query<{ status: string; refund_due: boolean }>('SELECT status, refund_due FROM payment_intents WHERE order_no = $1', [orderNo]))[0];

      it('PAID → REFUNDED with closedAt, the unit back, the intent open with a refund due, the entry written; again → null', async () => {
        const { good, orderNo, intent } = await paidOrder();
        const refunded = await store.refundPaidOrder(orderNo, { now: at, returnsStock: true, intent, audit: entry({ target: orderNo }) });
        expect(refunded).toMatchObject({ orderNo, status: 'REFUNDED', closedAt: at, paidAt: NOW });
        expect((await store.getGood(good.id))!.stock).toBe(3);
        expect(await intentOf(orderNo)).toEqual({ status: 'OPEN', refund_due: true });
        expect((await audit.list({ limit: 1 }))[0]).toMatchObject({ action: 'order.refund', target: orderNo });
        expect(await store.refundPaidOrder(orderNo, { now: at, returnsStock: true, intent, audit: entry({ target: orderNo }) })).toBeNull();
        expect((await store.getGood(good.id))!.stock).toBe(3);
      });

      it('returnsStock false (the sale is over) → REFUNDED, stock unchanged', async () => {
        const { good, orderNo, intent } = await paidOrder();
        await store.refundPaidOrder(orderNo, { now: at, returnsStock: false, intent, audit: entry() });
        expect((await store.getGood(good.id))!.stock).toBe(2);
      });

      it('an UNPAID order → null, nothing changes, no entry', async () => {
        const good = await newGood();
        const [made] = await store.createOrders([message(await newBuyer(), good.id)], opts());
        const orderNo = made!.result.orderNo!;
        const n = await auditCount();
        expect(await store.refundPaidOrder(orderNo, { now: at, returnsStock: true, intent: { orderNo, amount: 1, idempotencyKey: chargeKey(orderNo) }, audit: entry() })).toBeNull();
        expect((await store.getOrder(orderNo))!.status).toBe('UNPAID');
        expect(await auditCount()).toBe(n);
      });

      it('an entry that cannot be written → the refund rolls back: still PAID, stock and intent as before', async () => {
        const { good, orderNo, intent } = await paidOrder();
        await expect(store.refundPaidOrder(orderNo, { now: at, returnsStock: true, intent, audit: entry({ adminId: 987_654_321 }) })).rejects.toThrow();
        expect((await store.getOrder(orderNo))!.status).toBe('PAID');
        expect((await store.getGood(good.id))!.stock).toBe(2);
        expect(await intentOf(orderNo)).toEqual({ status: 'SETTLED', refund_due: false });
      });

      it('a refund due → settling refused until the REFUND payment is recorded', async () => {
        const { orderNo, intent } = await paidOrder();
        await store.refundPaidOrder(orderNo, { now: at, returnsStock: true, intent, audit: entry() });
        await store.settlePaymentIntent(orderNo, at);
        expect(await intentOf(orderNo)).toEqual({ status: 'OPEN', refund_due: true });
        expect((await store.openPaymentIntents(at, 1000)).map((i) => i.orderNo)).toContain(orderNo);
        await store.recordPayment({ orderNo, kind: 'REFUND', amount: intent.amount, providerRef: 'rfd_x', idempotencyKey: refundKey(orderNo) });
        await store.settlePaymentIntent(orderNo, at);
        expect((await intentOf(orderNo))!.status).toBe('SETTLED');
      });
    });

    describe('order search', () => {
      /** Orders straight into the table at chosen times (microseconds apart, or equal), on fresh goods and buyers. */
      async function seeded() {
        const [g1, g2] = [await newGood({ stock: 100 }), await newGood({ stock: 100 })];
        const buyers = await newBuyers(3);
        const phones = await db.query<{ id: number; phone: string }>('SELECT id, phone FROM users WHERE id = ANY($1::bigint[])', [buyers]);
        const phoneOf = new Map(phones.map((p) => [p.id, p.phone]));
        const base = `S${uniquePhone()}`;
        // Five share one millisecond (three of them one microsecond), so pages must cut inside a millisecond.
        const times = ['2030-02-01T10:00:00.000001Z', '2030-02-01T10:00:00.000002Z', '2030-02-01T10:00:00.000002Z', '2030-02-01T10:00:00.000002Z', '2030-02-01T10:00:00.000900Z', '2030-02-01T10:00:01Z', '2030-02-01T10:00:02Z'];
        const statuses = ['PAID', 'UNPAID', 'REFUNDED', 'PAID', 'TIMEOUT', 'PAID', 'CANCELLED'];
        const rows = times.map((t, i) => ({ orderNo: `${base}${i}`, t, good: i % 2 ? g2 : g1, user: buyers[i % 3]!, status: statuses[i]! }));
        for (const r of rows) {
          await db.query(
            `INSERT INTO orders (order_no, uuid, user_id, seckill_good_id, seckill_price_cents, status, created_at, pay_deadline)
             VALUES ($1, $1, $2, $3, 990, $4, $5::timestamptz, $5::timestamptz + interval '15 minutes')`,
            [r.orderNo, r.user, r.good.id, r.status, r.t],
          );
        }
        // Newest first: by time, then by order number within one time.
        const newestFirst = [...rows].sort((a, b) => (a.t === b.t ? (a.orderNo < b.orderNo ? 1 : -1) : Date.parse(b.t) - Date.parse(a.t) || (a.t < b.t ? 1 : -1)));
        return { g1: g1, g2: g2, buyers, phoneOf, rows, newestFirst };
      }

      async function allPages(filter: OrderFilter, limit: number) {
        const seen: string[] = [];
        let after: OrderKey | undefined;
        for (let i = 0; i < 100; i++) {
          const page = await search.searchOrders(filter, { ...(after ? { after } : {}), limit });
          seen.push(...page.map((p) => p.order.orderNo));
          if (page.length < limit) return seen;
          after = page.at(-1)!.key;
        }
        throw new Error('paging did not end');
      }

      it('by sale → its orders newest first with the buyer phone; paged one by one inside a microsecond, each exactly once', async () => {
        const { g1, newestFirst, phoneOf } = await seeded();
        const expected = newestFirst.filter((r) => r.good.id === g1.id).map((r) => r.orderNo);
        const [first] = await search.searchOrders({ seckillGoodId: g1.id }, { limit: 1 });
        expect(first!.order).toMatchObject({ orderNo: expected[0], seckillGoodId: g1.id, goodName: g1.name, seckillPrice: 990 });
        expect(first!.order.phone).toBe(phoneOf.get(first!.order.userId));
        for (const limit of [1, 2, 50]) expect(await allPages({ seckillGoodId: g1.id }, limit)).toEqual(expected);
      });

      it('by phone, order number, status and their combinations → exactly the matching orders', async () => {
        const { g2, buyers, phoneOf, rows, newestFirst } = await seeded();
        const phone = phoneOf.get(buyers[0]!)!;
        expect(await allPages({ phone }, 2)).toEqual(newestFirst.filter((r) => r.user === buyers[0]).map((r) => r.orderNo));
        expect(await allPages({ orderNo: rows[3]!.orderNo }, 5)).toEqual([rows[3]!.orderNo]);
        expect(await allPages({ seckillGoodId: g2.id, status: 'PAID' }, 1)).toEqual(newestFirst.filter((r) => r.good.id === g2.id && r.status === 'PAID').map((r) => r.orderNo));
        expect(await allPages({ phone, status: 'PAID' }, 5)).toEqual(newestFirst.filter((r) => r.user === buyers[0] && r.status === 'PAID').map((r) => r.orderNo));
        expect(await allPages({ phone: '19999999999' }, 5)).toEqual([]);
        expect(await allPages({ orderNo: rows[3]!.orderNo, seckillGoodId: rows[3]!.good.id === g2.id ? g2.id + 100_000 : g2.id }, 5)).toEqual([]);
        const newest = await search.searchOrders({}, { limit: 3 });
        expect(newest.length).toBe(3);
        const byStatus = await search.searchOrders({ status: 'REFUNDED' }, { limit: 200 });
        expect(byStatus.every((r) => r.order.status === 'REFUNDED')).toBe(true);
        expect(byStatus.map((r) => r.order.orderNo)).toContain(rows[2]!.orderNo);
      });

      it('every search shape on a large table → read through an index, never a scan of orders', async () => {
        // 500 buyers × 40 sales, one order each (a buyer holds one live order per sale).
        const goods: number[] = [];
        for (let i = 0; i < 40; i++) goods.push((await newGood({ stock: 1000 })).id);
        const good = { id: goods[0]! };
        const buyers = await newBuyers(500);
        const tag = uniquePhone();
        await db.query(
          `INSERT INTO orders (order_no, uuid, user_id, seckill_good_id, seckill_price_cents, status, created_at, pay_deadline)
           SELECT 'X' || g || 'T${tag}', 'x-' || g || '${tag}', ($1::bigint[])[1 + g % 500], ($2::bigint[])[1 + g / 500], 990,
                  (ARRAY['UNPAID','PAID','CANCELLED','TIMEOUT','REFUNDED'])[1 + g % 5],
                  timestamptz '2031-01-01' + g * interval '1 second', timestamptz '2031-01-02'
             FROM generate_series(0, 19999) AS g`,
          [buyers, goods],
        );
        await db.query('ANALYZE orders', []);
        await db.query('ANALYZE users', []);
        const phone = (await db.query<{ phone: string }>('SELECT phone FROM users WHERE id = $1', [buyers[7]]))[0]!.phone;
        const after = { createdAt: '2031-01-01T03:00:00.000000Z', orderNo: 'X9' };
        // Each filter and the index its first page is read through (later pages may pick another index).
        const shapes: [OrderFilter, string][] = [
          [{}, 'orders_by_created'],
          [{ seckillGoodId: good.id }, 'orders_by_good_created'],
          [{ seckillGoodId: good.id, status: 'PAID' }, 'orders_by_good_status_created'],
          [{ status: 'REFUNDED' }, 'orders_by_status_created'],
          [{ phone }, 'orders_by_user'],
          [{ phone, seckillGoodId: good.id }, 'orders_by_user'],
          [{ orderNo: 'X77' }, 'orders_pkey'],
        ];
        for (const [filter, index] of shapes) {
          const [first] = await explain(db, filter, { limit: 51 });
          expect(first, JSON.stringify(filter)).toMatch(new RegExp(`Index Scan (using|on) ${index}\\b`));
          for (const page of [{ limit: 51 }, { after, limit: 51 }]) {
            const plans = await explain(db, filter, page);
            expect(plans.join('\n'), JSON.stringify({ filter, page })).not.toMatch(/Seq Scan on orders/);
          }
        }
      });
    });
  });
}

/** The plans of the statements one search sends (each run once more under EXPLAIN). */
async function explain(db: Database, filter: OrderFilter, page: { after?: OrderKey; limit: number }): Promise<string[]> {
  const plans: string[] = [];
  const spy = {
    ...db,
    query: async <T,>(sql: string, params?: unknown[]) => {
      const rows = await db.query<Record<string, string>>(`EXPLAIN ${sql}`, params);
      plans.push(rows.map((r) => Object.values(r)[0]).join('\n'));
      return db.query<T>(sql, params);
    },
  };
  await createSqlOrderSearch(spy).searchOrders(filter, page);
  return plans;
}
