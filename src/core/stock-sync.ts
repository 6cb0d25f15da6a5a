/** Bringing a good's pre-stock into the cache from the database, the truth for stock. */
import type { OrderStore } from './ports/order-store.ts';
import type { StockCache } from './ports/stock-cache.ts';

export interface StockSyncDeps {
  store: Pick<OrderStore, 'getGood' | 'liveBuyers'>;
  cache: Pick<StockCache, 'load'>;
}

/**
 * Load a good from the database. `onlyIfMissing` is safe at any time (it never overwrites a loaded
 * good); an overwrite is only for a good with nothing in flight. Returns false for an unknown good
 * or when the cache already had it.
 */
export async function loadGoodIntoCache(
  deps: StockSyncDeps,
  seckillGoodId: number,
  opts: { onlyIfMissing: boolean },
): Promise<boolean> {
  const good = await deps.store.getGood(seckillGoodId);
  if (!good) return false;
  const buyers = await deps.store.liveBuyers(seckillGoodId);
  return deps.cache.load(seckillGoodId, good.stock, buyers, opts);
}
