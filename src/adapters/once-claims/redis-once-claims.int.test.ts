import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { SERVICE_URLS, servicesAvailable } from '../../../test/support/services.ts';
import { describeOnceClaims } from './once-claims.contract.ts';
import { createRedisOnceClaims } from './redis-once-claims.ts';

const up = await servicesAvailable('redis');

describe.skipIf(!up)('Redis OnceClaims', () => {
  const prefix = `test:once:${randomBytes(6).toString('hex')}:`;
  const clients: Redis[] = [];
  const client = () => {
    const c = new Redis(SERVICE_URLS.redis, { commandTimeout: 500, maxRetriesPerRequest: 1 });
    clients.push(c);
    return c;
  };
  afterAll(async () => {
    const admin = client();
    const keys: string[] = [];
    for await (const batch of admin.scanStream({ match: `${prefix}*`, count: 1000 })) keys.push(...(batch as string[]));
    if (keys.length) await admin.del(...keys);
    await Promise.all(clients.map((c) => c.quit()));
  });

  describeOnceClaims('redis', () => createRedisOnceClaims(client(), prefix));

  it('two connections (two api processes) share a claim, kept under the prefix until it expires', async () => {
    const [a, b] = [createRedisOnceClaims(client(), prefix), createRedisOnceClaims(client(), prefix)];
    expect(await a.claim('shared', 'uuid-a', new Date(Date.now() + 60_000))).toBe('uuid-a');
    expect(await b.claim('shared', 'uuid-b', new Date(Date.now() + 60_000))).toBe('uuid-a');
    const ttl = await client().pttl(`${prefix}once:shared`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });
});
