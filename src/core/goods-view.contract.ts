/**
 * The public goods list and detail on the kept goods view, counted at the ports: run on PGlite with the
 * memory cache and on PostgreSQL with Redis. A burst costs one database read per TTL; the stock shown is
 * the cache's on every request; an admin's create in this process shows at once, even one made while a
 * read was under way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { counting } from '../../test/support/counting.ts';
import { fakeClock } from '../../test/support/in-process.ts';
import type { OrderStore } from './ports/order-store.ts';
import type { StockCache } from './ports/stock-cache.ts';
import type { NewSeckillGood } from './model.ts';
import { createGoodsView } from './goods-view.ts';
import { createSale, getSale, listSales, type GoodsDeps } from './sales.ts';

export type MakeSaleWorld = () => Promise<{ store: OrderStore; cache: StockCache; cleanup: () => Promise<void> }>;

const TTL_MS = 1000;

export function describeGoodsView(label: string, make: MakeSaleWorld): void {
  describe(`the public goods list and detail on ${label}`, () => {
    let world: Awaited<ReturnType<MakeSaleWorld>>;
    beforeAll(async () => {
      world = await make();
    });
    afterAll(() => world.cleanup());

    function setUp() {
      const clock = fakeClock();
      const store = counting(world.store);
      const cache = counting(world.cache);
      const deps: GoodsDeps = { store: store.port, cache: cache.port, view: createGoodsView(store.port, clock, TTL_MS) };
      let n = 0;
      const spec = (): NewSeckillGood => ({
        name: `view good ${++n}`,
        title: 't',
        imageUrl: '/img/1.png',
        price: 1000,
        seckillPrice: 500,
        stock: 5,
        startAt: new Date(clock.now().getTime() - 60_000),
        endAt: new Date(clock.now().getTime() + 3_600_000),
      });
      return { clock, store, cache, deps, spec };
    }

    it('100 list and detail requests at once → one database read; the stock of each answer is read from the cache', async () => {
      const { store, cache, deps, spec, clock } = setUp();
      const good = await createSale(deps, spec(), clock.now());
      store.reset();
      cache.reset();
      const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? listSales(deps) : getSale(deps, good.id))));
      expect(store.calls).toEqual({ listGoods: 1 });
      expect(cache.calls).toEqual({ readStocks: 100 });
      expect(answers.filter((a) => !Array.isArray(a) && a.id === good.id)).toHaveLength(50);
    });

    it('while kept: the stock shown follows the cache live; an unknown id → NOT_FOUND with no database read; after the TTL, one read again', async () => {
      const { store, deps, spec, clock } = setUp();
      const good = await createSale(deps, spec(), clock.now());
      await listSales(deps);
      store.reset();
      await world.cache.reserve(good.id, 1, `view-${good.id}`, clock.now().getTime());
      expect((await getSale(deps, good.id)).stock).toBe(4);
      expect((await listSales(deps)).find((g) => g.id === good.id)?.stock).toBe(4);
      await expect(getSale(deps, 987_654_321)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      clock.advance(TTL_MS - 1);
      await listSales(deps);
      expect(store.total()).toBe(0);
      clock.advance(1);
      await listSales(deps);
      await getSale(deps, good.id);
      expect(store.calls).toEqual({ listGoods: 1 });
    });

    it('a sale created in this process shows at once, also when a read under way began before it was created', async () => {
      const { store, deps, spec, clock } = setUp();
      await listSales(deps);
      // A read that starts before the create and ends after it: its list lacks the new good.
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const listGoods = store.port.listGoods.bind(store.port);
      const held: GoodsDeps = { ...deps, view: createGoodsView({ listGoods: async () => { const goods = await listGoods(); await gate; return goods; } }, clock, TTL_MS) };
      const before = listSales(held);
      const created = await createSale(held, spec(), clock.now());
      release();
      expect((await before).some((g) => g.id === created.id)).toBe(false);
      expect((await listSales(held)).some((g) => g.id === created.id)).toBe(true);
      expect((await getSale(held, created.id)).id).toBe(created.id);
      // And on the view in use: created through it, shown by it.
      const other = await createSale(deps, spec(), clock.now());
      expect((await getSale(deps, other.id)).name).toBe(other.name);
    });
  });
}
