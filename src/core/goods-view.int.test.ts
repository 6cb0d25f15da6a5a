import { randomBytes } from 'node:crypto';
import { describe } from 'vitest';
import { migrate } from '../adapters/database/migrate.ts';
import { createSqlOrderStore } from '../adapters/order-store/sql-order-store.ts';
import { createRedisStockCache } from '../adapters/stock-cache/redis-stock-cache.ts';
import { SERVICE_URLS, freshPgSchema, servicesAvailable } from '../../test/support/services.ts';
import { dropRedisKeys } from '../../support/cleanup.ts';
import { describeGoodsView } from './goods-view.contract.ts';

const up = await servicesAvailable('postgres', 'redis');

describe.skipIf(!up)('PostgreSQL and Redis', () => {
  describeGoodsView('PostgreSQL and Redis', async () => {
    const { db, cleanup } = await freshPgSchema('goodsview');
    await migrate(db);
    const keyPrefix = `test:goods-view:${randomBytes(6).toString('hex')}:`;
    const cache = createRedisStockCache({ url: SERVICE_URLS.redis, keyPrefix });
    return {
      store: createSqlOrderStore(db),
      cache,
      cleanup: async () => {
        await cache.close();
        await dropRedisKeys(SERVICE_URLS.redis, keyPrefix);
        await cleanup();
      },
    };
  });
});
