import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_URLS, servicesAvailable } from '../../../test/support/services.ts';
import { createRedisStockCache } from './redis-stock-cache.ts';
import { describeStockCache } from './stock-cache.contract.ts';

const up = await servicesAvailable('redis');

describe.skipIf(!up)('RedisStockCache', () => {
  let admin: Redis;
  beforeAll(() => {
    admin = new Redis(SERVICE_URLS.redis);
  });
  afterAll(async () => {
    await admin.quit();
  });

  const freshPrefix = () => `test:stock-cache:${randomBytes(6).toString('hex')}:`;
  async function keysUnder(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const batch of admin.scanStream({ match: `${prefix}*`, count: 1000 })) keys.push(...(batch as string[]));
    return keys.sort();
  }
  async function dropKeys(prefix: string): Promise<void> {
    const keys = await keysUnder(prefix);
    if (keys.length > 0) await admin.del(...keys);
  }

  describeStockCache('redis', async () => {
    const keyPrefix = freshPrefix();
    const cache = createRedisStockCache({ url: SERVICE_URLS.redis, keyPrefix });
    return {
      cache,
      cleanup: async () => {
        await cache.close();
        await dropKeys(keyPrefix);
      },
    };
  });

  // The app turns auto-pipelining on (REDIS_AUTO_PIPELINING): the whole contract holds that way too.
  describeStockCache('redis, auto-pipelined', async () => {
    const keyPrefix = freshPrefix();
    const cache = createRedisStockCache({ url: SERVICE_URLS.redis, keyPrefix, redisOptions: { enableAutoPipelining: true } });
    return {
      cache,
      cleanup: async () => {
        await cache.close();
        await dropKeys(keyPrefix);
      },
    };
  });

  it('a good loaded in chunks and reserved → exactly its three hash-tagged keys, no staging left', async () => {
    const keyPrefix = freshPrefix();
    const cache = createRedisStockCache({ client: admin, keyPrefix });
    try {
      await cache.load(42, 10, Array.from({ length: 12_000 }, (_, i) => i + 100), { onlyIfMissing: true });
      await cache.load(42, 10, Array.from({ length: 12_000 }, (_, i) => i + 100), { onlyIfMissing: true });
      await cache.reserve(42, 1, 'uuid-1', 1);
      expect(await keysUnder(keyPrefix)).toEqual(
        ['{sg:42}:buyers', '{sg:42}:resv', '{sg:42}:stock'].map((key) => keyPrefix + key),
      );
      expect(await admin.get(`${keyPrefix}{sg:42}:stock`)).toBe('9');
      expect(await admin.hget(`${keyPrefix}{sg:42}:resv`, 'uuid-1')).toBe('1:1');
    } finally {
      await cache.close();
      await dropKeys(keyPrefix);
    }
    // A client handed in belongs to the caller: close() left it open.
    expect(await admin.ping()).toBe('PONG');
  });

  it('a key prefix with braces → refused (the hash tag must be the good)', () => {
    expect(() => createRedisStockCache({ client: admin, keyPrefix: 'a{b}:' })).toThrow(RangeError);
  });
});
