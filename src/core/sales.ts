/**
 * Sales (seckill goods): creating one, the views buyers and admins get (database facts plus the cache's
 * pre-stock), the hot path's in-memory catalog, and the sale window.
 */
import { SeckillError } from './errors.ts';
import type { OrderBus } from './ports/order-bus.ts';
import type { OrderStore } from './ports/order-store.ts';
import type { StockCache } from './ports/stock-cache.ts';
import type { Clock } from './ports/timers.ts';
import type { AdminActor, NewSeckillGood, OrderStatus, SeckillGood } from './model.ts';
import { loadGoodIntoCache } from './stock-sync.ts';
import type { GoodsView } from './goods-view.ts';

export interface GoodsDeps {
  store: Pick<OrderStore, 'createGood' | 'getGood' | 'listGoods' | 'liveBuyers' | 'stats'>;
  cache: Pick<StockCache, 'load' | 'read' | 'readStocks'>;
  catalog?: GoodsCatalog;
  /** The public list and detail's kept goods; without one, every request reads the database. */
  view?: GoodsView;
  /** Tells every api process of a new sale at once (without it they learn at their next refresh). */
  bus?: Pick<OrderBus, 'broadcastSalesChanged'>;
}

/** A good whose `stock` is the cached pre-stock when the cache has it. */
export type PublicGood = SeckillGood;

/** With `by`, the admin's action is recorded in the transaction that creates the good. */
export async function createSale(deps: GoodsDeps, input: NewSeckillGood, now: Date, by?: AdminActor): Promise<PublicGood> {
  if (input.endAt <= input.startAt) {
    throw new SeckillError('INVALID_INPUT', 'endAt must be after startAt.', { details: { fields: ['endAt'] } });
  }
  if (input.endAt <= now) {
    throw new SeckillError('INVALID_INPUT', 'endAt must be in the future: this sale would already be over.', { details: { fields: ['endAt'] } });
  }
  if (input.seckillPrice > input.price) {
    throw new SeckillError('INVALID_INPUT', 'seckillPrice may not exceed price.', { details: { fields: ['seckillPrice'] } });
  }
  const good = await deps.store.createGood(
    input,
    by && {
      audit: (created) => ({
        adminId: by.adminId,
        action: 'sale.create',
        target: String(created.id),
        details: { name: created.name, stock: created.initialStock, seckillPrice: created.seckillPrice, startAt: created.startAt.toISOString(), endAt: created.endAt.toISOString() },
        address: by.address,
      }),
    },
  );
  // Buyers can be admitted only once the pre-stock is in the cache, so load it before answering.
  await loadGoodIntoCache(deps, good.id, { onlyIfMissing: false });
  deps.catalog?.apply([good]);
  deps.view?.invalidate();
  // The database holds the sale: a lost broadcast only delays the others until their next refresh.
  await deps.bus?.broadcastSalesChanged([good]).catch(() => undefined);
  return good;
}

export async function listSales(deps: GoodsDeps): Promise<PublicGood[]> {
  const goods = deps.view ? await deps.view.list() : await deps.store.listGoods();
  const stocks = await deps.cache.readStocks(goods.map((g) => g.id));
  return goods.map((g) => ({ ...g, stock: stocks.get(g.id) ?? g.stock }));
}

export async function getSale(deps: GoodsDeps, id: number): Promise<PublicGood> {
  const good = deps.view ? await deps.view.get(id) : await deps.store.getGood(id);
  if (!good) throw new SeckillError('NOT_FOUND', `No seckill good ${id}.`);
  const preStock = (await deps.cache.readStocks([id])).get(id);
  return { ...good, stock: preStock ?? good.stock };
}

export interface SaleStats {
  id: number;
  stock: number;
  preStock: number | null;
  queued: number;
  orders: Record<OrderStatus, number>;
}

export async function saleStats(deps: { store: Pick<OrderStore, 'stats'>; cache: Pick<StockCache, 'read'> }, id: number): Promise<SaleStats> {
  const stats = await deps.store.stats(id);
  if (!stats) throw new SeckillError('NOT_FOUND', `No seckill good ${id}.`);
  const cached = await deps.cache.read(id);
  return { id, stock: stats.stock, preStock: cached.preStock, queued: cached.inFlight, orders: stats.orders };
}

/**
 * The hot path's view of the goods (sale windows), kept in process memory so that a burst of
 * requests costs no database reads. The whole list refreshes after `ttlMs`, or sooner (at most once
 * a second) when an unknown id is asked for, so a flood of bad ids cannot reach the database.
 */
export interface GoodsCatalog {
  get(seckillGoodId: number): Promise<SeckillGood | null>;
  list(): Promise<SeckillGood[]>;
  /** Drop what is known, e.g. after an admin created a sale. */
  invalidate(): void;
  /**
   * Take in sales an admin changed (from this process or a broadcast), at once and with no I/O. Of two views
   * of one sale the higher revision wins, here and when a refresh of the whole list lands later.
   */
  apply(changed: readonly SeckillGood[]): void;
}

export function createGoodsCatalog(store: Pick<OrderStore, 'listGoods'>, clock: Clock, ttlMs = 5000): GoodsCatalog {
  let goods = new Map<number, SeckillGood>();
  let loadedAt = -Infinity;
  let loading: Promise<void> | null = null;

  function refresh(): Promise<void> {
    loading ??= store
      .listGoods()
      .then((list) => {
        // A refresh read before a change was applied must not take this process back to the older state.
        goods = new Map(list.map((g) => [g.id, newer(goods.get(g.id), g)]));
        loadedAt = clock.now().getTime();
      })
      .finally(() => {
        loading = null;
      });
    return loading;
  }

  async function fresh(maxAgeMs: number): Promise<void> {
    const age = clock.now().getTime() - loadedAt;
    if (age <= maxAgeMs) return;
    if (age === Infinity) return refresh();
    // A stale list still answers while one refresh is under way; a failed refresh retries next time.
    refresh().catch(() => undefined);
  }

  return {
    async get(id) {
      await fresh(ttlMs);
      if (!goods.has(id) && clock.now().getTime() - loadedAt > 1000) await refresh();
      return goods.get(id) ?? null;
    },
    async list() {
      await fresh(ttlMs);
      return [...goods.values()];
    },
    invalidate() {
      loadedAt = -Infinity;
    },
    apply(changed) {
      for (const g of changed) goods.set(g.id, newer(goods.get(g.id), g));
    },
  };
}

const newer = (known: SeckillGood | undefined, seen: SeckillGood): SeckillGood => (known && known.revision > seen.revision ? known : seen);

export type SaleWindow = 'NOT_STARTED' | 'OPEN' | 'ENDED';

export function saleWindow(good: Pick<SeckillGood, 'startAt' | 'endAt'>, now: Date): SaleWindow {
  if (now < good.startAt) return 'NOT_STARTED';
  if (now >= good.endAt) return 'ENDED';
  return 'OPEN';
}
