/**
 * Buyers and sales for the benchmark, made in bulk: users by one INSERT … SELECT generate_series (no
 * scrypt: these accounts never log in), tokens signed directly with the app's signer and secret, sales
 * through the admin API (which loads the pre-stock into the cache before it answers).
 */
import { createTokenSigner } from '../../src/core/credentials.ts';
import type { Buyer } from './load.ts';
import type { Sql, Stack } from './stack.ts';

export async function seedBuyers(sql: Sql, secret: string, count: number): Promise<Buyer[]> {
  const rows = await sql.query<{ id: number }>(
    `INSERT INTO users (phone, nickname, password_hash, role)
     SELECT '15' || lpad(g::text, 9, '0'), 'bench-' || g, 'bench:no-login', 'user'
       FROM generate_series(1, $1::int) AS g
     ON CONFLICT (phone) DO NOTHING
     RETURNING id`,
    [count],
  );
  if (rows.length !== count) throw new Error(`seeded ${rows.length} buyers, wanted ${count} (users left from an earlier seed?)`);
  const signer = createTokenSigner(secret, 24 * 3600);
  const now = new Date();
  return rows
    .map((r) => Number(r.id))
    .sort((a, b) => a - b)
    .map((userId) => ({ userId, token: signer.sign({ userId, role: 'user' }, now).token }));
}

export async function json<T = unknown>(url: string, init: { method?: string; token?: string; body?: unknown } = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
    },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

export async function adminToken(stack: Stack): Promise<string> {
  const r = await json<{ token: string }>(`${stack.apiUrl}/api/auth/login`, {
    method: 'POST',
    body: { phone: stack.adminPhone, password: stack.adminPassword },
  });
  if (r.status !== 200) throw new Error(`admin login: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.token;
}

export interface Sale {
  id: number;
  stock: number;
}

export async function createSale(stack: Stack, token: string, name: string, stock: number): Promise<Sale> {
  const now = Date.now();
  const r = await json<{ id: number }>(`${stack.apiUrl}/api/admin/seckill/goods`, {
    method: 'POST',
    token,
    body: { name, price: 10_000, seckillPrice: 100, stock, startAt: new Date(now - 60_000).toISOString(), endAt: new Date(now + 3_600_000).toISOString() },
  });
  if (r.status !== 201) throw new Error(`create sale: ${r.status} ${JSON.stringify(r.body)}`);
  return { id: r.body.id, stock };
}

export interface SaleStats {
  stock: number;
  preStock: number | null;
  queued: number;
  orders: Record<string, number>;
}

export async function saleStats(stack: Stack, token: string, id: number): Promise<SaleStats> {
  const r = await json<SaleStats>(`${stack.apiUrl}/api/admin/seckill/goods/${id}/stats`, { token });
  if (r.status !== 200) throw new Error(`stats of ${id}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}
