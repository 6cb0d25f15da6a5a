/** Order state changes, payments, overdue lookups and reconciler decisions on SQL. */
import { ADMIN_REFUND } from '../../core/order-lifecycle.ts';
import type { AuditEntry, FailReason, Order, OrderMessage, PaymentIntent, PaymentRecord, SeckillResult, Transition } from '../../core/model.ts';
import { insertAuditEntry } from '../audit-log/sql-audit-log.ts';
import { OVERDUE_STATES } from './sql-states.ts';
import type { Database, Queryable } from '../database/database.ts';
import { RESULT_COLUMNS, SELECT_ORDERS, orderFromRow, resultFromRow } from './sql-rows.ts';
import type { OrderRow, ResultRow } from './sql-rows.ts';

// The column of each order time a transition sets; the names never come from a request.
const STAMP_COLUMNS = { paidAt: 'paid_at', closedAt: 'closed_at' } as const satisfies Record<NonNullable<Transition['stamps']>, string>;

async function insertPayment(q: Queryable, p: PaymentRecord): Promise<void> {
  await q.query(
    `INSERT INTO payments (order_no, kind, amount_cents, provider_ref, idempotency_key)
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (idempotency_key) DO NOTHING`,
    [p.orderNo, p.kind, p.amount, p.providerRef, p.idempotencyKey],
  );
}

export async function applyTransitionInDb(
  db: Database,
  orderNos: readonly string[],
  t: Transition,
  now: Date,
  opts: { payment?: PaymentRecord; onlyDueBy?: Date } = {},
): Promise<Order[]> {
  if (orderNos.length === 0 && !opts.payment) return [];
  return db.transaction(async (tx) => {
    if (opts.payment) await insertPayment(tx, opts.payment);
    return transitionInTx(tx, orderNos, t, now, opts.onlyDueBy);
  });
}

/** The conditional status change (and the stock it returns) inside the caller's transaction. */
async function transitionInTx(tx: Queryable, orderNos: readonly string[], t: Transition, now: Date, onlyDueBy?: Date): Promise<Order[]> {
  const params: unknown[] = [[...orderNos].sort(), t.to, t.from];
  const stamp = t.stamps ? `, ${STAMP_COLUMNS[t.stamps]} = $${params.push(now)}` : '';
  const due = onlyDueBy ? ` AND pay_deadline <= $${params.push(onlyDueBy)}` : '';
  // Sorted, so two transactions changing overlapping sets lock rows in the same order.
  const changed = await tx.query<{ order_no: string; seckill_good_id: number }>(
    `UPDATE orders SET status = $2${stamp}
      WHERE order_no = ANY($1::text[]) AND status = ANY($3::text[])${due}
      RETURNING order_no, seckill_good_id`,
    params,
  );
  if (changed.length === 0) return [];
  if (t.returnsStock) {
    const perGood = new Map<number, number>();
    for (const row of changed) perGood.set(row.seckill_good_id, (perGood.get(row.seckill_good_id) ?? 0) + 1);
    for (const [goodId, n] of [...perGood].sort(([a], [b]) => a - b)) {
      await tx.query('UPDATE seckill_goods SET stock = stock + $2 WHERE id = $1', [goodId, n]);
    }
  }
  const rows = await tx.query<OrderRow>(`${SELECT_ORDERS} WHERE o.order_no = ANY($1::text[]) ORDER BY o.order_no`, [
    changed.map((r) => r.order_no),
  ]);
  return rows.map(orderFromRow);
}

export async function refundPaidOrderInDb(
  db: Database,
  orderNo: string,
  opts: { now: Date; returnsStock: boolean; intent: PaymentIntent; audit: AuditEntry },
): Promise<Order | null> {
  const { now, intent } = opts;
  return db.transaction(async (tx) => {
    const [refunded] = await transitionInTx(tx, [orderNo], { ...ADMIN_REFUND, returnsStock: opts.returnsStock }, now);
    if (!refunded) return null;
    // Written after the order row is locked, so a racing settle either ran before (and is overwritten here) or
    // sees the refund due. A new attempt: a reconciler that read the intent before cannot abandon this one,
    // and it looks at it only once `charge_by` (now) is older than its grace period.
    await tx.query(
      `INSERT INTO payment_intents (order_no, amount_cents, idempotency_key, created_at, charge_by, refund_due) VALUES ($1, $2, $3, $4, $4, true)
       ON CONFLICT (order_no) DO UPDATE SET status = 'OPEN', created_at = EXCLUDED.created_at, settled_at = NULL, refund_due = true,
         attempt = payment_intents.attempt + 1, charge_by = GREATEST(payment_intents.charge_by, EXCLUDED.charge_by)`,
      [intent.orderNo, intent.amount, intent.idempotencyKey, now],
    );
    await insertAuditEntry(tx, opts.audit);
    return refunded;
  });
}

export const recordPaymentInDb = (db: Database, p: PaymentRecord) => insertPayment(db, p);

export async function overdueOrdersInDb(db: Database, now: Date, limit: number): Promise<Order[]> {
  const rows = await db.query<OrderRow>(
    `${SELECT_ORDERS} WHERE o.status IN ${OVERDUE_STATES} AND o.pay_deadline <= $1 ORDER BY o.pay_deadline LIMIT $2`,
    [now, limit],
  );
  return rows.map(orderFromRow);
}

export async function decideFailInDb(
  db: Database,
  m: Pick<OrderMessage, 'uuid' | 'userId' | 'seckillGoodId'>,
  reason: FailReason,
): Promise<SeckillResult> {
  await db.query(
    `INSERT INTO seckill_results (uuid, user_id, seckill_good_id, status, reason)
     VALUES ($1, $2, $3, 'FAIL', $4) ON CONFLICT (uuid) DO NOTHING`,
    [m.uuid, m.userId, m.seckillGoodId, reason],
  );
  const [row] = await db.query<ResultRow>(`SELECT ${RESULT_COLUMNS} FROM seckill_results WHERE uuid = $1`, [m.uuid]);
  return resultFromRow(row!);
}
