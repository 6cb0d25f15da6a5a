/** The end of a chaos run: wait until nothing is in flight, then read everything the checker needs. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { parsePgServers } from '../../src/adapters/database/pg-hosts.ts';
import { finalOf, type Buyer, type History } from './buyers.ts';
import type { Snapshot } from './checker.ts';
import type { Sale } from './shop-setup.ts';
import { retryable, type ShopClient } from './shop-client.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function once<T>(url: string, sql: string, params: unknown[]): Promise<T[]> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000, query_timeout: 10_000, statement_timeout: 10_000 });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end().catch(() => undefined);
  }
}

/**
 * One statement on a fresh connection. A URL naming several servers (a failover pair) is run on the one that
 * is not in recovery, asked in order, as the shop's own adapter finds it.
 */
export async function query<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const target = parsePgServers(url);
  if (target.plain) return once<T>(url, sql, params);
  const why: string[] = [];
  for (const server of target.servers) {
    try {
      const [state] = await once<{ standby: boolean }>(server.url, 'SELECT pg_is_in_recovery() AS standby', []);
      if (state?.standby) {
        why.push(`${server.label} in recovery`);
        continue;
      }
      return await once<T>(server.url, sql, params);
    } catch (err) {
      why.push(`${server.label} ${(err as Error).message}`);
    }
  }
  throw new Error(`no primary: ${why.join('; ')}`);
}

/**
 * Waits until nothing is in flight: every reservation decided, every pay deadline passed and closed, the cache
 * equal to the database and no payment intent open — or until the settle time is up (the checker then reports
 * what did not settle). Then reads everything the checker needs.
 */
export async function settle(
  client: ShopClient,
  adminToken: string,
  goods: Sale[],
  dbUrl: string,
  history: History,
  buyers: Buyer[],
  say: (line: string) => void,
): Promise<Snapshot> {
  const until = Date.now() + 240_000;
  const q = <T,>(sql: string, params: unknown[] = []) => query<T>(dbUrl, sql, params);
  const stats = async () =>
    Promise.all(
      goods.map(async (g) => {
        const r = await client.call('GET', `/api/admin/seckill/goods/${g.id}/stats`, { token: adminToken });
        if (r.kind !== 'http' || r.status !== 200) throw new Error(`stats of good ${g.id}: ${JSON.stringify(r)}`);
        return { id: g.id, stock: Number(r.body.stock), preStock: Number(r.body.preStock), queued: Number(r.body.queued) };
      }),
    );
  for (;;) {
    try {
      const s = await stats();
      const [{ unpaid, intents }] = await q<{ unpaid: number; intents: number }>(
        `SELECT (SELECT COUNT(*)::int FROM orders WHERE status = 'UNPAID') AS unpaid, (SELECT COUNT(*)::int FROM payment_intents WHERE status = 'OPEN') AS intents`,
        [],
      ).then((rows) => rows as [{ unpaid: number; intents: number }]);
      if (s.every((g) => g.queued === 0 && g.preStock === g.stock) && unpaid === 0 && intents === 0) break;
      if (Date.now() > until) {
        say('settle time is up; checking as it stands');
        break;
      }
    } catch (err) {
      if (Date.now() > until) throw err;
    }
    await sleep(2000);
  }
  say('settled; reading the database, the cache and every result');
  const tokenOf = new Map(buyers.map((b) => [b.userId, b.token]));
  const finalPolls: Snapshot['finalPolls'] = new Map();
  const queued = history.requests.filter((r) => r.queued);
  for (let i = 0; i < queued.length; i += 50) {
    await Promise.all(
      queued.slice(i, i + 50).map(async (r) => {
        // A busy machine may answer late: the shop's answer is wanted, not the first timeout.
        for (let attempt = 0; attempt < 5; attempt++) {
          const a = await client.call('GET', `/api/seckill/results/${r.uuid}?seckillGoodId=${r.goodId}`, { token: tokenOf.get(r.userId)!, timeoutMs: 30_000 });
          if (a.kind === 'http' && a.status === 200) finalPolls.set(r.uuid, finalOf(a.body, 'check'));
          if (!retryable(a)) return;
          await sleep(1000);
        }
      }),
    );
  }
  const goodsAtRest = await stats();
  const rows = await q<{ id: number; initial_stock: number; stock: number }>('SELECT id::int, initial_stock, stock FROM seckill_goods WHERE id = ANY($1)', [goods.map((g) => g.id)]);
  const orders = await q<{ order_no: string; uuid: string; user_id: number; seckill_good_id: number; status: string; pay_deadline: Date; paid_at: Date | null; pay_started_at: Date | null; seckill_price_cents: number }>(
    `SELECT o.order_no, o.uuid, o.user_id::int, o.seckill_good_id::int, o.status, o.pay_deadline, o.paid_at, i.created_at AS pay_started_at, o.seckill_price_cents
       FROM orders o LEFT JOIN payment_intents i ON i.order_no = o.order_no`,
  );
  const results = await q<{ uuid: string; user_id: number; seckill_good_id: number; status: string; order_no: string | null; reason: string | null }>(
    'SELECT uuid, user_id::int, seckill_good_id::int, status, order_no, reason FROM seckill_results',
  );
  const payments = await q<{ order_no: string; kind: 'CHARGE' | 'REFUND'; amount_cents: number }>('SELECT order_no, kind, amount_cents FROM payments');
  const [intents] = await q<{ n: number }>(`SELECT COUNT(*)::int AS n FROM payment_intents WHERE status = 'OPEN'`);
  const ledger = await q<{ kind: string; cents: number }>('SELECT kind, COALESCE(SUM(amount_cents), 0)::int AS cents FROM simulated_provider_ledger GROUP BY kind');
  const cents = (kind: string) => ledger.find((l) => l.kind === kind)?.cents ?? 0;
  return {
    goods: goods.map((g) => {
      const db = rows.find((r) => r.id === g.id)!;
      const cache = goodsAtRest.find((s) => s.id === g.id)!;
      return { id: g.id, initialStock: db.initial_stock, stock: db.stock, preStock: cache.preStock, queued: cache.queued, spare: g.spare };
    }),
    orders: orders.map((o) => ({ orderNo: o.order_no, uuid: o.uuid, userId: o.user_id, goodId: o.seckill_good_id, status: o.status, payDeadline: o.pay_deadline, ...(o.paid_at ? { paidAt: o.paid_at } : {}), ...(o.pay_started_at ? { payStartedAt: o.pay_started_at } : {}), price: o.seckill_price_cents })),
    results: results.map((r) => ({ uuid: r.uuid, userId: r.user_id, goodId: r.seckill_good_id, status: r.status, orderNo: r.order_no, reason: r.reason })),
    payments: payments.map((p) => ({ orderNo: p.order_no, kind: p.kind, amount: p.amount_cents })),
    openIntents: intents?.n ?? 0,
    provider: { charged: cents('CHARGE'), refunded: cents('REFUND') },
    finalPolls,
    now: new Date(),
  };
}

export function describeSales(goods: Snapshot['goods']): string {
  const sold = goods.reduce((a, g) => a + g.initialStock - g.stock, 0);
  const units = goods.reduce((a, g) => a + g.initialStock, 0);
  return `${goods.length} (${goods.filter((g) => g.stock === 0).length} sold out; ${sold} of ${units} units held by live orders)`;
}

/** Repairs the reconcilers logged (every worker process, every restart). */
export function repairsFromLogs(logDir: string): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const file of readdirSync(logDir).filter((f) => f.startsWith('worker'))) {
    for (const line of readFileSync(path.join(logDir, file), 'utf8').split('\n')) {
      if (!line.includes('"reconciler run"')) continue;
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        for (const key of ['paymentsSettled', 'paymentsAbandoned', 'timedOut', 'reservationsSettled', 'reservationsReleased', 'reservationsExpired', 'stockResynced', 'alerts']) {
          const n = Number(entry[key] ?? 0);
          if (n > 0) totals[key] = (totals[key] ?? 0) + n;
        }
      } catch {
        /* a line cut by kill -9 */
      }
    }
  }
  return totals;
}
