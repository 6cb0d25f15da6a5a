/**
 * The sale on its in-process adapters, for the unit tests of the core use cases: one in-memory PGlite per
 * test file (its cold start costs seconds), and per test a fresh memory cache, memory bus, in-memory
 * payment provider and a fake clock the test moves by hand. Each test makes its own goods and buyers.
 */
import { randomBytes } from 'node:crypto';
import { createMemoryOrderBus } from '../../src/adapters/order-bus/memory-order-bus.ts';
import { migrate } from '../../src/adapters/database/migrate.ts';
import { createPgliteDatabase } from '../../src/adapters/database/pglite-database.ts';
import type { Database } from '../../src/adapters/database/database.ts';
import { createSqlOrderStore } from '../../src/adapters/order-store/sql-order-store.ts';
import { createMemoryStockCache } from '../../src/adapters/stock-cache/memory-stock-cache.ts';
import { createOrders } from '../../src/core/create-orders.ts';
import type { OrderBus } from '../../src/core/ports/order-bus.ts';
import type { OrderStore } from '../../src/core/ports/order-store.ts';
import type { StockCache } from '../../src/core/ports/stock-cache.ts';
import type { Clock } from '../../src/core/ports/timers.ts';
import type { NewSeckillGood, OrderMessage, SeckillGood, SeckillResult } from '../../src/core/model.ts';
import { systemTimers } from '../../src/adapters/timers/system-timers.ts';
import type { Timers } from '../../src/core/ports/timers.ts';

export const PAY_TIMEOUT_MS = 15 * 60_000;

export interface FakeClock extends Clock {
  advance(ms: number): void;
  set(at: Date): void;
}

/** A clock that moves only when told to. */
export function fakeClock(start = new Date('2030-01-01T10:00:00.000Z')): FakeClock {
  let t = start.getTime();
  return {
    now: () => new Date(t),
    advance: (ms) => void (t += ms),
    set: (at) => void (t = at.getTime()),
  };
}

/** The memory bus, with what was published on it kept for the test to read (deliveries stay asynchronous). */
export function recordingBus(bus: OrderBus = createMemoryOrderBus()) {
  const sent = { orders: [] as OrderMessage[][], results: [] as SeckillResult[][], stockAgain: [] as number[][] };
  const recorded: OrderBus & { sent: typeof sent } = {
    ...bus,
    sent,
    async publishOrders(messages) {
      await bus.publishOrders(messages);
      sent.orders.push([...messages]);
    },
    async publishResults(results) {
      await bus.publishResults(results);
      sent.results.push([...results]);
    },
    async broadcastStockAgain(ids) {
      await bus.broadcastStockAgain(ids);
      sent.stockAgain.push([...ids]);
    },
  };
  return recorded;
}

/** A cache whose named methods reject as a cache that is down would; the others pass through. */
export function failingCache(cache: StockCache, methods: readonly (keyof StockCache)[]): StockCache {
  const failing = { ...cache };
  for (const m of methods) (failing as Record<string, unknown>)[m] = () => Promise.reject(new Error(`cache down (${m})`));
  return failing;
}

export interface InProcessDb {
  db: Database;
  store: OrderStore;
  close(): Promise<void>;
}

export async function inProcessDatabase(): Promise<InProcessDb> {
  const db = await createPgliteDatabase();
  await migrate(db);
  return { db, store: createSqlOrderStore(db), close: () => db.close() };
}

const run = randomBytes(2).readUInt16BE() % 100;
let seq = 0;

/** Fresh buyers straight into the users table (orders reference them). */
export async function newBuyers(db: Database, n: number): Promise<number[]> {
  const phones = Array.from({ length: n }, () => `17${String(run).padStart(2, '0')}${String(++seq).padStart(7, '0')}`);
  const rows = await db.query<{ id: number }>(
    `INSERT INTO users (phone, nickname, password_hash, role) SELECT p, 'buyer', 'hash', 'user' FROM unnest($1::text[]) AS p RETURNING id`,
    [phones],
  );
  return rows.map((r) => r.id);
}

/** A sale open from an hour before `now` to an hour after it. */
export function newGood(store: OrderStore, now: Date, overrides: Partial<NewSeckillGood> = {}): Promise<SeckillGood> {
  return store.createGood({
    name: `good ${++seq}`,
    title: 'A fine thing',
    imageUrl: '/img/1.png',
    price: 19_900,
    seckillPrice: 990,
    stock: 10,
    startAt: new Date(now.getTime() - 3_600_000),
    endAt: new Date(now.getTime() + 3_600_000),
    ...overrides,
  });
}

export const newUuid = () => `u-${randomBytes(9).toString('base64url')}`;

export interface World {
  store: OrderStore;
  cache: StockCache;
  bus: ReturnType<typeof recordingBus>;
  clock: FakeClock;
  /** Deadlines (a charge's) run on the platform's timers: tests move the clock, not the waits. */
  timers: Timers;
}

export function newWorld(store: OrderStore): World {
  const clock = fakeClock();
  return { store, cache: createMemoryStockCache(), bus: recordingBus(createMemoryOrderBus({ now: () => clock.now().getTime() })), clock, timers: systemTimers };
}

/** The good's stock in the cache, loaded from the database. */
export async function loadGood(world: World, good: SeckillGood): Promise<void> {
  await world.cache.load(good.id, (await world.store.getGood(good.id))!.stock, await world.store.liveBuyers(good.id), { onlyIfMissing: false });
}

/** Reserve one unit per buyer in the cache, as the api does; returns the messages it would publish. */
export async function reserve(world: World, goodId: number, buyers: readonly number[]): Promise<OrderMessage[]> {
  const now = world.clock.now().getTime();
  const messages: OrderMessage[] = [];
  for (const userId of buyers) {
    const uuid = newUuid();
    const outcome = await world.cache.reserve(goodId, userId, uuid, now);
    if (outcome.kind !== 'RESERVED') throw new Error(`reserve for ${userId}: ${outcome.kind}`);
    messages.push({ uuid, userId, seckillGoodId: goodId, reservedAt: now });
  }
  return messages;
}

/** Buyers who reserved and whose requests the worker turned into UNPAID orders; their order numbers. */
export async function ordersOf(world: World, good: SeckillGood, buyers: readonly number[]): Promise<string[]> {
  if ((await world.cache.read(good.id)).preStock === null) await loadGood(world, good);
  const summary = await createOrders({ ...world, payTimeoutMs: PAY_TIMEOUT_MS }, await reserve(world, good.id, buyers));
  return summary.results.map((r) => {
    if (r.status !== 'SUCCESS') throw new Error(`no order: ${JSON.stringify(r)}`);
    return r.orderNo!;
  });
}
