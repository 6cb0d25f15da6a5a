/**
 * The invariants of docs/api.md, checked on one sale after a scenario, at rest:
 *  1. never oversold: live orders ≤ initial stock, database stock ≥ 0 (and stock + live = initial);
 *  2. at most one live order per buyer;
 *  3. every QUEUED answer has exactly one result, and nothing else has one (a SUCCESS has its order);
 *  4. at rest, the cache's pre-stock equals the database stock and nothing is in flight.
 */
import { epochMs } from './load.ts';
import { saleStats, type Sale } from './seed.ts';
import type { Sql, Stack } from './stack.ts';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

const resultCount = async (sql: Sql, id: number) =>
  Number((await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM seckill_results WHERE seckill_good_id = $1', [id]))[0]?.n ?? 0);

/** Wait until every QUEUED request of the sale is decided and nothing is in flight; returns when (epoch ms). */
export async function waitAtRest(stack: Stack, token: string, sale: Sale, queued: number, timeoutMs = 120_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = await saleStats(stack, token, sale.id);
    if (stats.queued === 0 && (await resultCount(stack.sql, sale.id)) >= queued) return epochMs();
    if (Date.now() > deadline) {
      throw new Error(`sale ${sale.id} not at rest after ${timeoutMs} ms: ${JSON.stringify(stats)}, results ${await resultCount(stack.sql, sale.id)}/${queued}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function checkInvariants(stack: Stack, token: string, sale: Sale, queuedUuids: readonly string[]): Promise<Check[]> {
  const { sql } = stack;
  const checks: Check[] = [];
  const [good] = await sql.query<{ initial_stock: number; stock: number; live: number }>(
    `SELECT g.initial_stock, g.stock,
            (SELECT count(*) FROM orders o WHERE o.seckill_good_id = g.id AND o.status IN ('UNPAID', 'PAID'))::int AS live
       FROM seckill_goods g WHERE g.id = $1`,
    [sale.id],
  );
  if (!good) return [{ name: 'sale exists', ok: false, detail: `no good ${sale.id}` }];
  checks.push({
    name: 'no oversell',
    ok: good.live <= good.initial_stock && good.stock >= 0 && good.stock + good.live === good.initial_stock,
    detail: `live orders ${good.live} ≤ stock on sale ${good.initial_stock}; db stock ${good.stock} ≥ 0 and = ${good.initial_stock} - ${good.live}`,
  });

  const [dup] = await sql.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (
       SELECT user_id FROM orders WHERE seckill_good_id = $1 AND status IN ('UNPAID', 'PAID') GROUP BY user_id HAVING count(*) > 1
     ) d`,
    [sale.id],
  );
  checks.push({ name: 'one live order per buyer', ok: dup?.n === 0, detail: `${dup?.n} buyers with more than one` });

  const [res] = await sql.query<{ matched: number; total: number; success: number; fail: number; orphan: number }>(
    `SELECT (SELECT count(*) FROM seckill_results WHERE uuid = ANY($2::text[]) AND seckill_good_id = $1)::int AS matched,
            count(*)::int AS total,
            count(*) FILTER (WHERE r.status = 'SUCCESS')::int AS success,
            count(*) FILTER (WHERE r.status = 'FAIL')::int AS fail,
            count(*) FILTER (WHERE r.status = 'SUCCESS' AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.order_no = r.order_no))::int AS orphan
       FROM seckill_results r WHERE r.seckill_good_id = $1`,
    [sale.id, queuedUuids],
  );
  const q = queuedUuids.length;
  checks.push({
    name: 'every QUEUED has exactly one result',
    ok: res?.matched === q && res.total === q && res.orphan === 0 && new Set(queuedUuids).size === q,
    detail: `${q} QUEUED, ${res?.matched} of them with a result, ${res?.total} results in all (${res?.success} SUCCESS, ${res?.fail} FAIL)`,
  });

  const stats = await saleStats(stack, token, sale.id);
  checks.push({
    name: 'pre-stock equals stock at rest',
    ok: stats.preStock === stats.stock && stats.queued === 0,
    detail: `cache ${stats.preStock}, database ${stats.stock}, in flight ${stats.queued}`,
  });
  return checks;
}

/**
 * Before the worker drains (accept path, services mode): every QUEUED request holds exactly one unit in the
 * cache and one message on the queue; the database has not moved.
 */
export async function checkQueuedNotDrained(stack: Stack, token: string, sale: Sale, queued: number): Promise<Check[]> {
  const stats = await saleStats(stack, token, sale.id);
  const pending = await stack.pendingCount();
  return [
    {
      name: 'every QUEUED holds one unit',
      ok: stats.queued === queued && stats.preStock === sale.stock - queued && stats.stock === sale.stock,
      detail: `${queued} QUEUED, ${stats.queued} reservations, pre-stock ${stats.preStock} = ${sale.stock} - ${queued}, db stock ${stats.stock}`,
    },
    {
      name: 'every QUEUED is on the queue',
      ok: pending?.orders === queued,
      detail: `${pending?.orders} orders in ${pending?.messages} batch messages waiting for ${queued} QUEUED`,
    },
  ];
}

export function printChecks(label: string, checks: readonly Check[], log: (line: string) => void): void {
  for (const c of checks) log(`  ${c.ok ? 'PASS' : 'FAIL'}  ${label}: ${c.name} — ${c.detail}`);
}

/** The database half of the invariants, for a sale that never went through the cache (a baseline). */
export async function checkStoreOnly(sql: Sql, id: number, expectedOrders: number): Promise<Check[]> {
  const [row] = await sql.query<{ initial_stock: number; stock: number; live: number; buyers: number; results: number }>(
    `SELECT g.initial_stock, g.stock,
            (SELECT count(*) FROM orders o WHERE o.seckill_good_id = g.id AND o.status IN ('UNPAID', 'PAID'))::int AS live,
            (SELECT count(DISTINCT user_id) FROM orders o WHERE o.seckill_good_id = g.id AND o.status IN ('UNPAID', 'PAID'))::int AS buyers,
            (SELECT count(*) FROM seckill_results r WHERE r.seckill_good_id = g.id)::int AS results
       FROM seckill_goods g WHERE g.id = $1`,
    [id],
  );
  if (!row) return [{ name: 'sale exists', ok: false, detail: `no good ${id}` }];
  return [
    {
      name: 'no oversell',
      ok: row.live <= row.initial_stock && row.stock >= 0 && row.stock + row.live === row.initial_stock,
      detail: `live ${row.live} ≤ ${row.initial_stock}, stock ${row.stock}`,
    },
    { name: 'one live order per buyer', ok: row.buyers === row.live, detail: `${row.live} orders, ${row.buyers} buyers` },
    { name: 'every message has one result', ok: row.results === expectedOrders && row.live === expectedOrders, detail: `${row.results} results, ${row.live} orders for ${expectedOrders} messages` },
  ];
}
