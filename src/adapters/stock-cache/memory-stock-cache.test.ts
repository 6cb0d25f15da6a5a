import { createMemoryStockCache } from './memory-stock-cache.ts';
import { describeStockCache } from './stock-cache.contract.ts';

describeStockCache('memory', async () => ({ cache: createMemoryStockCache(), cleanup: async () => {} }));
