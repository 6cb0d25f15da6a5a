import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAY_TIMEOUT_MS, failingCache, inProcessDatabase, loadGood, newBuyers, newGood, newWorld, reserve, type InProcessDb, type World } from '../../test/support/in-process.ts';
import { closeOrders } from './close-orders.ts';
import { createOrders, makeOrderNo, type CreateOrdersDeps } from './create-orders.ts';

describe('order numbers', () => {
  it('are 19 base36 characters, sort by their millisecond, and do not repeat', () => {
    const t = Date.UTC(2026, 11, 1);
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) seen.add(makeOrderNo(t));
    expect(seen.size).toBe(20_000);
    for (const no of seen) expect(no).toMatch(/^[0-9A-Z]{19}$/);
    expect(makeOrderNo(t) < makeOrderNo(t + 1)).toBe(true);
  });

  it('use every base36 digit in the random part, roughly evenly', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 5000; i++) for (const c of makeOrderNo(0).slice(9)) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(36);
    // 50,000 draws over 36 digits: ~1,389 each; a skew from a modulo bias or a stuck pool shows far outside this.
    for (const n of counts.values()) expect(n).toBeGreaterThan(1100);
  });
});

describe('creating orders (the worker)', () => {
  let data: InProcessDb;
  beforeAll(async () => {
    data = await inProcessDatabase();
  });
  afterAll(() => data.close());

  const work = (world: World, over: Partial<CreateOrdersDeps> = {}): CreateOrdersDeps => ({ ...world, payTimeoutMs: PAY_TIMEOUT_MS, ...over });

  async function saleWithReservations(stock: number, buyers: number) {
    const world = newWorld(data.store);
    const good = await newGood(data.store, world.clock.now(), { stock });
    await loadGood(world, good);
    const messages = await reserve(world, good.id, await newBuyers(data.db, buyers));
    return { world, good, messages };
  }

  it('a batch becomes orders: stock taken in the database, reservations settled, one results message, no stock-again', async () => {
    const { world, good, messages } = await saleWithReservations(5, 3);
    const summary = await createOrders(work(world), messages);
    expect(summary).toMatchObject({ created: 3, failed: 0, repeats: 0 });
    expect(summary.results.map((r) => r.status)).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS']);
    expect((await data.store.getGood(good.id))!.stock).toBe(2);
    expect(await world.cache.read(good.id)).toEqual({ preStock: 2, inFlight: 0 });
    expect(world.bus.sent.results).toEqual([summary.results]);
    expect(world.bus.sent.stockAgain.flat()).toEqual([]);
  });

  it('a batch delivered twice creates nothing the second time and leaves the cache as it was', async () => {
    const { world, good, messages } = await saleWithReservations(5, 2);
    const first = await createOrders(work(world), messages);
    const again = await createOrders(work(world), messages);
    expect(again).toMatchObject({ created: 0, failed: 0, repeats: 2 });
    expect(again.results).toEqual(first.results);
    expect((await data.store.getGood(good.id))!.stock).toBe(3);
    expect(await world.cache.read(good.id)).toEqual({ preStock: 3, inFlight: 0 });
  });

  it('the database has less stock than the cache let through → FAIL SOLD_OUT, that unit released, stock-again broadcast once', async () => {
    const world = newWorld(data.store);
    const good = await newGood(data.store, world.clock.now(), { stock: 1 });
    await world.cache.load(good.id, 2, [], { onlyIfMissing: false });
    const messages = await reserve(world, good.id, await newBuyers(data.db, 2));
    const summary = await createOrders(work(world), messages);
    expect(summary).toMatchObject({ created: 1, failed: 1 });
    expect(summary.results.map((r) => r.reason ?? r.status).sort()).toEqual(['SOLD_OUT', 'SUCCESS']);
    expect(await world.cache.read(good.id)).toEqual({ preStock: 1, inFlight: 0 });
    expect(world.bus.sent.stockAgain).toEqual([[good.id]]);
  });

  it('a cache that cannot be updated → one CACHE_UPDATE_FAILED alert per good; the results are still published and the reservations stay for the reconciler', async () => {
    const world = newWorld(data.store);
    const [g1, g2] = [await newGood(data.store, world.clock.now(), { stock: 5 }), await newGood(data.store, world.clock.now(), { stock: 5 })];
    await loadGood(world, g1);
    await loadGood(world, g2);
    const buyers = await newBuyers(data.db, 3);
    const messages = [...(await reserve(world, g1.id, buyers.slice(0, 2))), ...(await reserve(world, g2.id, buyers.slice(2)))];
    const summary = await createOrders(work(world, { cache: failingCache(world.cache, ['settle', 'release']) }), messages);
    expect(summary.created).toBe(3);
    expect(world.bus.sent.results).toEqual([summary.results]);
    const alerts = await world.bus.takeAlerts(10);
    expect(alerts.map((a) => [a.kind, a.seckillGoodId]).sort()).toEqual([['CACHE_UPDATE_FAILED', g1.id], ['CACHE_UPDATE_FAILED', g2.id]].sort());
    expect(alerts.find((a) => a.seckillGoodId === g1.id)!.details).toEqual({ uuids: messages.slice(0, 2).map((m) => m.uuid) });
    expect((await world.cache.read(g1.id)).inFlight).toBe(2);
  });

  it("a uuid reused by another buyer → that request ends FAIL UUID_CONFLICT, its unit released, one alert; the first result stands", async () => {
    const { world, good, messages } = await saleWithReservations(5, 1);
    const [first] = (await createOrders(work(world), messages)).results;
    const [reuser] = await newBuyers(data.db, 1);
    const uuid = messages[0]!.uuid;
    expect(await world.cache.reserve(good.id, reuser!, uuid, world.clock.now().getTime())).toMatchObject({ kind: 'RESERVED' });
    const summary = await createOrders(work(world), [{ uuid, userId: reuser!, seckillGoodId: good.id, reservedAt: 0 }]);
    expect(summary.results).toEqual([{ uuid, userId: reuser, seckillGoodId: good.id, status: 'FAIL', reason: 'UUID_CONFLICT' }]);
    expect(await data.store.getResult(uuid)).toEqual(first);
    expect(await world.cache.read(good.id)).toEqual({ preStock: 4, inFlight: 0 });
    expect(await world.bus.takeAlerts(10)).toEqual([expect.objectContaining({ kind: 'UUID_CONFLICT', uuid, seckillGoodId: good.id })]);
  });

  it('a uuid reused by the same buyer for another good → FAIL UUID_CONFLICT, the unit of that other good released', async () => {
    const { world, good, messages } = await saleWithReservations(5, 1);
    await createOrders(work(world), messages);
    const other = await newGood(data.store, world.clock.now(), { stock: 5 });
    await loadGood(world, other);
    const { uuid, userId } = messages[0]!;
    expect(await world.cache.reserve(other.id, userId, uuid, world.clock.now().getTime())).toMatchObject({ kind: 'RESERVED' });
    const summary = await createOrders(work(world), [{ uuid, userId, seckillGoodId: other.id, reservedAt: 0 }]);
    expect(summary.results).toEqual([{ uuid, userId, seckillGoodId: other.id, status: 'FAIL', reason: 'UUID_CONFLICT' }]);
    expect(await world.cache.read(other.id)).toEqual({ preStock: 5, inFlight: 0 });
    expect((await data.store.getGood(other.id))!.stock).toBe(5);
    expect(await data.store.getResult(uuid)).toMatchObject({ seckillGoodId: good.id, status: 'SUCCESS' });
  });

  it('a uuid sent again after its order closed → the stored SUCCESS is answered and the fresh unit goes back; while the order is live nothing goes back', async () => {
    const { world, good, messages } = await saleWithReservations(5, 1);
    const [made] = (await createOrders(work(world), messages)).results;
    // Live: a repeat holds no unit of its own (the buyer is remembered), nothing to give back.
    expect((await createOrders(work(world), messages)).results).toEqual([made]);
    expect(await world.cache.read(good.id)).toEqual({ preStock: 4, inFlight: 0 });
    await closeOrders(world, [made!.orderNo!], 'CANCELLED');
    const { userId, uuid } = messages[0]!;
    expect(await world.cache.reserve(good.id, userId, uuid, world.clock.now().getTime())).toMatchObject({ kind: 'RESERVED' });
    expect((await createOrders(work(world), messages)).results).toEqual([made]);
    expect(await world.cache.read(good.id)).toEqual({ preStock: 5, inFlight: 0 });
  });
});
