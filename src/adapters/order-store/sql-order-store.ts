/** OrderStore on SQL (PostgreSQL or PGlite through `Database`). */
import { ORDER_STATUSES } from '../../core/order-lifecycle.ts';
import type { OrderStore } from '../../core/ports/order-store.ts';
import type { GoodStats, NewSeckillGood, OrderStatus, SeckillGood } from '../../core/model.ts';
import { sqlState, UNIQUE_VIOLATION, type Database } from '../database/database.ts';
import { createOrdersInDb } from './sql-create-orders.ts';
import { applyTransitionInDb, decideFailInDb, overdueOrdersInDb, recordPaymentInDb, refundPaidOrderInDb } from './sql-lifecycle.ts';
import { insertAuditEntry } from '../audit-log/sql-audit-log.ts';
import { GOOD_COLUMNS, RESULT_COLUMNS, SELECT_ORDERS, goodFromRow, orderFromRow, resultFromRow } from './sql-rows.ts';
import type { GoodRow, OrderRow, ResultRow } from './sql-rows.ts';
import { LIVE_STATES } from './sql-states.ts';

export function createSqlOrderStore(db: Database): OrderStore {
  return {
    async createGood(good: NewSeckillGood, opts = {}): Promise<SeckillGood> {
      return db.transaction(async (tx) => {
        const [row] = await tx.query<GoodRow>(
          `INSERT INTO seckill_goods (name, title, image_url, price_cents, seckill_price_cents, initial_stock, stock, start_at, end_at)
           VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8)
           RETURNING ${GOOD_COLUMNS}`,
          [good.name, good.title, good.imageUrl, good.price, good.seckillPrice, good.stock, good.startAt, good.endAt],
        );
        const created = goodFromRow(row!);
        if (opts.audit) await insertAuditEntry(tx, opts.audit(created));
        return created;
      });
    },

    async getGood(id) {
      const [row] = await db.query<GoodRow>(`SELECT ${GOOD_COLUMNS} FROM seckill_goods WHERE id = $1`, [id]);
      return row ? goodFromRow(row) : null;
    },

    async listGoods() {
      const rows = await db.query<GoodRow>(`SELECT ${GOOD_COLUMNS} FROM seckill_goods ORDER BY start_at, id`, []);
      return rows.map(goodFromRow);
    },

    async editGood(id, edit, { onlyBefore }) {
      const sets: string[] = [];
      const params: unknown[] = [id];
      const set = (column: string, value: unknown) => {
        params.push(value);
        sets.push(`${column} = $${params.length}`);
      };
      if (edit.name !== undefined) set('name', edit.name);
      if (edit.title !== undefined) set('title', edit.title);
      if (edit.imageUrl !== undefined) set('image_url', edit.imageUrl);
      if (edit.price !== undefined) set('price_cents', edit.price);
      if (edit.seckillPrice !== undefined) set('seckill_price_cents', edit.seckillPrice);
      if (edit.startAt !== undefined) set('start_at', edit.startAt);
      if (edit.endAt !== undefined) set('end_at', edit.endAt);
      let where = 'id = $1';
      if (onlyBefore) {
        params.push(onlyBefore);
        where += ` AND start_at > $${params.length}`;
      }
      const [row] = await db.query<GoodRow>(
        `UPDATE seckill_goods SET ${[...sets, 'revision = revision + 1'].join(', ')} WHERE ${where} RETURNING ${GOOD_COLUMNS}`,
        params,
      );
      return row ? goodFromRow(row) : null;
    },

    async setPaused(id, paused) {
      const [row] = await db.query<GoodRow>(
        `UPDATE seckill_goods SET paused = $2, revision = revision + 1 WHERE id = $1 RETURNING ${GOOD_COLUMNS}`,
        [id, paused],
      );
      return row ? goodFromRow(row) : null;
    },

    async addStock(id, units, { endsAfter }) {
      const [row] = await db.query<GoodRow>(
        `UPDATE seckill_goods SET stock = stock + $2, initial_stock = initial_stock + $2
         WHERE id = $1 AND end_at > $3 RETURNING ${GOOD_COLUMNS}`,
        [id, units, endsAfter],
      );
      return row ? goodFromRow(row) : null;
    },

    async liveBuyers(seckillGoodId) {
      const rows = await db.query<{ user_id: number }>(
        `SELECT user_id FROM orders WHERE seckill_good_id = $1 AND status IN ${LIVE_STATES} ORDER BY user_id`,
        [seckillGoodId],
      );
      return rows.map((row) => row.user_id);
    },

    async liveOrderNos(orderNos) {
      if (orderNos.length === 0) return new Set();
      const rows = await db.query<{ order_no: string }>(
        `SELECT order_no FROM orders WHERE order_no = ANY($1::text[]) AND status IN ${LIVE_STATES}`,
        [orderNos],
      );
      return new Set(rows.map((row) => row.order_no));
    },

    createOrders: (messages, opts) => createOrdersInDb(db, messages, opts),

    async getResult(uuid) {
      const [row] = await db.query<ResultRow>(`SELECT ${RESULT_COLUMNS} FROM seckill_results WHERE uuid = $1`, [uuid]);
      return row ? resultFromRow(row) : null;
    },

    async conflictOf(uuid, userId) {
      const [row] = await db.query<{ seckill_good_id: number }>(
        `SELECT seckill_good_id FROM seckill_conflicts WHERE uuid = $1 AND user_id = $2 ORDER BY created_at DESC LIMIT 1`,
        [uuid, userId],
      );
      return row ? { uuid, userId, seckillGoodId: row.seckill_good_id, status: 'FAIL', reason: 'UUID_CONFLICT' } : null;
    },

    async getResults(uuids) {
      if (uuids.length === 0) return [];
      const rows = await db.query<ResultRow>(`SELECT ${RESULT_COLUMNS} FROM seckill_results WHERE uuid = ANY($1::text[])`, [uuids]);
      return rows.map(resultFromRow);
    },

    async listOrders(userId) {
      const rows = await db.query<OrderRow>(
        `${SELECT_ORDERS} WHERE o.user_id = $1 ORDER BY o.created_at DESC, o.order_no DESC`,
        [userId],
      );
      return rows.map(orderFromRow);
    },

    async getOrder(orderNo) {
      const [row] = await db.query<OrderRow>(`${SELECT_ORDERS} WHERE o.order_no = $1`, [orderNo]);
      return row ? orderFromRow(row) : null;
    },

    async stats(seckillGoodId): Promise<GoodStats | null> {
      const [good] = await db.query<{ stock: number }>('SELECT stock FROM seckill_goods WHERE id = $1', [seckillGoodId]);
      if (!good) return null;
      const counts = await db.query<{ status: OrderStatus; n: number }>(
        'SELECT status, count(*) AS n FROM orders WHERE seckill_good_id = $1 GROUP BY status',
        [seckillGoodId],
      );
      const orders = Object.fromEntries(ORDER_STATUSES.map((status) => [status, 0])) as Record<OrderStatus, number>;
      for (const { status, n } of counts) orders[status] = n;
      return { stock: good.stock, orders };
    },

    applyTransition: (orderNos, transition, now, opts) => applyTransitionInDb(db, orderNos, transition, now, opts),
    refundPaidOrder: (orderNo, opts) => refundPaidOrderInDb(db, orderNo, opts),
    recordPayment: (payment) => recordPaymentInDb(db, payment),
    async openPaymentIntent(intent, { now, chargeBy }) {
      const open = () =>
        db.query<{ attempt: number }>(
          // A settled intent (abandoned: no charge was found) opens again, or a charge taken now and then
          // lost by a dying process would be looked for by no one. An open one becomes this attempt's, so the
          // reconciler, which abandons by attempt, cannot close it under this charge.
          `INSERT INTO payment_intents (order_no, amount_cents, idempotency_key, created_at, charge_by) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (order_no) DO UPDATE SET status = 'OPEN', settled_at = NULL, attempt = payment_intents.attempt + 1, created_at = EXCLUDED.created_at,
             charge_by = GREATEST(payment_intents.charge_by, EXCLUDED.charge_by)
           RETURNING attempt`,
          [intent.orderNo, intent.amount, intent.idempotencyKey, now, chargeBy],
        );
      try {
        return (await open())[0]!.attempt;
      } catch (err) {
        // Two first opens of one order at once: ON CONFLICT covers order_no only, so the loser may trip over
        // the idempotency key's unique index instead. The winner's row is committed now; once more takes the
        // ON CONFLICT path.
        if (sqlState(err) !== UNIQUE_VIOLATION) throw err;
        return (await open())[0]!.attempt;
      }
    },
    async settlePaymentIntent(orderNo, now) {
      // A refund due is settled only by whoever recorded the refund: the REFUND payment is committed before this.
      await db.query(
        `UPDATE payment_intents i SET status = 'SETTLED', settled_at = $2
          WHERE i.order_no = $1 AND i.status = 'OPEN'
            AND (NOT i.refund_due OR EXISTS (SELECT 1 FROM payments p WHERE p.order_no = i.order_no AND p.kind = 'REFUND'))`,
        [orderNo, now],
      );
    },
    async abandonPaymentIntent(orderNo, attempt, now) {
      const rows = await db.query(
        // A refund due is never abandoned: its charge exists, and only the recorded REFUND settles it.
        `UPDATE payment_intents SET status = 'SETTLED', settled_at = $3 WHERE order_no = $1 AND status = 'OPEN' AND attempt = $2 AND NOT refund_due RETURNING 1`,
        [orderNo, attempt, now],
      );
      return rows.length > 0;
    },
    async openPaymentIntents(chargeBy, limit) {
      const rows = await db.query<{ order_no: string; amount_cents: number; idempotency_key: string; attempt: number; charge_by: Date }>(
        `SELECT order_no, amount_cents, idempotency_key, attempt, charge_by FROM payment_intents
          WHERE status = 'OPEN' AND charge_by <= $1 ORDER BY charge_by LIMIT $2`,
        [chargeBy, limit],
      );
      return rows.map((r) => ({ orderNo: r.order_no, amount: r.amount_cents, idempotencyKey: r.idempotency_key, attempt: r.attempt, chargeBy: new Date(r.charge_by) }));
    },
    async decidedRequestsSince(since) {
      const rows = await db.query<{ uuid: string; seckill_good_id: number; user_id: number }>(
        `SELECT uuid, seckill_good_id, user_id FROM seckill_results WHERE created_at >= $1
         UNION ALL SELECT uuid, seckill_good_id, user_id FROM seckill_conflicts WHERE created_at >= $1`,
        [since],
      );
      return rows.map((r) => ({ uuid: r.uuid, seckillGoodId: r.seckill_good_id, userId: r.user_id }));
    },
    overdueOrders: (now, limit) => overdueOrdersInDb(db, now, limit),
    decideFail: (message, reason) => decideFailInDb(db, message, reason),
  };
}
