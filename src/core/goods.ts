/** Seckill goods as buyers and admins see them: database facts plus the cache's pre-stock. */
import type { GoodsCatalog } from './catalog.ts';
import { SeckillError } from './errors.ts';
import type { NewSeckillGood, OrderStatus, OrderStore, SeckillGood, StockCache } from './ports.ts';
import { loadGoodIntoCache } from './stock-sync.ts';

export interface GoodsDeps {
  store: Pick<OrderStore, 'createGood' | 'getGood' | 'listGoods' | 'liveBuyers' | 'stats'>;
  cache: Pick<StockCache, 'load' | 'read' | 'readStocks'>;
  catalog?: GoodsCatalog;
}

/** A good whose `stock` is the cached pre-stock when the cache has it. */
export type PublicGood = SeckillGood;

export async function createSale(deps: GoodsDeps, input: NewSeckillGood, now: Date): Promise<PublicGood> {
  if (input.endAt <= input.startAt) {
    throw new SeckillError('INVALID_INPUT', 'endAt must be after startAt.', { details: { fields: ['endAt'] } });
  }
  if (input.endAt <= now) {
    throw new SeckillError('INVALID_INPUT', 'endAt must be in the future: this sale would already be over.', { details: { fields: ['endAt'] } });
  }
  if (input.seckillPrice > input.price) {
    throw new SeckillError('INVALID_INPUT', 'seckillPrice may not exceed price.', { details: { fields: ['seckillPrice'] } });
  }
  const good = await deps.store.createGood(input);
  // Buyers can be admitted only once the pre-stock is in the cache, so load it before answering.
  await loadGoodIntoCache(deps, good.id, { onlyIfMissing: false });
  deps.catalog?.invalidate();
  return good;
}

export async function listSales(deps: GoodsDeps): Promise<PublicGood[]> {
  const goods = await deps.store.listGoods();
  const stocks = await deps.cache.readStocks(goods.map((g) => g.id));
  return goods.map((g) => ({ ...g, stock: stocks.get(g.id) ?? g.stock }));
}

export async function getSale(deps: GoodsDeps, id: number): Promise<PublicGood> {
  const good = await deps.store.getGood(id);
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

export async function saleStats(deps: GoodsDeps, id: number): Promise<SaleStats> {
  const stats = await deps.store.stats(id);
  if (!stats) throw new SeckillError('NOT_FOUND', `No seckill good ${id}.`);
  const cached = await deps.cache.read(id);
  return { id, stock: stats.stock, preStock: cached.preStock, queued: cached.inFlight, orders: stats.orders };
}
