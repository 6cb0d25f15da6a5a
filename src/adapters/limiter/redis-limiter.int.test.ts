import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { SERVICE_URLS, servicesAvailable } from '../../../test/support/services.ts';
import { createRedisLimiters, type RedisLimiters } from './flexible-limiter.ts';
import { describeLimiter } from './limiter.contract.ts';

const up = await servicesAvailable('redis');

describe.skipIf(!up)('Redis limiters', () => {
  const prefix = `test:limiter:${randomBytes(6).toString('hex')}:`;
  const opened: RedisLimiters[] = [];
  const open = () => {
    const made = createRedisLimiters({ url: SERVICE_URLS.redis, keyPrefix: prefix, redisOptions: { commandTimeout: 500, maxRetriesPerRequest: 1 } });
    opened.push(made);
    return made;
  };
  afterAll(async () => {
    await Promise.all(opened.map((l) => l.close()));
    const admin = new Redis(SERVICE_URLS.redis);
    const keys: string[] = [];
    for await (const batch of admin.scanStream({ match: `${prefix}*`, count: 1000 })) keys.push(...(batch as string[]));
    if (keys.length) await admin.del(...keys);
    await admin.quit();
  });

  describeLimiter('redis', () => open().make);

  it('two connections (two api processes) share one count, under the key prefix and a hash tag', async () => {
    const a = open().make({ name: 'shared', points: 2, durationSeconds: 60 });
    const b = open().make({ name: 'shared', points: 2, durationSeconds: 60 });
    expect((await a.take('13900000000')).wait).toBe(0);
    expect((await b.take('13900000000')).wait).toBe(0);
    expect((await a.take('13900000000')).wait).toBeGreaterThan(0);
    const admin = new Redis(SERVICE_URLS.redis);
    expect(await admin.exists(`${prefix}rl:shared:{13900000000}`)).toBe(1);
    await admin.quit();
  });

  it('a limit call on an unreachable Redis fails instead of hanging', async () => {
    const unreachable = createRedisLimiters({
      url: 'redis://127.0.0.1:1',
      keyPrefix: prefix,
      redisOptions: { commandTimeout: 300, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null },
    });
    opened.push(unreachable);
    await expect(unreachable.make({ name: 'down', points: 1, durationSeconds: 60 }).take('k')).rejects.toThrow();
  });
});
