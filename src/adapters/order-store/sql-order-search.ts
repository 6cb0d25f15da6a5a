/**
 * OrderSearch on SQL: one statement per page, newest first by (created_at, order_no), the page boundary a row
 * comparison the indexes of migration 006 answer directly (each filter has an index whose order is the page's).
 */
import type { OrderSearch } from '../../core/ports/order-store.ts';
import type { AdminOrder, OrderKey } from '../../core/model.ts';
import type { Database } from '../database/database.ts';
import { orderFromRow, type OrderRow } from './sql-rows.ts';

interface SearchRow extends OrderRow {
  phone: string;
  created_key: string;
}

// The time as the database holds it, to the microsecond, in UTC: the key of the next page.
const CREATED_KEY = `to_char(o.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export function createSqlOrderSearch(db: Database): OrderSearch {
  return {
    async searchOrders(filter, { after, limit }) {
      const params: unknown[] = [];
      const where: string[] = [];
      if (filter.orderNo !== undefined) where.push(`o.order_no = $${params.push(filter.orderNo)}`);
      // A sub-select, so the plan is always "the one user by phone, then that user's orders by index".
      if (filter.phone !== undefined) where.push(`o.user_id = (SELECT id FROM users WHERE phone = $${params.push(filter.phone)})`);
      if (filter.seckillGoodId !== undefined) where.push(`o.seckill_good_id = $${params.push(filter.seckillGoodId)}`);
      if (filter.status !== undefined) where.push(`o.status = $${params.push(filter.status)}`);
      if (after) where.push(`(o.created_at, o.order_no) < ($${params.push(after.createdAt)}::timestamptz, $${params.push(after.orderNo)})`);
      const rows = await db.query<SearchRow>(
        `SELECT o.order_no, o.uuid, o.user_id, o.seckill_good_id, g.name AS good_name, o.seckill_price_cents, o.status,
                o.created_at, o.pay_deadline, o.paid_at, o.closed_at, u.phone, ${CREATED_KEY} AS created_key
           FROM orders o
           JOIN seckill_goods g ON g.id = o.seckill_good_id
           JOIN users u ON u.id = o.user_id
          ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
          ORDER BY o.created_at DESC, o.order_no DESC
          LIMIT $${params.push(limit)}`,
        params,
      );
      return rows.map((row) => {
        const order: AdminOrder = { ...orderFromRow(row), phone: row.phone };
        const key: OrderKey = { createdAt: row.created_key, orderNo: row.order_no };
        return { order, key };
      });
    },
  };
}
