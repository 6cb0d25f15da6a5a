import { randomBytes } from 'node:crypto';
import { describe } from 'vitest';
import { migrate } from '../adapters/database/migrate.ts';
import { createSqlOrderStore } from '../adapters/order-store/sql-order-store.ts';
import { createRedisStockCache } from '../adapters/stock-cache/redis-stock-cache.ts';
import type { StockCache } from './ports/stock-cache.ts';
import { SERVICE_URLS, freshPgSchema, servicesAvailable } from '../../test/support/services.ts';
import { dropRedisKeys } from '../../support/cleanup.ts';
import { describeResultPolling } from './result-notes.contract.ts';

const up = await servicesAvailable('postgres', 'redis');

describe.skipIf(!up)('PostgreSQL and Redis', () => {
  describeResultPolling('PostgreSQL and Redis', async () => {
    const { db, cleanup } = await freshPgSchema('notes');
    await migrate(db);
    // Each cache asked for is a fresh key prefix: a Redis with no notes and no marks, as after a flush.
    const made: { cache: StockCache; prefix: string }[] = [];
    const cache = () => {
      const prefix = `test:notes:${randomBytes(6).toString('hex')}:`;
      const c = createRedisStockCache({ url: SERVICE_URLS.redis, keyPrefix: prefix, redisOptions: { enableAutoPipelining: true } });
      made.push({ cache: c, prefix });
      return c;
    };
    return {
      db,
      store: createSqlOrderStore(db),
      cache,
      cleanup: async () => {
        for (const m of made) {
          await m.cache.close();
          await dropRedisKeys(SERVICE_URLS.redis, m.prefix);
        }
        await cleanup();
      },
    };
  });
});
