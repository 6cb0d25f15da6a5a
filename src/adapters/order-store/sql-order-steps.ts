/**
 * The steps of OrderStore.createOrders on SQL (sql-create-orders.ts) shared by its two paths, the batch of one
 * good and one message alone: claim the results, read stored ones, insert the orders, take the stock.
 */
import type { SeckillResult, OrderMessage } from '../../core/model.ts';
import type { Queryable } from '../database/database.ts';
import { RESULT_COLUMNS, resultFromRow } from './sql-rows.ts';
import type { ResultRow } from './sql-rows.ts';
import { NEW_ORDER_STATE } from './sql-states.ts';

export interface CreateOrdersOptions {
  now: Date;
  payTimeoutMs: number;
  makeOrderNo: () => string;
}

function payDeadline(opts: CreateOrdersOptions): Date {
  return new Date(opts.now.getTime() + opts.payTimeoutMs);
}

/**
 * Store SUCCESS results (the common outcome; a FAIL rewrites its row before commit) for the uuids that
 * have none yet, and return the uuids claimed. A uuid stored by another transaction is skipped — after
 * waiting for it when that transaction is still running.
 */
export async function claimResults(tx: Queryable, messages: OrderMessage[], orderNos: string[], now: Date): Promise<Set<string>> {
  const uuids = messages.map((m) => m.uuid);
  // A count comes back, not a row per uuid: nearly always every uuid is new, and N rows cost both sides.
  const [inserted] = await tx.query<{ n: number }>(
    `WITH claimed AS (
       INSERT INTO seckill_results (uuid, user_id, seckill_good_id, status, order_no, created_at)
       SELECT c.uuid, c.user_id, c.seckill_good_id, 'SUCCESS', c.order_no, $5
         FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[]) AS c(uuid, user_id, seckill_good_id, order_no)
        ORDER BY c.uuid
       ON CONFLICT (uuid) DO NOTHING
       RETURNING 1)
     SELECT count(*)::int AS n FROM claimed`,
    [uuids, messages.map((m) => m.userId), messages.map((m) => m.seckillGoodId), orderNos, now],
  );
  if (inserted?.n === uuids.length) return new Set(uuids);
  // Some were stored before (redeliveries): ours are the rows carrying the order numbers made for this call.
  const rows = await tx.query<{ uuid: string }>('SELECT uuid FROM seckill_results WHERE uuid = ANY($1::text[]) AND order_no = ANY($2::text[])', [uuids, orderNos]);
  return new Set(rows.map((row) => row.uuid));
}

export async function readResults(tx: Queryable, uuids: string[]): Promise<Map<string, SeckillResult>> {
  const rows = await tx.query<ResultRow>(`SELECT ${RESULT_COLUMNS} FROM seckill_results WHERE uuid = ANY($1::text[])`, [uuids]);
  return new Map(rows.map((row) => [row.uuid, resultFromRow(row)]));
}

export function storedOrThrow(stored: Map<string, SeckillResult>, uuid: string): SeckillResult {
  const result = stored.get(uuid);
  // Results are never deleted, and the claim only skips a uuid whose result is committed.
  if (!result) throw new Error(`the result of ${uuid} was claimed elsewhere but cannot be read`);
  return result;
}

/**
 * Insert UNPAID orders at the good's seckill price, in buyer order; returns how many went in (fewer when
 * the good does not exist). `skipLive`: skip a buyer who already has a live order of the good instead of
 * failing with a unique violation — the batch prefers the plain INSERT: it is cheaper, and a batch meeting
 * such a buyer rolls back anyway.
 */
export async function insertOrders(
  tx: Queryable,
  seckillGoodId: number,
  messages: OrderMessage[],
  orderNos: string[],
  opts: CreateOrdersOptions & { skipLive: boolean },
): Promise<number> {
  const [inserted] = await tx.query<{ n: number }>(
    `WITH inserted AS (
       INSERT INTO orders (order_no, uuid, user_id, seckill_good_id, seckill_price_cents, status, created_at, pay_deadline)
       SELECT n.order_no, n.uuid, n.user_id, g.id, g.seckill_price_cents, ${NEW_ORDER_STATE}, $5, $6
         FROM unnest($1::text[], $2::text[], $3::bigint[]) AS n(order_no, uuid, user_id)
         JOIN seckill_goods g ON g.id = $4
        ORDER BY n.user_id
       ${opts.skipLive ? 'ON CONFLICT DO NOTHING' : ''}
       RETURNING 1)
     SELECT count(*)::int AS n FROM inserted`,
    [orderNos, messages.map((m) => m.uuid), messages.map((m) => m.userId), seckillGoodId, opts.now, payDeadline(opts)],
  );
  return inserted?.n ?? 0;
}

/** stock - n, only if that leaves it >= 0. */
export async function takeStock(tx: Queryable, seckillGoodId: number, n: number): Promise<boolean> {
  const rows = await tx.query('UPDATE seckill_goods SET stock = stock - $2 WHERE id = $1 AND stock >= $2 RETURNING id', [seckillGoodId, n]);
  return rows.length === 1;
}
