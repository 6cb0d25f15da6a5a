/**
 * What the OrderStore contract's parts share: the engine under test, fresh goods and buyers per test, order
 * messages, and a deterministic shuffle for races. Helpers read the store and database when called, so a part
 * may take them before its beforeAll opened the database.
 */
import { randomUUID } from 'node:crypto';
import type { NewSeckillGood, OrderMessage } from '../../core/model.ts';
import type { Database } from '../database/database.ts';

export type MakeDb = () => Promise<{ db: Database; cleanup: () => Promise<void> }>;

export const NOW = new Date('2030-01-01T10:00:00.000Z');
export const PAY_TIMEOUT_MS = 15 * 60_000;

/** Deterministic shuffle (mulberry32), so a failing race can be replayed. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  let s = seed;
  const random = () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export function orderStoreFixture(getDb: () => Database, createGood: (good: NewSeckillGood) => Promise<import('../../core/model.ts').SeckillGood>) {
  const run = randomUUID().slice(0, 8);
  let seq = 0;
  const uniquePhone = () => `1${run}${String(++seq).padStart(6, '0')}`;
  const newUuid = () => `u-${randomUUID()}`;
  const makeOrderNo = () => `O${run}${String(++seq).padStart(9, '0')}`;
  const opts = (now = NOW) => ({ now, payTimeoutMs: PAY_TIMEOUT_MS, makeOrderNo });

  function goodSpec(overrides: Partial<NewSeckillGood> = {}): NewSeckillGood {
    return {
      name: `good ${++seq}`,
      title: 'A fine thing',
      imageUrl: '/img/1.png',
      price: 19_900,
      seckillPrice: 9_900,
      stock: 10,
      startAt: new Date('2030-01-01T09:00:00.000Z'),
      endAt: new Date('2030-01-01T12:00:00.000Z'),
      ...overrides,
    };
  }
  const newGood = (overrides: Partial<NewSeckillGood> = {}) => createGood(goodSpec(overrides));

  async function newBuyers(n: number): Promise<number[]> {
    const phones = Array.from({ length: n }, uniquePhone);
    const rows = await getDb().query<{ id: number }>(
      `INSERT INTO users (phone, nickname, password_hash, role)
       SELECT p, 'buyer', 'hash', 'user' FROM unnest($1::text[]) AS p RETURNING id`,
      [phones],
    );
    return rows.map((row) => row.id).sort((a, b) => a - b);
  }
  const newBuyer = async () => (await newBuyers(1))[0]!;
  const message = (userId: number, seckillGoodId: number, uuid = newUuid()): OrderMessage => ({
    uuid,
    userId,
    seckillGoodId,
    reservedAt: NOW.getTime(),
  });
  async function countOrders(seckillGoodId: number): Promise<number> {
    const [row] = await getDb().query<{ n: number }>('SELECT count(*) AS n FROM orders WHERE seckill_good_id = $1', [seckillGoodId]);
    return row!.n;
  }
  return { uniquePhone, newUuid, makeOrderNo, opts, goodSpec, newGood, newBuyers, newBuyer, message, countOrders };
}
