/**
 * Limits, the hidden buy path, token versions and framework errors, over HTTP in both modes. In the services
 * mode a second api process on the same services shows that limits and logouts are shared.
 */
import net from 'node:net';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/core/credentials.ts';
import { registerOverHttp } from '../support/buyers.ts';
import { apiClient, bootTestApp, newUuid, type ApiClient, type Mode, type TestApp, loginAdmin } from '../support/app.ts';
import { adminSales, waitFor } from '../support/sales.ts';
import { servicesAvailable } from '../support/services.ts';

const servicesUp = await servicesAvailable('postgres', 'redis', 'rabbitmq');
let phoneSeq = 0;
const newPhone = () => `136${String(process.pid % 10_000).padStart(4, '0')}${String(++phoneSeq).padStart(4, '0')}`;

function expectError(r: { status: number; body: any }, status: number, code: string) {
  expect(r.status).toBe(status);
  expect(r.body).toEqual({ error: expect.objectContaining({ code, message: expect.any(String) }) });
}

/** One request written by hand (URLs fetch would refuse or normalise); status line and parsed body. */
function rawRequest(baseUrl: string, head: string): Promise<{ status: number; body: any }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    let data = '';
    const socket = net.connect(Number(port), hostname, () => socket.write(`${head}\r\nHost: x\r\nConnection: close\r\n\r\n`));
    socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => {
      const status = Number(data.split(' ')[1]);
      const text = data.slice(data.indexOf('\r\n\r\n') + 4);
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      resolve({ status, body });
    });
  });
}

describe.each<Mode>(['embedded', 'services'])('security (%s)', (mode) => {
  const skip = mode === 'services' && !servicesUp;
  let app: TestApp;
  let api: ApiClient;
  let admin: string;
  /** A second api process on the same database, cache and bus (services mode only). */
  let second: Awaited<ReturnType<typeof bootTestApp>> | undefined;
  let api2: ApiClient;

  // Small limits, so a test reaches them in a few requests; both api processes (services) run the same.
  const LIMITS = {
    SECKILL_TRUST_PROXY: 'on',
    SECKILL_AUTH_RATE_LIMIT_PER_MIN: '8',
    SECKILL_RATE_LIMIT_PER_S: '1',
    SECKILL_RATE_LIMIT_BURST: '3',
    SECKILL_IP_RATE_LIMIT_PER_S: '3',
    SECKILL_TOKEN_VERSION_CACHE_MS: '200',
  };

  beforeAll(async () => {
    if (skip) return;
    app = await bootTestApp(mode, LIMITS);
    api = apiClient(app.httpUrl);
    api2 = api;
    if (mode === 'services') {
      second = await bootTestApp(mode, {
        SECKILL_ROLES: 'api',
        ...LIMITS,
        DATABASE_SCHEMA: app.config.databaseSchema!,
        REDIS_KEY_PREFIX: app.config.redisKeyPrefix,
        AMQP_PREFIX: app.config.amqpPrefix,
        SECKILL_TOKEN_SECRET: app.config.tokenSecret!,
      });
      api2 = apiClient(second.httpUrl);
    }
    admin = (await login(api, '13800000000', 'admin-pass-123', '10.9.9.9')).body.token;
  }, 90_000);

  afterAll(async () => {
    await second?.stop();
    await app?.destroy();
  });

  const { sale, stats } = adminSales((...args) => api(...args), () => admin, 'Security good');
  const login = (client: ApiClient, phone: string, password: string, ip: string) =>
    client('POST', '/api/auth/login', { body: { phone, password }, headers: { 'x-forwarded-for': ip } });
  async function buyer(ip = '10.1.0.1'): Promise<{ phone: string; token: string; id: number }> {
    const phone = newPhone();
    const r = await registerOverHttp(api, { phone, password: 'good-pass-12' }, { headers: { 'x-forwarded-for': ip } });
    expect(r.status).toBe(201);
    return { phone, token: r.body.token, id: r.body.user.id };
  }

  it.skipIf(skip)('login attempts per client address stop at the limit with 429 RATE_LIMITED and Retry-After, across api processes', async () => {
    const phone = (await buyer('10.2.0.1')).phone;
    const answers = [];
    for (let i = 0; i < 9; i++) answers.push(await login(i % 2 ? api2 : api, phone, 'good-pass-12', '10.2.1.1'));
    expect(answers.slice(0, 8).map((r) => r.status)).toEqual(Array(8).fill(200));
    const limited = answers[8]!;
    expectError(limited, 429, 'RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(limited.body.error.details.retryAfterSeconds).toBe(Number(limited.headers.get('retry-after')));
    // The phone itself is not limited by attempts: the owner goes on from another address.
    expect((await login(api2, phone, 'good-pass-12', '10.2.1.2')).status).toBe(200);
  });

  it.skipIf(skip)('register attempts per client address stop at the limit; another address goes on', async () => {
    const answers = [];
    for (let i = 0; i < 9; i++) answers.push(await registerOverHttp(api2, { phone: newPhone(), password: 'good-pass-12' }, { headers: { 'x-forwarded-for': '10.3.0.1' } }));
    expect(answers.slice(0, 8).every((r) => r.status === 201)).toBe(true);
    expectError(answers[8]!, 429, 'RATE_LIMITED');
    expect((await registerOverHttp(api, { phone: newPhone(), password: 'good-pass-12' }, { headers: { 'x-forwarded-for': '10.3.0.2' } })).status).toBe(201);
  });

  it.skipIf(skip)('failed logins past the free ones back off per phone and address: even the right password waits', async () => {
    const phone = newPhone();
    await app.adapters.users.create({ phone, nickname: 'n', passwordHash: await hashPassword('good-pass-12', { N: 1024, r: 8, p: 1 }), role: 'user' });
    // Seven failures (within the address's 8 attempts): the sixth blocks the pair for 1 s, the seventh for 2 s.
    const results = [];
    for (let i = 0; i < 7; i++) results.push((await login(i % 2 ? api2 : api, phone, 'wrong-pass-1', '10.4.0.1')).status);
    expect(results.slice(0, 6)).toEqual(Array(6).fill(401));
    const blocked = await login(api2, phone, 'good-pass-12', '10.4.0.1');
    expectError(blocked, 429, 'RATE_LIMITED');
    expect(blocked.headers.get('retry-after')).toBeTruthy();
  });

  it.skipIf(skip)('buy presses from one address stop at the per-address limit; refused presses take nothing', async () => {
    const id = await sale(100);
    const buyers = await Promise.all(Array.from({ length: 10 }, (_, i) => buyer(`10.5.0.${i}`)));
    const answers = await Promise.all(
      buyers.map((b, i) => (i % 2 ? api2 : api)('POST', '/api/seckill/orders', { token: b.token, body: { seckillGoodId: id, uuid: newUuid() }, headers: { 'x-forwarded-for': '10.5.1.1' } })),
    );
    const accepted = answers.filter((r) => r.status === 200).length;
    expect(answers.filter((r) => r.status === 429).length).toBeGreaterThan(0);
    for (const r of answers.filter((x) => x.status === 429)) expectError(r, 429, 'RATE_LIMITED');
    expect(answers.every((r) => r.status === 200 || r.status === 429)).toBe(true);
    await waitFor('the stock', () => stats(id), (s) => s.preStock === 100 - accepted);
  });

  it.skipIf(skip)('buy presses of one buyer stop after the burst', async () => {
    const id = await sale(100);
    const b = await buyer();
    // The second process learns of a new sale within a second (its catalog); until then it answers 404.
    await waitFor('the second api to know the sale', () => api2('GET', `/api/seckill/goods/${id}/path`, { token: b.token }), (r) => r.status === 200);
    const statuses = [];
    for (let i = 0; i < 6; i++) {
      statuses.push((await (i % 2 ? api2 : api)('POST', '/api/seckill/orders', { token: b.token, body: { seckillGoodId: id, uuid: newUuid() }, headers: { 'x-forwarded-for': `10.6.0.${i}` } })).status);
    }
    expect(statuses).toContain(429);
  });

  it.skipIf(skip)('buy paths are limited like presses: per buyer and per address, 429 RATE_LIMITED with Retry-After, across api processes', async () => {
    const id = await sale(100);
    const [b, watcher] = [await buyer(), await buyer()];
    // The second process learns of a new sale within a second (its catalog); asked by another buyer, so b's count stays whole.
    await waitFor('the second api to know the sale', () => api2('GET', `/api/seckill/goods/${id}/path`, { token: watcher.token }), (r) => r.status === 200);
    const pathFor = (client: ApiClient, token: string, ip: string) => client('GET', `/api/seckill/goods/${id}/path`, { token, headers: { 'x-forwarded-for': ip } });
    const perBuyer = [];
    for (let i = 0; i < 6; i++) perBuyer.push(await pathFor(i % 2 ? api2 : api, b.token, `10.13.0.${i}`));
    const limited = perBuyer.find((r) => r.status === 429);
    expect(limited).toBeDefined();
    expectError(limited!, 429, 'RATE_LIMITED');
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(perBuyer.every((r) => r.status === 200 || r.status === 429)).toBe(true);

    const others = await Promise.all(Array.from({ length: 6 }, (_, i) => buyer(`10.13.1.${i}`)));
    const perAddress = await Promise.all(others.map((o, i) => pathFor(i % 2 ? api2 : api, o.token, '10.13.2.1')));
    expect(perAddress.filter((r) => r.status === 429).length).toBeGreaterThan(0);
    expect(perAddress.every((r) => r.status === 200 || r.status === 429)).toBe(true);
  });

  it.skipIf(skip)('logout ends every session of the user on every api process; a new login works', async () => {
    const b = await buyer();
    const other = (await login(api, b.phone, 'good-pass-12', '10.7.0.1')).body.token;
    expect((await api2('GET', '/api/me', { token: b.token })).status).toBe(200);
    expect((await api('POST', '/api/auth/logout', { token: b.token })).status).toBe(204);
    expectError(await api('GET', '/api/me', { token: b.token }), 401, 'UNAUTHORIZED');
    expectError(await api('GET', '/api/me', { token: other }), 401, 'UNAUTHORIZED');
    await waitFor('the other process to refuse the old token', () => api2('GET', '/api/me', { token: other }), (r) => r.status === 401);
    const id = await sale(5);
    expectError(await api('POST', '/api/seckill/orders', { token: b.token, body: { seckillGoodId: id, uuid: newUuid() } }), 401, 'UNAUTHORIZED');
    const fresh = (await login(api, b.phone, 'good-pass-12', '10.7.0.2')).body.token;
    expect((await api2('GET', '/api/me', { token: fresh })).status).toBe(200);
    // The result push refuses the old token too.
    const closed = (token: string) =>
      new Promise<number>((resolve) => {
        const socket = new WebSocket(`${app.wsUrl}/${newUuid()}?token=${token}`);
        socket.on('error', () => undefined);
        socket.on('open', () => setTimeout(() => socket.close(1000), 1000));
        socket.on('close', (code) => resolve(code));
      });
    expect(await closed(b.token)).toBe(4401);
    expect(await closed(fresh)).toBe(1000);
  });

  it.skipIf(skip)('a password change needs the current password, ends the old tokens and answers a working one', async () => {
    const b = await buyer();
    expectError(await api('POST', '/api/auth/password', { token: b.token, body: { oldPassword: 'not-the-one', newPassword: 'new-pass-123' } }), 401, 'UNAUTHORIZED');
    expectError(await api('POST', '/api/auth/password', { token: b.token, body: { oldPassword: 'good-pass-12', newPassword: 'password' } }), 400, 'INVALID_INPUT');
    const changed = await api('POST', '/api/auth/password', { token: b.token, body: { oldPassword: 'good-pass-12', newPassword: 'new-pass-123' } });
    expect(changed.status).toBe(200);
    expectError(await api('GET', '/api/me', { token: b.token }), 401, 'UNAUTHORIZED');
    expect((await api('GET', '/api/me', { token: changed.body.token })).status).toBe(200);
    expectError(await login(api, b.phone, 'good-pass-12', '10.8.0.1'), 401, 'UNAUTHORIZED');
    expect((await login(api2, b.phone, 'new-pass-123', '10.8.0.2')).status).toBe(200);
  });

  it.skipIf(skip)('a role change ends the old tokens (checked against the cached row, refreshed within its time)', async () => {
    const b = await buyer();
    await app.adapters.users.upsert({ phone: b.phone, nickname: 'x', passwordHash: await hashPassword('good-pass-12', { N: 1024, r: 8, p: 1 }), role: 'admin' });
    await waitFor('the old token to be refused', () => api2('GET', '/api/me', { token: b.token }), (r) => r.status === 401);
    expectError(await api('POST', '/api/admin/alerts/take', { token: b.token }), 401, 'UNAUTHORIZED');
  });

  it.skipIf(skip)('a login with a scrypt hash of an earlier version rehashes it as argon2id at the configured parameters', async () => {
    const phone = newPhone();
    await app.adapters.users.create({ phone, nickname: 'old', passwordHash: await hashPassword('older-pass-1', { N: 1024, r: 8, p: 1 }), role: 'user' });
    expect((await login(api, phone, 'older-pass-1', '10.10.0.1')).status).toBe(200);
    const { memoryKiB, time } = app.config.passwordHash;
    expect((await app.adapters.users.findByPhone(phone))!.passwordHash).toMatch(new RegExp(`^\\$argon2id\\$v=19\\$m=${memoryKiB},t=${time},p=1\\$`));
    expect((await login(api2, phone, 'older-pass-1', '10.10.0.1')).status).toBe(200);
  });

  it.skipIf(skip)('without a trusted proxy, X-Forwarded-For is not the client address', async () => {
    const plain = await bootTestApp(mode, { SECKILL_AUTH_RATE_LIMIT_PER_MIN: '2' });
    try {
      const client = apiClient(plain.httpUrl);
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await login(client, newPhone(), 'whatever-1', `10.11.0.${i}`)).status);
      expect(statuses).toEqual([401, 401, 429]);
    } finally {
      await plain.destroy();
    }
  });

  it.skipIf(skip)('behind a trusted proxy (on: one hop) a client cannot choose its address: the leftmost X-Forwarded-For entry is ignored', async () => {
    // The proxy appends the address it saw (10.12.0.1); each attempt writes another address in front of it.
    const statuses = [];
    for (let i = 0; i < 9; i++) {
      const headers = { 'x-forwarded-for': `10.12.${i}.9, 10.12.0.1` };
      statuses.push((await (i % 2 ? api2 : api)('POST', '/api/auth/login', { body: { phone: newPhone(), password: 'whatever-1' }, headers })).status);
    }
    expect(statuses).toEqual([...Array(8).fill(401), 429]);
  });

  it.skipIf(skip)('framework refusals answer the error shape: bad URL encoding, an over-long path parameter, an unknown method', async () => {
    for (const head of ['GET /% HTTP/1.1', 'GET /api/%zz HTTP/1.1', 'GET /x%zz HTTP/1.1']) expectError(await rawRequest(app.httpUrl, head), 400, 'INVALID_INPUT');
    expectError(await rawRequest(app.httpUrl, `GET /api/seckill/goods/${'9'.repeat(200)} HTTP/1.1`), 404, 'NOT_FOUND');
    expectError(await rawRequest(app.httpUrl, 'DELETE /api/me HTTP/1.1'), 404, 'NOT_FOUND');
  });
});

describe.each<Mode>(['embedded', 'services'])('the hidden buy path (%s)', (mode) => {
  const skip = mode === 'services' && !servicesUp;
  let app: TestApp;
  let api: ApiClient;
  let admin: string;

  beforeAll(async () => {
    if (skip) return;
    app = await bootTestApp(mode, { SECKILL_HIDDEN_PATH: 'on' });
    api = apiClient(app.httpUrl);
    admin = await loginAdmin(api);
  }, 60_000);

  afterAll(async () => {
    await app?.destroy();
  });

  const { sale, stats } = adminSales((...args) => api(...args), () => admin, 'Hidden good');
  const register = async () => {
    const r = await registerOverHttp(api, { phone: newPhone(), password: 'good-pass-12' });
    return r.body.token as string;
  };

  it.skipIf(skip)('the page is told; a buy without a path, with a foreign or another sale\'s path is 403 FORBIDDEN and takes nothing; its own path buys', async () => {
    expect((await api('GET', '/api/config')).body.hiddenPath).toBe(true);
    const [id, otherId] = [await sale(10), await sale(10)];
    const [ann, bob] = [await register(), await register()];
    const pathOf = async (token: string, good: number) => {
      const r = await api('GET', `/api/seckill/goods/${good}/path`, { token });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ path: expect.any(String), expiresAt: expect.any(String) });
      return r.body.path as string;
    };
    const buy = (token: string, path?: string) => api('POST', '/api/seckill/orders', { token, body: { seckillGoodId: id, uuid: newUuid(), ...(path ? { path } : {}) } });
    expectError(await buy(ann), 403, 'FORBIDDEN');
    expectError(await buy(ann, await pathOf(bob, id)), 403, 'FORBIDDEN');
    expectError(await buy(ann, await pathOf(ann, otherId)), 403, 'FORBIDDEN');
    expectError(await buy(ann, 'garbage.path'), 403, 'FORBIDDEN');
    expect((await stats(id)).preStock).toBe(10);
    expect((await buy(ann, await pathOf(ann, id))).status).toBe(200);
  });

  it.skipIf(skip)('a path is used once: another request with it is 403 and takes nothing; the same request sent again answers its status', async () => {
    const id = await sale(10);
    const token = await register();
    const path = (await api('GET', `/api/seckill/goods/${id}/path`, { token })).body.path as string;
    const buy = (uuid: string, p: string) => api('POST', '/api/seckill/orders', { token, body: { seckillGoodId: id, uuid, path: p } });
    const first = newUuid();
    expect(await buy(first, path)).toMatchObject({ status: 200, body: { uuid: first, status: 'QUEUED' } });
    expectError(await buy(newUuid(), path), 403, 'FORBIDDEN');
    // A retry of the accepted request (its answer was lost), with its own path or a new one: its status, not 403.
    const retried = await buy(first, path);
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ uuid: first, status: expect.stringMatching(/^(QUEUED|SUCCESS)$/) });
    const fresh = (await api('GET', `/api/seckill/goods/${id}/path`, { token })).body.path as string;
    expect(await buy(first, fresh)).toMatchObject({ status: 200, body: { uuid: first } });
    // That new path now belongs to the first request too.
    expectError(await buy(newUuid(), fresh), 403, 'FORBIDDEN');
    expect((await stats(id)).preStock).toBe(9);
  });

  it.skipIf(skip)('fifty requests racing with one path: exactly one holds a unit, the others are 403 FORBIDDEN', async () => {
    const id = await sale(10);
    const token = await register();
    const path = (await api('GET', `/api/seckill/goods/${id}/path`, { token })).body.path as string;
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => api('POST', '/api/seckill/orders', { token, body: { seckillGoodId: id, uuid: newUuid(), path } })),
    );
    expect(answers.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of answers.filter((x) => x.status !== 200)) expectError(r, 403, 'FORBIDDEN');
    expect((await stats(id)).preStock).toBe(9);
  });

  it.skipIf(skip)('no path is handed out before the sale starts, after it ends, for an unknown sale or without a token', async () => {
    const token = await register();
    const now = Date.now();
    const later = await api('POST', '/api/admin/seckill/goods', {
      token: admin,
      body: { name: 'Later', price: 100, seckillPrice: 10, stock: 1, startAt: new Date(now + 3_600_000).toISOString(), endAt: new Date(now + 7_200_000).toISOString() },
    });
    expectError(await api('GET', `/api/seckill/goods/${later.body.id}/path`, { token }), 409, 'NOT_STARTED');
    expectError(await api('GET', '/api/seckill/goods/987654/path', { token }), 404, 'NOT_FOUND');
    expectError(await api('GET', `/api/seckill/goods/${later.body.id}/path`), 401, 'UNAUTHORIZED');
  });
});
