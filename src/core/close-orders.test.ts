import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAY_TIMEOUT_MS, failingCache, inProcessDatabase, newBuyers, newGood, newUuid, newWorld, ordersOf, type InProcessDb } from '../../test/support/in-process.ts';
import { closeOrders } from './close-orders.ts';
import { PAY } from './order-lifecycle.ts';

let data: InProcessDb;
beforeAll(async () => {
  data = await inProcessDatabase();
});
afterAll(() => data.close());

describe('closing orders', () => {
  it('closing gives each unit back to the database and the cache, forgets the buyers, and broadcasts stock-again once for the batch', async () => {
    const world = newWorld(data.store);
    const [g1, g2] = [await newGood(data.store, world.clock.now(), { stock: 3 }), await newGood(data.store, world.clock.now(), { stock: 3 })];
    const [a, b, c] = await newBuyers(data.db, 3);
    const orders = [...(await ordersOf(world, g1, [a!, b!])), ...(await ordersOf(world, g2, [c!]))];
    world.bus.sent.stockAgain.length = 0;

    const closed = await closeOrders(world, orders, 'TIMEOUT');

    expect(closed.map((o) => o.status)).toEqual(['TIMEOUT', 'TIMEOUT', 'TIMEOUT']);
    expect((await data.store.getGood(g1.id))!.stock).toBe(3);
    expect((await data.store.getGood(g2.id))!.stock).toBe(3);
    expect(await world.cache.read(g1.id)).toEqual({ preStock: 3, inFlight: 0 });
    expect(await world.cache.read(g2.id)).toEqual({ preStock: 3, inFlight: 0 });
    expect(world.bus.sent.stockAgain).toHaveLength(1);
    expect([...world.bus.sent.stockAgain[0]!].sort()).toEqual([g1.id, g2.id].sort());
    // Forgotten: the buyer may buy again.
    expect(await world.cache.reserve(g1.id, a!, newUuid(), 0)).toMatchObject({ kind: 'RESERVED' });
  });

  it('an order already closed or paid is left untouched: no stock, no cache unit, no broadcast', async () => {
    const world = newWorld(data.store);
    const good = await newGood(data.store, world.clock.now(), { stock: 3 });
    const [a, b] = await newBuyers(data.db, 2);
    const [cancelled, paid] = await ordersOf(world, good, [a!, b!]);
    await closeOrders(world, [cancelled!], 'CANCELLED');
    await data.store.applyTransition([paid!], PAY, world.clock.now());
    const before = { db: (await data.store.getGood(good.id))!.stock, cache: await world.cache.read(good.id) };
    world.bus.sent.stockAgain.length = 0;

    expect(await closeOrders(world, [cancelled!, paid!], 'TIMEOUT')).toEqual([]);

    expect((await data.store.getGood(good.id))!.stock).toBe(before.db);
    expect(await world.cache.read(good.id)).toEqual(before.cache);
    expect(world.bus.sent.stockAgain.flat()).toEqual([]);
    expect((await data.store.getOrder(cancelled!))!.status).toBe('CANCELLED');
    expect((await data.store.getOrder(paid!))!.status).toBe('PAID');
  });

  it('a timeout delivered twice returns the unit once', async () => {
    const world = newWorld(data.store);
    const good = await newGood(data.store, world.clock.now(), { stock: 2 });
    const [a] = await newBuyers(data.db, 1);
    const [order] = await ordersOf(world, good, [a!]);
    await closeOrders(world, [order!], 'TIMEOUT');
    await closeOrders(world, [order!], 'TIMEOUT');
    expect((await data.store.getGood(good.id))!.stock).toBe(2);
    expect((await world.cache.read(good.id)).preStock).toBe(2);
  });

  it('due-by: an order whose pay deadline is still ahead of the clock stays UNPAID; once the clock passes it, it closes', async () => {
    const world = newWorld(data.store);
    const good = await newGood(data.store, world.clock.now(), { stock: 2 });
    const [a] = await newBuyers(data.db, 1);
    const [order] = await ordersOf(world, good, [a!]);

    world.clock.advance(PAY_TIMEOUT_MS - 1);
    expect(await closeOrders(world, [order!], 'TIMEOUT', { onlyDueBy: world.clock.now() })).toEqual([]);
    expect((await data.store.getOrder(order!))!.status).toBe('UNPAID');
    expect((await world.cache.read(good.id)).preStock).toBe(1);

    world.clock.advance(1);
    expect((await closeOrders(world, [order!], 'TIMEOUT', { onlyDueBy: world.clock.now() })).map((o) => o.status)).toEqual(['TIMEOUT']);
    expect((await world.cache.read(good.id)).preStock).toBe(2);
  });

  it('a cache that cannot take the units back → the database keeps them, an alert is raised, and only the goods restocked are broadcast', async () => {
    const world = newWorld(data.store);
    const [g1, g2] = [await newGood(data.store, world.clock.now(), { stock: 2 }), await newGood(data.store, world.clock.now(), { stock: 2 })];
    const [a, b] = await newBuyers(data.db, 2);
    const [o1] = await ordersOf(world, g1, [a!]);
    const [o2] = await ordersOf(world, g2, [b!]);
    world.bus.sent.stockAgain.length = 0;
    const cache = { ...world.cache, restock: (goodId: number, users: readonly number[]) => (goodId === g1.id ? Promise.reject(new Error('cache down')) : world.cache.restock(goodId, users)) };

    expect(await closeOrders({ ...world, cache }, [o1!, o2!], 'CANCELLED')).toHaveLength(2);

    expect((await data.store.getGood(g1.id))!.stock).toBe(2);
    expect((await world.cache.read(g1.id)).preStock).toBe(1);
    expect((await world.cache.read(g2.id)).preStock).toBe(2);
    expect(await world.bus.takeAlerts(10)).toEqual([expect.objectContaining({ kind: 'CACHE_RESTOCK_FAILED', seckillGoodId: g1.id, details: { orderNos: [o1] } })]);
    expect(world.bus.sent.stockAgain).toEqual([[g2.id]]);
  });

  it('a cache down for every good → nothing broadcast, one alert per good', async () => {
    const world = newWorld(data.store);
    const good = await newGood(data.store, world.clock.now(), { stock: 3 });
    const buyers = await newBuyers(data.db, 2);
    const orders = await ordersOf(world, good, buyers);
    world.bus.sent.stockAgain.length = 0;
    await closeOrders({ ...world, cache: failingCache(world.cache, ['restock']) }, orders, 'TIMEOUT');
    expect((await world.bus.takeAlerts(10)).map((x) => x.kind)).toEqual(['CACHE_RESTOCK_FAILED']);
    expect(world.bus.sent.stockAgain.flat()).toEqual([]);
    expect((await data.store.getGood(good.id))!.stock).toBe(3);
  });
});
