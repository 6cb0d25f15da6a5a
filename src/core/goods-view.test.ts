import { createMemoryStockCache } from '../adapters/stock-cache/memory-stock-cache.ts';
import { inProcessDatabase } from '../../test/support/in-process.ts';
import { describeGoodsView } from './goods-view.contract.ts';

describeGoodsView('PGlite and the memory cache', async () => {
  const data = await inProcessDatabase();
  return { store: data.store, cache: createMemoryStockCache(), cleanup: () => data.close() };
});
