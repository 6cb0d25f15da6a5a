/** What the chaos run sets up through the shop's own api: the admin's session, sales in waves, registered buyers. */
import type { Buyer } from './buyers.ts';
import { retryable, type ShopClient } from './shop-client.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function loginAdmin(client: ShopClient, admin: { phone: string; password: string }): Promise<string> {
  for (let i = 0; i < 30; i++) {
    const r = await client.call('POST', '/api/auth/login', { body: admin });
    if (r.kind === 'http' && r.status === 200) return String(r.body.token);
    await sleep(1000);
  }
  throw new Error('admin login failed');
}

export interface Sale {
  id: number;
  stock: number;
  spare: boolean;
}

/** One wave: two sales that sell out and one with more units than buyers. */
export async function createSales(client: ShopClient, token: string, buyers: number, wave: number): Promise<Sale[]> {
  const sizes = [
    { stock: Math.max(10, Math.round(buyers / 5)), spare: false },
    { stock: Math.max(5, Math.round(buyers / 12)), spare: false },
    { stock: buyers * 2, spare: true },
  ];
  const out: Sale[] = [];
  for (const [i, size] of sizes.entries()) {
    const now = Date.now();
    const r = await client.call('POST', '/api/admin/seckill/goods', {
      token,
      body: { name: `Wave ${wave} good ${i + 1}`, price: 2000 + i, seckillPrice: 990 + i * 10, stock: size.stock, startAt: new Date(now - 1000).toISOString(), endAt: new Date(now + 24 * 3_600_000).toISOString() },
    });
    if (r.kind !== 'http' || r.status !== 201) throw new Error(`could not create a sale: ${JSON.stringify(r)}`);
    out.push({ id: Number(r.body.id), stock: size.stock, spare: size.spare });
  }
  return out;
}

export async function registerBuyers(client: ShopClient, n: number): Promise<Buyer[]> {
  const buyers: Buyer[] = [];
  const base = 15_000_000_000 + Math.floor(Math.random() * 900_000_000);
  // A password hash costs a good part of a second of CPU: a few at a time, so none runs into the client's deadline.
  for (let i = 0; i < n; i += 8) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(8, n - i) }, async (_, j) => {
        const phone = String(base + i + j);
        const password = `chaos-Buyer-${phone}-pw`;
        // Hashing waits its turn for the CPU on a busy machine: a longer deadline than a buyer's press.
        const timeoutMs = 60_000;
        let r = await client.call('POST', '/api/auth/register', { body: { phone, password, nickname: `buyer ${i + j}` }, timeoutMs });
        // A register whose answer was lost may have happened: then the phone is taken, by this very buyer.
        for (let attempt = 0; attempt < 5 && retryable(r); attempt++) {
          r = await client.call('POST', '/api/auth/register', { body: { phone, password, nickname: `buyer ${i + j}` }, timeoutMs });
          if (r.kind === 'http' && r.status === 409) r = await client.call('POST', '/api/auth/login', { body: { phone, password }, timeoutMs });
        }
        if (r.kind !== 'http' || (r.status !== 201 && r.status !== 200)) throw new Error(`could not register a buyer: ${JSON.stringify(r)}`);
        const user = r.body.user as { id: number };
        return { userId: Number(user.id), phone, token: String(r.body.token) };
      }),
    );
    buyers.push(...batch);
  }
  return buyers;
}
