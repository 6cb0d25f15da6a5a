import { createMemoryStockCache } from '../adapters/stock-cache/memory-stock-cache.ts';
import { inProcessDatabase } from '../../test/support/in-process.ts';
import { describeResultPolling } from './result-notes.contract.ts';

describeResultPolling('PGlite and the memory cache', async () => {
  const data = await inProcessDatabase();
  return { db: data.db, store: data.store, cache: () => createMemoryStockCache(), cleanup: () => data.close() };
});
