/**
 * The reconciler's expiry after outages, on the in-process adapters with a clock the test moves: a
 * reservation whose message waits through an outage is late, not lost, and must not be told FAIL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDatabase } from '../adapters/database/pglite-database.ts';
import { migrate } from '../adapters/database/migrate.ts';
import { createMemoryOrderBus } from '../adapters/order-bus/memory-order-bus.ts';
import { createSqlOrderStore } from '../adapters/order-store/sql-order-store.ts';
import { createSimulatedPaymentProvider } from '../adapters/payment/simulated-payment-provider.ts';
import { createMemoryStockCache } from '../adapters/stock-cache/memory-stock-cache.ts';
import type { Database } from '../adapters/database/database.ts';
import { createOutageWatch } from './outage-watch.ts';
import { reconcile, type ReconcileDeps } from './reconcile.ts';

const GRACE_MS = 60_000;
const T0 = Date.parse('2030-01-01T10:00:00.000Z');

describe('reconciler expiry and outages', () => {
  let db: Database;
  beforeAll(async () => {
    db = await createPgliteDatabase();
    await migrate(db);
  });
  afterAll(() => db.close());

  async function setup() {
    let now = T0;
    const clock = { now: () => new Date(now) };
    const store = createSqlOrderStore(db);
    const cache = createMemoryStockCache();
    const bus = createMemoryOrderBus({ payTimeoutMs: 900_000 });
    const good = await store.createGood({ name: 'g', title: '', imageUrl: '', price: 100, seckillPrice: 50, stock: 5, startAt: new Date(T0 - 1000), endAt: new Date(T0 + 86_400_000) });
    await cache.load(good.id, 5, [], { onlyIfMissing: false });
    const [user] = await db.query<{ id: number }>(`INSERT INTO users (phone, nickname, password_hash, role) VALUES ($1, 'b', 'h', 'user') RETURNING id`, [`1${String(good.id).padStart(10, '0')}`]);
    const uuid = `late-${good.id}`;
    expect(await cache.reserve(good.id, user!.id, uuid, T0)).toMatchObject({ kind: 'RESERVED' });
    const outages = createOutageWatch(clock);
    const deps: ReconcileDeps = { store, cache, bus, clock, payments: createSimulatedPaymentProvider(), graceMs: GRACE_MS, outages };
    return { deps, store, cache, bus, good, uuid, outages, at: (ms: number) => (now = T0 + ms) };
  }

  it('an outage seen within the grace period → the reservation is left alone; a grace period of health later → EXPIRED, unit back', async () => {
    const { deps, store, cache, good, uuid, outages, at } = await setup();
    at(GRACE_MS / 2);
    outages.noteOutage();
    at(GRACE_MS + 1000);
    const deferred = await reconcile(deps);
    expect(deferred).toMatchObject({ reservationsExpired: 0, expiriesDeferred: 1 });
    expect(await store.getResult(uuid)).toBeNull();
    expect((await cache.read(good.id)).inFlight).toBe(1);

    at(GRACE_MS / 2 + GRACE_MS + 1);
    const expired = await reconcile(deps);
    expect(expired).toMatchObject({ reservationsExpired: 1, expiriesDeferred: 0 });
    expect(await store.getResult(uuid)).toMatchObject({ status: 'FAIL', reason: 'EXPIRED' });
    expect(await cache.read(good.id)).toEqual({ preStock: 5, inFlight: 0 });
  });

  it('a broker that does not answer → nothing expires in that run, nor for a grace period after', async () => {
    const { deps, store, bus, uuid, at } = await setup();
    at(2 * GRACE_MS);
    const down = { ...deps, bus: { ...bus, ping: () => Promise.reject(new Error('broker down')) } };
    expect(await reconcile(down)).toMatchObject({ reservationsExpired: 0, expiriesDeferred: 1 });
    at(2 * GRACE_MS + GRACE_MS / 2);
    expect(await reconcile(deps)).toMatchObject({ reservationsExpired: 0, expiriesDeferred: 1 });
    expect(await store.getResult(uuid)).toBeNull();
    at(3 * GRACE_MS + 1);
    expect(await reconcile(deps)).toMatchObject({ reservationsExpired: 1 });
  });

  it('a message that arrives while the expiry waits → its order stands, the reconciler only settles it', async () => {
    const { deps, store, cache, good, uuid, outages, at } = await setup();
    at(GRACE_MS);
    outages.noteOutage();
    at(GRACE_MS + 5000);
    expect(await reconcile(deps)).toMatchObject({ expiriesDeferred: 1 });
    const [user] = (await cache.reservations(good.id)).map((r) => r.userId);
    const [made] = await store.createOrders([{ uuid, userId: user!, seckillGoodId: good.id, reservedAt: T0 }], { now: new Date(T0 + GRACE_MS + 6000), payTimeoutMs: 900_000, makeOrderNo: () => `LATE${good.id}` });
    expect(made!.result.status).toBe('SUCCESS');
    expect(await reconcile(deps)).toMatchObject({ reservationsSettled: 1, reservationsExpired: 0 });
    expect(await cache.read(good.id)).toEqual({ preStock: 4, inFlight: 0 });
  });
});
