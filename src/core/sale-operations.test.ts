import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failingCache, inProcessDatabase, loadGood, newBuyers, newGood, newUuid, newWorld, ordersOf, reserve, PAY_TIMEOUT_MS, type InProcessDb, type World } from '../../test/support/in-process.ts';
import { createOrders } from './create-orders.ts';
import { createOrderBatcher } from './order-batcher.ts';
import { placeOrder, type PlaceOrderDeps } from './place-order.ts';
import { reconcile } from './reconcile.ts';
import { editSale, restockSale, setSalePaused, type SaleOperationsDeps } from './sale-operations.ts';
import { createGoodsCatalog, type GoodsCatalog } from './sales.ts';
import { createSoldOutSigns } from './sold-out-signs.ts';
import type { SeckillGood } from './model.ts';
import type { OrderStore } from './ports/order-store.ts';
import { systemTimers } from '../adapters/timers/system-timers.ts';

let data: InProcessDb;
beforeAll(async () => {
  data = await inProcessDatabase();
});
afterAll(() => data.close());

const HOUR = 3_600_000;

/** One api process of the world: its own catalog and signs, kept up to date by the world's broadcasts as roles.ts does. */
async function apiProcess(world: World, store: OrderStore = world.store) {
  const catalog = createGoodsCatalog(store, world.clock);
  const signs = createSoldOutSigns(world.clock, 60_000);
  await world.bus.subscribeSalesChanged((goods) => catalog.apply(goods));
  await world.bus.subscribeStockAgain((ids) => ids.forEach((id) => signs.clear(id)));
  const buy: PlaceOrderDeps = {
    catalog, signs, cache: world.cache, store: world.store, clock: world.clock,
    orders: createOrderBatcher({ bus: world.bus, cache: world.cache, timers: systemTimers }, { maxOrders: 100, maxWaitMs: 0 }),
  };
  const admin: SaleOperationsDeps = { store, cache: world.cache, bus: world.bus, catalog, clock: world.clock };
  return { catalog, signs, buy, admin, press: (userId: number, good: SeckillGood) => placeOrder(buy, { userId, seckillGoodId: good.id, uuid: newUuid() }) };
}

/** Until every broadcast sent so far has reached its subscribers (the memory bus delivers on setImmediate). */
const delivered = () => new Promise((r) => setImmediate(r));

async function saleOf(world: World, stock: number, startsInMs: number): Promise<SeckillGood> {
  const startAt = new Date(world.clock.now().getTime() + startsInMs);
  const good = await newGood(world.store, world.clock.now(), { stock, startAt, endAt: new Date(startAt.getTime() + HOUR) });
  await loadGood(world, good);
  return good;
}

describe('editing a sale', () => {
  it('before the start → prices, names and the start change, every process applies them at once; from the start on → ALREADY_STARTED, after the end → ENDED', async () => {
    const world = newWorld(data.store);
    const good = await saleOf(world, 5, 60_000);
    const here = await apiProcess(world);
    const there = await apiProcess(world);
    await there.catalog.list();

    const edited = await editSale(here.admin, good.id, { seckillPrice: 500, name: 'Right price', startAt: new Date(good.startAt.getTime() + 1000) });
    expect(edited).toMatchObject({ seckillPrice: 500, name: 'Right price', stock: 5, revision: 2 });
    await delivered();
    expect(await there.catalog.get(good.id)).toMatchObject({ seckillPrice: 500, name: 'Right price', revision: 2 });

    world.clock.advance(61_000);
    await expect(editSale(here.admin, good.id, { seckillPrice: 1 })).rejects.toMatchObject({ code: 'ALREADY_STARTED' });
    await expect(editSale(here.admin, good.id, { title: 'x', endAt: new Date(world.clock.now().getTime() + HOUR) })).rejects.toMatchObject({ code: 'ALREADY_STARTED' });
    world.clock.advance(2 * HOUR);
    await expect(editSale(here.admin, good.id, { price: 1 })).rejects.toMatchObject({ code: 'ENDED' });
    expect(await data.store.getGood(good.id)).toMatchObject({ seckillPrice: 500, price: good.price, revision: 2 });
  });

  it('the price an order carries is the one shown while the sale ran, whatever was edited before its start', async () => {
    const world = newWorld(data.store);
    const good = await saleOf(world, 3, 60_000);
    const here = await apiProcess(world);
    await editSale(here.admin, good.id, { seckillPrice: 700, price: 1400 });
    world.clock.advance(60_000);
    const [buyer] = await newBuyers(data.db, 1);
    const [orderNo] = await ordersOf(world, good, [buyer!]);
    expect(await data.store.getOrder(orderNo!)).toMatchObject({ seckillPrice: 700 });
  });

  it('the end may change at any time: later keeps the sale on, at or before now ends it on every process, also before its start', async () => {
    const world = newWorld(data.store);
    const running = await saleOf(world, 5, -1000);
    const unstarted = await saleOf(world, 5, 60_000);
    const here = await apiProcess(world);
    const there = await apiProcess(world);
    const [a, b] = await newBuyers(data.db, 2);

    const later = new Date(running.endAt.getTime() + HOUR);
    expect(await editSale(here.admin, running.id, { endAt: later })).toMatchObject({ endAt: later });
    expect(await there.press(a!, running)).toMatchObject({ kind: 'ACCEPTED', status: 'QUEUED' });

    const ended = await editSale(here.admin, running.id, { endAt: new Date(0) });
    expect(ended.endAt).toEqual(world.clock.now());
    await delivered();
    expect(await there.press(b!, running)).toMatchObject({ kind: 'REJECTED', code: 'ENDED' });

    const endedEarly = await editSale(here.admin, unstarted.id, { endAt: world.clock.now() });
    expect(endedEarly.startAt < endedEarly.endAt).toBe(true);
    world.clock.advance(60_000);
    await delivered();
    expect(await there.press(b!, unstarted)).toMatchObject({ kind: 'REJECTED', code: 'ENDED' });
  });

  it('an edit that would end before its start, or price the sale above its price → INVALID_INPUT, nothing changed', async () => {
    const world = newWorld(data.store);
    const good = await saleOf(world, 5, 60_000);
    const { admin } = await apiProcess(world);
    await expect(editSale(admin, good.id, { endAt: new Date(good.startAt.getTime() - 1) })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(editSale(admin, good.id, { seckillPrice: good.price + 1 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(editSale(admin, 987_654_321, { name: 'x' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await data.store.getGood(good.id)).toMatchObject({ revision: 1 });
  });

  it('a start that passed since the sale was read (another admin moved it) → ALREADY_STARTED, the price untouched', async () => {
    const world = newWorld(data.store);
    const good = await saleOf(world, 5, 60_000);
    await data.store.editGood(good.id, { startAt: new Date(world.clock.now().getTime() - 1) }, {});
    // This admin read the sale before the move: it still sees the start ahead.
    const stale: OrderStore = { ...data.store, getGood: async (id) => (id === good.id ? good : data.store.getGood(id)) };
    const { admin } = await apiProcess(world, stale);
    await expect(editSale(admin, good.id, { seckillPrice: 1 })).rejects.toMatchObject({ code: 'ALREADY_STARTED' });
    expect(await data.store.getGood(good.id)).toMatchObject({ seckillPrice: good.seckillPrice });
  });
});

describe('pausing a sale', () => {
  it('paused → PAUSED on every process with no cache call, accepted reservations still become orders; resumed → QUEUED again', async () => {
    const world = newWorld(data.store);
    const good = await saleOf(world, 10, -1000);
    const here = await apiProcess(world);
    const there = await apiProcess(world);
    const [a, b, c] = await newBuyers(data.db, 3);
    const accepted = await reserve(world, good.id, [a!]);

    expect(await setSalePaused(here.admin, good.id, true)).toMatchObject({ paused: true, stock: 9 });
    await delivered();
    const reserves = world.cache.reserve;
    world.cache.reserve = () => Promise.reject(new Error('a paused sale must not reach the cache'));
    expect(await here.press(b!, good)).toMatchObject({ kind: 'REJECTED', code: 'PAUSED' });
    expect(await there.press(b!, good)).toMatchObject({ kind: 'REJECTED', code: 'PAUSED' });
    world.cache.reserve = reserves;

    const summary = await createOrders({ ...world, payTimeoutMs: PAY_TIMEOUT_MS }, accepted);
    expect(summary.results.map((r) => r.status)).toEqual(['SUCCESS']);

    expect(await setSalePaused(here.admin, good.id, false)).toMatchObject({ paused: false });
    await delivered();
    expect(await there.press(c!, good)).toMatchObject({ kind: 'ACCEPTED', status: 'QUEUED' });
  });

  it('a process that missed the broadcast learns the pause from the database at its next refresh; one started later knows it at once', async () => {
    const world = newWorld(data.store);
    const good = await saleOf(world, 10, -1000);
    const deaf = createGoodsCatalog(data.store, world.clock, 5000);
    expect(await deaf.get(good.id)).toMatchObject({ paused: false });
    const { admin } = await apiProcess(world);
    await setSalePaused(admin, good.id, true);
    world.clock.advance(5001);
    await deaf.get(good.id); // a stale list answers while the refresh runs
    await expect.poll(async () => (await deaf.get(good.id))?.paused).toBe(true);
    expect(await createGoodsCatalog(data.store, world.clock).get(good.id)).toMatchObject({ paused: true });
  });

  it('a refresh read before a pause and landing after its broadcast keeps the pause (the higher revision wins)', async () => {
    const world = newWorld(data.store);
    const good = await saleOf(world, 10, -1000);
    let release!: () => void;
    const slowList: Pick<OrderStore, 'listGoods'> = {
      listGoods: async () => {
        const list = await data.store.listGoods();
        await new Promise<void>((r) => (release = r));
        return list;
      },
    };
    const catalog: GoodsCatalog = createGoodsCatalog(slowList, world.clock);
    const first = catalog.get(good.id);
    await expect.poll(() => release !== undefined).toBe(true);
    const paused = await data.store.setPaused(good.id, true);
    catalog.apply([paused!]);
    release();
    expect(await first).toMatchObject({ paused: true, revision: 2 });
    catalog.apply([{ ...paused!, paused: false, revision: 1 }]);
    expect(await catalog.get(good.id)).toMatchObject({ paused: true });
  });
});

describe('restocking a sale', () => {
  it('a sold-out sale + n → database and cache both grow by exactly n, the sold-out signs clear on every process, n more buyers win', async () => {
    const world = newWorld(data.store);
    const good = await saleOf(world, 2, -1000);
    const here = await apiProcess(world);
    const there = await apiProcess(world);
    const buyers = await newBuyers(data.db, 6);
    await ordersOf(world, good, buyers.slice(0, 2));
    expect(await there.press(buyers[2]!, good)).toMatchObject({ code: 'SOLD_OUT' });
    expect(there.signs.isSet(good.id)).toBe(true);

    const stats = await restockSale(here.admin, good.id, 3);
    expect(stats).toMatchObject({ stock: 3, preStock: 3 });
    expect(await data.store.getGood(good.id)).toMatchObject({ stock: 3, initialStock: 5 });
    await delivered();
    expect(there.signs.isSet(good.id)).toBe(false);
    const outcomes = await Promise.all(buyers.slice(2).map((b) => there.press(b, good)));
    expect(outcomes.filter((o) => o.kind === 'ACCEPTED')).toHaveLength(3);
  });

  it('an ended sale → ENDED, an unknown one → NOT_FOUND, nothing added', async () => {
    const world = newWorld(data.store);
    const good = await saleOf(world, 2, -1000);
    const { admin } = await apiProcess(world);
    world.clock.advance(2 * HOUR);
    await expect(restockSale(admin, good.id, 1)).rejects.toMatchObject({ code: 'ENDED' });
    await expect(restockSale(admin, 987_654_321, 1)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await data.store.getGood(good.id)).toMatchObject({ stock: 2, initialStock: 2 });
  });

  it('a cache that fails after the database took the units → UNAVAILABLE saying so, an alert, and the stock sync brings the cache up to the database at rest', async () => {
    const world = newWorld(data.store);
    const good = await saleOf(world, 2, -1000);
    const { admin } = await apiProcess(world);
    const broken = { ...admin, cache: failingCache(world.cache, ['addUnits']) };
    await expect(restockSale(broken, good.id, 4)).rejects.toMatchObject({ code: 'UNAVAILABLE', details: { databaseRestocked: true, units: 4 } });
    expect(await data.store.getGood(good.id)).toMatchObject({ stock: 6 });
    expect(await world.cache.read(good.id)).toEqual({ preStock: 2, inFlight: 0 });
    expect(await world.bus.takeAlerts(10)).toMatchObject([{ kind: 'RESTOCK_CACHE_BEHIND', seckillGoodId: good.id }]);

    const scoped: OrderStore = { ...data.store, listGoods: async () => [(await data.store.getGood(good.id))!] };
    await reconcile({ ...world, store: scoped, payments: { findCharge: async () => null, refund: async () => ({ refundId: 'r' }) }, graceMs: 1000 });
    expect(await world.cache.read(good.id)).toEqual({ preStock: 6, inFlight: 0 });
  });

  it('a good not in the cache (flushed) → the database holds the units and the cache is loaded with them', async () => {
    const world = newWorld(data.store);
    const good = await saleOf(world, 2, -1000);
    const { admin } = await apiProcess(world);
    await world.cache.forget(good.id);
    expect(await restockSale(admin, good.id, 3)).toMatchObject({ stock: 5, preStock: 5 });
  });
});
