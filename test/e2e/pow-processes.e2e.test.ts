/**
 * Proof-of-work across api processes (services mode): a puzzle made by one process is accepted by another,
 * and a solution used on one is refused on every other (the used-once mark lives in Redis).
 */
import fs from 'node:fs/promises';
import { solveChallenge } from 'altcha-lib/v1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, bootTestApp, loginAdmin, newUuid, type ApiClient, type TestApp } from '../support/app.ts';
import { makeBuyers } from '../support/buyers.ts';
import { servicesAvailable } from '../support/services.ts';

const servicesUp = await servicesAvailable('postgres', 'redis', 'rabbitmq');

describe.skipIf(!servicesUp)('proof-of-work on two api processes (services)', () => {
  let app: TestApp;
  let second: TestApp;
  let api: ApiClient;
  let api2: ApiClient;
  let goodId: number;

  beforeAll(async () => {
    const env = { SECKILL_POW: 'buy', SECKILL_POW_MAX_NUMBER: '5000' };
    app = await bootTestApp('services', env);
    second = await bootTestApp('services', {
      ...env,
      SECKILL_ROLES: 'api',
      DATABASE_SCHEMA: app.config.databaseSchema!,
      REDIS_KEY_PREFIX: app.config.redisKeyPrefix,
      AMQP_PREFIX: app.config.amqpPrefix,
      SECKILL_TOKEN_SECRET: app.config.tokenSecret!,
    });
    api = apiClient(app.httpUrl);
    api2 = apiClient(second.httpUrl);
    const now = Date.now();
    const r = await api('POST', '/api/admin/seckill/goods', {
      token: await loginAdmin(api),
      body: { name: 'Two-process lamp', price: 9900, seckillPrice: 990, stock: 10, startAt: new Date(now - 60_000).toISOString(), endAt: new Date(now + 3_600_000).toISOString() },
    });
    goodId = r.body.id;
  }, 120_000);

  afterAll(async () => {
    await second?.stop();
    // The second process shares the first one's schema, keys and queues: only its own data folder is its to remove.
    if (second) await fs.rm(second.config.dataDir, { recursive: true, force: true });
    await app?.destroy();
  });

  it('a puzzle from one process buys on the other; the same solution is then refused on both', async () => {
    const c = (await api('GET', '/api/pow/challenge')).body;
    const s = await solveChallenge(c.challenge, c.salt, c.algorithm, c.maxnumber).promise;
    const pow = Buffer.from(JSON.stringify({ algorithm: c.algorithm, challenge: c.challenge, number: s!.number, salt: c.salt, signature: c.signature })).toString('base64');
    const [ann, bob, cy] = await makeBuyers(app, 3);
    const buy = (client: ApiClient, token: string) => client('POST', '/api/seckill/orders', { token, body: { seckillGoodId: goodId, uuid: newUuid(), pow } });
    expect((await buy(api2, ann!.token)).status).toBe(200);
    for (const [client, buyer] of [[api, bob!], [api2, cy!]] as const) {
      const r = await buy(client, buyer.token);
      expect([r.status, r.body.error.code]).toEqual([403, 'FORBIDDEN']);
    }
  });
});
