import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inProcessDatabase, loadGood, newBuyers, newGood, newUuid, newWorld, ordersOf, type InProcessDb, type World } from '../../test/support/in-process.ts';
import { createGoodsCatalog } from './sales.ts';
import { closeOrders } from './close-orders.ts';
import { createOrders } from './create-orders.ts';
import { createOrderBatcher } from './order-batcher.ts';
import { placeOrder, type PlaceOrderDeps } from './place-order.ts';
import type { OrderBus } from './ports/order-bus.ts';
import type { StockCache } from './ports/stock-cache.ts';
import type { SeckillGood } from './model.ts';
import { createSoldOutSigns } from './sold-out-signs.ts';
import { SeckillError } from './errors.ts';
import { systemTimers } from '../adapters/timers/system-timers.ts';

let data: InProcessDb;
beforeAll(async () => {
  data = await inProcessDatabase();
});
afterAll(() => data.close());

/** The api's place-order wiring on a world: catalog, signs and a batcher publishing at the end of each turn. */
function api(world: World, opts: { cache?: StockCache; bus?: Pick<OrderBus, 'publishOrders'> } = {}): PlaceOrderDeps {
  const cache = opts.cache ?? world.cache;
  return {
    catalog: createGoodsCatalog(world.store, world.clock),
    signs: createSoldOutSigns(world.clock, 1000),
    cache,
    orders: createOrderBatcher({ bus: opts.bus ?? world.bus, cache, timers: systemTimers }, { maxOrders: 100, maxWaitMs: 0 }),
    store: world.store,
    clock: world.clock,
  };
}

/** A cache that counts the reservations asked of it. */
function countingCache(cache: StockCache) {
  const counted = { ...cache, reserves: 0 };
  counted.reserve = (...args) => (counted.reserves++, cache.reserve(...args));
  return counted;
}

async function saleOf(world: World, stock: number, window: { startsInMs?: number; lastsMs?: number } = {}): Promise<SeckillGood> {
  const now = world.clock.now().getTime();
  const startAt = new Date(now + (window.startsInMs ?? -60_000));
  const good = await newGood(world.store, world.clock.now(), { stock, startAt, endAt: new Date(startAt.getTime() + (window.lastsMs ?? 3_600_000)) });
  await loadGood(world, good);
  return good;
}

describe('placing an order', () => {
  it('before the sale starts → NOT_STARTED; once the clock reaches the start → QUEUED', async () => {
    const world = newWorld(data.store);
    const good = await saleOf(world, 5, { startsInMs: 60_000 });
    const [buyer] = await newBuyers(data.db, 1);
    const deps = api(world);
    const req = { userId: buyer!, seckillGoodId: good.id, uuid: newUuid() };
    expect(await placeOrder(deps, req)).toMatchObject({ kind: 'REJECTED', code: 'NOT_STARTED' });
    expect(await world.cache.read(good.id)).toEqual({ preStock: 5, inFlight: 0 });
    world.clock.advance(60_000);
    expect(await placeOrder(deps, req)).toEqual({ kind: 'ACCEPTED', uuid: req.uuid, status: 'QUEUED', repeat: false });
    expect(await world.cache.read(good.id)).toEqual({ preStock: 4, inFlight: 1 });
  });

  it('the limits are asked only for a press that would reach the cache: refused → RATE_LIMITED with the wait, nothing taken; sold-out and ended answers cost no limiter call', async () => {
    const world = newWorld(data.store);
    const good = await saleOf(world, 1, { lastsMs: 120_000 });
    const [a, b, c] = await newBuyers(data.db, 3);
    const asked: [string, number][] = [];
    let wait = 0;
    const cache = countingCache(world.cache);
    const deps = { ...api(world, { cache }), limits: { beforeBuy: async (ip: string, userId: number) => (asked.push([ip, userId]), wait) } };
    wait = 3;
    expect(await placeOrder(deps, { userId: a!, seckillGoodId: good.id, uuid: newUuid(), ip: '10.0.0.1' })).toMatchObject({ kind: 'REJECTED', code: 'RATE_LIMITED', retryAfterSeconds: 3 });
    expect(cache.reserves).toBe(0);
    expect(await world.cache.read(good.id)).toEqual({ preStock: 1, inFlight: 0 });
    wait = 0;
    expect(await placeOrder(deps, { userId: a!, seckillGoodId: good.id, uuid: newUuid(), ip: '10.0.0.1' })).toMatchObject({ kind: 'ACCEPTED', status: 'QUEUED' });
    expect(asked).toEqual([['10.0.0.1', a], ['10.0.0.1', a]]);
    // The last unit set the sold-out sign: sold-out answers, like an ended sale's, ask no limiter.
    expect(await placeOrder(deps, { userId: b!, seckillGoodId: good.id, uuid: newUuid(), ip: '10.0.0.2' })).toMatchObject({ code: 'SOLD_OUT' });
    expect(await placeOrder(deps, { userId: c!, seckillGoodId: good.id, uuid: newUuid(), ip: '10.0.0.3' })).toMatchObject({ code: 'SOLD_OUT' });
    world.clock.advance(60_000);
    expect(await placeOrder(deps, { userId: c!, seckillGoodId: good.id, uuid: newUuid(), ip: '10.0.0.3' })).toMatchObject({ code: 'ENDED' });
    expect(asked).toHaveLength(2);
  });

  it('once the clock reaches the end of the sale → ENDED, nothing taken', async () => {
    const world = newWorld(data.store);
    const good = await saleOf(world, 5, { startsInMs: -1000, lastsMs: 2000 });
    const [buyer] = await newBuyers(data.db, 1);
    const deps = api(world);
    world.clock.advance(1000);
    expect(await placeOrder(deps, { userId: buyer!, seckillGoodId: good.id, uuid: newUuid() })).toMatchObject({ kind: 'REJECTED', code: 'ENDED' });
    expect(await world.cache.read(good.id)).toEqual({ preStock: 5, inFlight: 0 });
    expect(world.bus.sent.orders).toEqual([]);
  });

  it('an unknown good → NOT_FOUND', async () => {
    const world = newWorld(data.store);
    const [buyer] = await newBuyers(data.db, 1);
    expect(await placeOrder(api(world), { userId: buyer!, seckillGoodId: 987_654_321, uuid: newUuid() })).toMatchObject({ kind: 'REJECTED', code: 'NOT_FOUND' });
  });

  it('the last unit sets the sold-out sign: the next buyer hears SOLD_OUT with no cache call, until the sign expires', async () => {
    const world = newWorld(data.store);
    const good = await saleOf(world, 1);
    const [a, b] = await newBuyers(data.db, 2);
    const cache = countingCache(world.cache);
    const deps = api(world, { cache });
    expect(await placeOrder(deps, { userId: a!, seckillGoodId: good.id, uuid: newUuid() })).toMatchObject({ status: 'QUEUED' });
    expect(cache.reserves).toBe(1);
    expect(await placeOrder(deps, { userId: b!, seckillGoodId: good.id, uuid: newUuid() })).toMatchObject({ kind: 'REJECTED', code: 'SOLD_OUT' });
    expect(cache.reserves).toBe(1);
    world.clock.advance(1001);
    expect(await placeOrder(deps, { userId: b!, seckillGoodId: good.id, uuid: newUuid() })).toMatchObject({ kind: 'REJECTED', code: 'SOLD_OUT' });
    expect(cache.reserves).toBe(2);
  });

  it('a publish that fails → the unit is back in the cache before the buyer hears UNAVAILABLE, and the buyer may try again', async () => {
    const world = newWorld(data.store);
    const good = await saleOf(world, 1);
    const [buyer] = await newBuyers(data.db, 1);
    let down = true;
    const bus = { publishOrders: (m: Parameters<OrderBus['publishOrders']>[0]) => (down ? Promise.reject(new Error('broker down')) : world.bus.publishOrders(m)) };
    const deps = api(world, { bus });
    const req = { userId: buyer!, seckillGoodId: good.id, uuid: newUuid() };
    await expect(placeOrder(deps, req)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(await world.cache.read(good.id)).toEqual({ preStock: 1, inFlight: 0 });
    // The last unit went back, so no sold-out sign hides it.
    expect(deps.signs.isSet(good.id)).toBe(false);
    down = false;
    expect(await placeOrder(deps, req)).toMatchObject({ kind: 'ACCEPTED', status: 'QUEUED', repeat: false });
    expect(world.bus.sent.orders.flat().map((m) => m.uuid)).toEqual([req.uuid]);
  });

  it('a reserve whose answer timed out but which ran (a stalled cache) → UNAVAILABLE, and the unit it took comes back: the buyer is not locked out', async () => {
    const world = newWorld(data.store);
    const good = await saleOf(world, 5);
    const [buyer] = await newBuyers(data.db, 1);
    const stalled: StockCache = {
      ...world.cache,
      reserve: async (...args) => {
        await world.cache.reserve(...args); // it runs there…
        throw new SeckillError('UNAVAILABLE', 'The stock cache (Redis) is unavailable.: Command timed out'); // …the answer never comes here
      },
    };
    const req = { userId: buyer!, seckillGoodId: good.id, uuid: newUuid() };
    await expect(placeOrder(api(world, { cache: stalled }), req)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await new Promise((r) => setImmediate(r));
    expect(await world.cache.read(good.id)).toEqual({ preStock: 5, inFlight: 0 });
    expect(world.bus.sent.orders).toEqual([]);
    expect(await placeOrder(api(world), { ...req, uuid: newUuid() })).toMatchObject({ kind: 'ACCEPTED', status: 'QUEUED' });
  });

  it('a repeat of the same uuid while queued republishes it and never takes a second unit', async () => {
    const world = newWorld(data.store);
    const good = await saleOf(world, 5);
    const [buyer] = await newBuyers(data.db, 1);
    const deps = api(world);
    const req = { userId: buyer!, seckillGoodId: good.id, uuid: newUuid() };
    expect(await placeOrder(deps, req)).toMatchObject({ status: 'QUEUED', repeat: false });
    expect(await placeOrder(deps, req)).toEqual({ kind: 'ACCEPTED', uuid: req.uuid, status: 'QUEUED', repeat: true });
    expect(world.bus.sent.orders.flat().map((m) => m.uuid)).toEqual([req.uuid, req.uuid]);
    expect(await world.cache.read(good.id)).toEqual({ preStock: 4, inFlight: 1 });
  });

  it('a repeat whose republish fails → UNAVAILABLE, never QUEUED, and nothing given back (the first publish may be on its way)', async () => {
    const world = newWorld(data.store);
    const good = await saleOf(world, 5);
    const [buyer] = await newBuyers(data.db, 1);
    let down = false;
    const bus = { publishOrders: (m: Parameters<OrderBus['publishOrders']>[0]) => (down ? Promise.reject(new Error('broker down')) : world.bus.publishOrders(m)) };
    const deps = api(world, { bus });
    const req = { userId: buyer!, seckillGoodId: good.id, uuid: newUuid() };
    await placeOrder(deps, req);
    down = true;
    await expect(placeOrder(deps, req)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(await world.cache.read(good.id)).toEqual({ preStock: 4, inFlight: 1 });
    down = false;
    expect(await placeOrder(deps, req)).toMatchObject({ kind: 'ACCEPTED', status: 'QUEUED', repeat: true });
    expect(await world.cache.read(good.id)).toEqual({ preStock: 4, inFlight: 1 });
  });

  it('a repeat after the worker decided answers the stored result (SUCCESS and its order number), taking nothing', async () => {
    const world = newWorld(data.store);
    const good = await saleOf(world, 5);
    const [buyer] = await newBuyers(data.db, 1);
    const deps = api(world);
    const req = { userId: buyer!, seckillGoodId: good.id, uuid: newUuid() };
    await placeOrder(deps, req);
    const [decided] = (await createOrders({ ...world, payTimeoutMs: 60_000 }, world.bus.sent.orders.flat())).results;
    expect(await placeOrder(deps, req)).toEqual({ kind: 'ACCEPTED', uuid: req.uuid, status: 'SUCCESS', orderNo: decided!.orderNo, repeat: true });
    expect(await world.cache.read(good.id)).toEqual({ preStock: 4, inFlight: 0 });
  });

  it('the same buyer with another uuid → DUPLICATE_ORDER, nothing taken', async () => {
    const world = newWorld(data.store);
    const good = await saleOf(world, 5);
    const [buyer] = await newBuyers(data.db, 1);
    const deps = api(world);
    await placeOrder(deps, { userId: buyer!, seckillGoodId: good.id, uuid: newUuid() });
    expect(await placeOrder(deps, { userId: buyer!, seckillGoodId: good.id, uuid: newUuid() })).toMatchObject({ kind: 'REJECTED', code: 'DUPLICATE_ORDER' });
    expect(await world.cache.read(good.id)).toEqual({ preStock: 4, inFlight: 1 });
  });

  it("another buyer's uuid still held → DUPLICATE_ORDER, nothing taken, nothing published", async () => {
    const world = newWorld(data.store);
    const good = await saleOf(world, 5);
    const [a, b] = await newBuyers(data.db, 2);
    const deps = api(world);
    const uuid = newUuid();
    await placeOrder(deps, { userId: a!, seckillGoodId: good.id, uuid });
    expect(await placeOrder(deps, { userId: b!, seckillGoodId: good.id, uuid })).toMatchObject({ kind: 'REJECTED', code: 'DUPLICATE_ORDER' });
    expect(await world.cache.read(good.id)).toEqual({ preStock: 4, inFlight: 1 });
    expect(world.bus.sent.orders.flat()).toHaveLength(1);
  });

  it('a good the cache lost is loaded again from the database (stock and live buyers) before the reservation', async () => {
    const world = newWorld(data.store);
    const good = await saleOf(world, 5);
    const [holder, closer, fresh] = await newBuyers(data.db, 3);
    const [, closedOrder] = await ordersOf(world, good, [holder!, closer!]);
    await closeOrders(world, [closedOrder!], 'CANCELLED');
    await world.cache.forget(good.id);
    const deps = api(world);
    expect(await placeOrder(deps, { userId: holder!, seckillGoodId: good.id, uuid: newUuid() })).toMatchObject({ kind: 'REJECTED', code: 'DUPLICATE_ORDER' });
    expect(await placeOrder(deps, { userId: fresh!, seckillGoodId: good.id, uuid: newUuid() })).toMatchObject({ status: 'QUEUED' });
    expect(await world.cache.read(good.id)).toEqual({ preStock: 3, inFlight: 1 });
  });

  it('a good the cache will not take (still not loaded after the load) → UNAVAILABLE, nothing published', async () => {
    const world = newWorld(data.store);
    const good = await newGood(data.store, world.clock.now(), { stock: 5 });
    const [buyer] = await newBuyers(data.db, 1);
    const deps = api(world, { cache: { ...world.cache, load: async () => false } });
    await expect(placeOrder(deps, { userId: buyer!, seckillGoodId: good.id, uuid: newUuid() })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(world.bus.sent.orders).toEqual([]);
  });
});
