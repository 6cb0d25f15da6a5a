/**
 * The reconciler expires a reservation only when no message for it can still arrive, on the in-process
 * adapters with a clock the test moves: a message waiting in the queue, or in a worker's hands (frozen, cut
 * off, waiting out a database outage), holds the expiry back however long it takes; a reservation whose
 * message was never sent expires once the queue has held nothing since its grace period ended.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryOrderBus } from '../adapters/order-bus/memory-order-bus.ts';
import { createSimulatedPaymentProvider } from '../adapters/payment/simulated-payment-provider.ts';
import { createMemoryStockCache } from '../adapters/stock-cache/memory-stock-cache.ts';
import { fakeClock, inProcessDatabase, newBuyers, newGood, type InProcessDb } from '../../test/support/in-process.ts';
import type { OrderMessage } from './model.ts';
import type { OrderBus } from './ports/order-bus.ts';
import { reconcile, type ReconcileDeps } from './reconcile.ts';

const GRACE_MS = 60_000;

describe('reconciler expiry', () => {
  let data: InProcessDb;
  beforeAll(async () => {
    data = await inProcessDatabase();
  });
  afterAll(() => data.close());

  async function setup() {
    const clock = fakeClock();
    const t0 = clock.now().getTime();
    const { store, db } = data;
    const cache = createMemoryStockCache();
    const bus = createMemoryOrderBus({ payTimeoutMs: 900_000, now: () => clock.now().getTime() });
    const good = await newGood(store, clock.now(), { stock: 5 });
    await cache.load(good.id, 5, [], { onlyIfMissing: false });
    const [userId] = await newBuyers(db, 1);
    const uuid = `late-${good.id}-${t0}`;
    expect(await cache.reserve(good.id, userId!, uuid, t0)).toMatchObject({ kind: 'RESERVED' });
    const message: OrderMessage = { uuid, userId: userId!, seckillGoodId: good.id, reservedAt: t0 };
    const scoped = { ...store, listGoods: async () => (await store.listGoods()).filter((g) => g.id === good.id) };
    const deps: ReconcileDeps = { store: scoped, cache, bus, clock, payments: createSimulatedPaymentProvider(), graceMs: GRACE_MS };
    return { deps, store, cache, bus, good, uuid, message, clock };
  }

  it('a reservation whose message was never sent → FAIL EXPIRED once its grace period is over and the queue is empty, unit back', async () => {
    const { deps, store, cache, good, uuid, clock } = await setup();
    clock.advance(GRACE_MS - 1);
    expect(await reconcile(deps)).toMatchObject({ reservationsExpired: 0 });
    clock.advance(1);
    expect(await reconcile(deps)).toMatchObject({ reservationsExpired: 1, reservationsReleased: 1 });
    expect(await store.getResult(uuid)).toMatchObject({ status: 'FAIL', reason: 'EXPIRED' });
    expect(await cache.read(good.id)).toEqual({ preStock: 5, inFlight: 0 });
  });

  it('its message waiting in the queue (no worker takes it, however long) → left alone; taken later → the order stands', async () => {
    const { deps, store, cache, bus, good, uuid, message, clock } = await setup();
    await bus.publishOrders([message]);
    clock.advance(10 * GRACE_MS);
    expect(await reconcile(deps)).toMatchObject({ reservationsExpired: 0, expiriesDeferred: 1 });
    expect(await store.getResult(uuid)).toBeNull();

    const sub = await bus.consumeOrders(async (batch) => {
      await store.createOrders(batch, { now: clock.now(), payTimeoutMs: 900_000, makeOrderNo: () => `LATE${good.id}` });
    });
    await until(async () => (await store.getResult(uuid)) !== null);
    await sub.close();
    expect(await reconcile(deps)).toMatchObject({ reservationsSettled: 1, reservationsExpired: 0 });
    expect(await store.getResult(uuid)).toMatchObject({ status: 'SUCCESS' });
    expect(await cache.read(good.id)).toEqual({ preStock: 4, inFlight: 0 });
  });

  it("its message in a worker's hands (frozen, cut off, waiting out an outage) → left alone until the worker lets go", async () => {
    const { deps, store, bus, uuid, message, clock } = await setup();
    let letGo!: () => void;
    const held = new Promise<void>((resolve) => (letGo = resolve));
    let taken = false;
    const sub = await bus.consumeOrders(async () => {
      taken = true;
      await held;
      throw new Error('worker cut off'); // the message goes back to the queue
    });
    await bus.publishOrders([message]);
    await until(async () => taken);
    clock.advance(10 * GRACE_MS);
    expect(await reconcile(deps)).toMatchObject({ reservationsExpired: 0, expiriesDeferred: 1 });
    const closing = sub.close(); // waits for the handler in hand
    letGo();
    await closing;
    // Back in the queue, with no worker: still not lost, still not expired.
    expect(await reconcile(deps)).toMatchObject({ reservationsExpired: 0, expiriesDeferred: 1 });
    expect(await store.getResult(uuid)).toBeNull();
  });

  it('a broker that cannot say when the queue was empty → nothing expires', async () => {
    const { deps, store, bus, uuid, clock } = await setup();
    clock.advance(10 * GRACE_MS);
    const blind: OrderBus = { ...bus, pendingDrainedAt: () => Promise.reject(new Error('broker down')) };
    expect(await reconcile({ ...deps, bus: blind })).toMatchObject({ reservationsExpired: 0, expiriesDeferred: 1 });
    expect(await store.getResult(uuid)).toBeNull();
  });

  it('the queue last empty before the grace period ended → left alone; empty after it → expired', async () => {
    const { deps, bus, clock } = await setup();
    clock.advance(GRACE_MS + 5000);
    const before: OrderBus = { ...bus, pendingDrainedAt: () => Promise.resolve(clock.now().getTime() - 5001) };
    expect(await reconcile({ ...deps, bus: before })).toMatchObject({ reservationsExpired: 0, expiriesDeferred: 1 });
    const after: OrderBus = { ...bus, pendingDrainedAt: () => Promise.resolve(clock.now().getTime() - 5000) };
    expect(await reconcile({ ...deps, bus: after })).toMatchObject({ reservationsExpired: 1 });
  });

  it('a repeat that lands while the reconciler runs (after it listed the reservations) → not expired', async () => {
    const { deps, store, cache, good, uuid, message, clock } = await setup();
    clock.advance(GRACE_MS + 1);
    const racing = {
      ...cache,
      reservations: async (id: number) => {
        const listed = await cache.reservations(id);
        await cache.reserve(good.id, message.userId, uuid, clock.now().getTime()); // the buyer's repeat
        return listed;
      },
    };
    expect(await reconcile({ ...deps, cache: racing })).toMatchObject({ reservationsExpired: 0 });
    expect(await store.getResult(uuid)).toBeNull();
  });

  it('a repeat of the request re-publishes it and starts its grace period again', async () => {
    const { deps, cache, good, uuid, message, clock } = await setup();
    clock.advance(GRACE_MS / 2);
    expect(await cache.reserve(good.id, message.userId, uuid, clock.now().getTime())).toMatchObject({ kind: 'ALREADY_RESERVED' });
    clock.advance(GRACE_MS / 2 + 1);
    expect(await reconcile(deps)).toMatchObject({ reservationsExpired: 0 });
    clock.advance(GRACE_MS / 2);
    expect(await reconcile(deps)).toMatchObject({ reservationsExpired: 1 });
  });
});

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error('condition never held');
}
