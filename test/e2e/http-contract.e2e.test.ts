/** Bad input gets a clear, documented error and changes nothing (embedded mode; the HTTP layer is shared). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerOverHttp } from '../support/buyers.ts';
import { apiClient, bootTestApp, newUuid, type ApiClient, type TestApp, loginAdmin } from '../support/app.ts';

let app: TestApp;
let api: ApiClient;
let admin: string;
let buyer: string;
let goodId: number;
const iso = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();
const HOUR = 3_600_000;

async function newGood(body: Record<string, unknown> = {}) {
  const r = await api('POST', '/api/admin/seckill/goods', {
    token: admin,
    body: { name: 'Contract good', price: 1000, seckillPrice: 10, stock: 5, startAt: iso(-1000), endAt: iso(HOUR), ...body },
  });
  expect(r.status).toBe(201);
  return r.body.id as number;
}

async function preStock(id: number) {
  return (await api('GET', `/api/admin/seckill/goods/${id}/stats`, { token: admin })).body.preStock;
}

function expectError(r: { status: number; body: any }, status: number, code: string) {
  expect(r.status).toBe(status);
  expect(r.body).toEqual({ error: expect.objectContaining({ code, message: expect.any(String) }) });
  expect(JSON.stringify(r.body)).not.toMatch(/at .*\.ts:\d+/);
}

beforeAll(async () => {
  app = await bootTestApp('embedded', { SECKILL_RATE_LIMIT_PER_S: '5', SECKILL_RATE_LIMIT_BURST: '10' });
  api = apiClient(app.httpUrl);
  admin = await loginAdmin(api);
  buyer = (await registerOverHttp(api, { phone: '13912340000', password: 'tulip-orbit-92', nickname: 'Lin' })).body.token;
  goodId = await newGood();
}, 60_000);

afterAll(async () => {
  await app?.destroy();
});

describe('accounts', () => {
  it('register answers 201 with the user and a token that /api/me accepts', async () => {
    const r = await registerOverHttp(api, { phone: '13912340001', password: 'tulip-orbit-92' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ user: { phone: '13912340001', role: 'user', nickname: expect.any(String) }, token: expect.any(String), expiresAt: expect.any(String) });
    expect((await api('GET', '/api/me', { token: r.body.token })).body).toMatchObject({ phone: '13912340001', role: 'user' });
  });

  it('bad register input names the fields; a taken phone without its code is refused on the code, like any phone', async () => {
    const r = await api('POST', '/api/auth/register', { body: { phone: '12', password: 'short' } });
    expectError(r, 400, 'INVALID_INPUT');
    expect(r.body.error.details.fields).toEqual(expect.arrayContaining(['phone', 'password']));
    const taken = await api('POST', '/api/auth/register', { body: { phone: '13912340000', password: 'tulip-orbit-92' } });
    expectError(taken, 400, 'INVALID_INPUT');
    expect(taken.body.error.details.fields).toEqual(['code']);
    const common = await api('POST', '/api/auth/register', { body: { phone: '13912340077', password: '12345678' } });
    expectError(common, 400, 'INVALID_INPUT');
    expect(common.body.error.details.fields).toEqual(['password']);
  });

  it('a password easy to guess is refused at register and at a password change, with the estimator\'s feedback', async () => {
    for (const password of ['qwerty12', '1234567a', 'aaaaaaab', '13912340078']) {
      const r = await api('POST', '/api/auth/register', { body: { phone: '13912340078', password } });
      expectError(r, 400, 'INVALID_INPUT');
      expect(r.body.error.details).toMatchObject({ fields: ['password'], strength: { score: expect.any(Number), minimum: 3, suggestions: expect.any(Array) } });
    }
    const changed = await api('POST', '/api/auth/password', { token: buyer, body: { oldPassword: 'tulip-orbit-92', newPassword: 'qwerty12' } });
    expectError(changed, 400, 'INVALID_INPUT');
    expect(changed.body.error.details.fields).toEqual(['newPassword']);
    expect((await api('GET', '/api/me', { token: buyer })).status).toBe(200);
  });

  it('a NUL or other control character in any text field is INVALID_INPUT naming the field, never a 500', async () => {
    const nul = (s: string) => `${s}\u0000x`;
    for (const [url, body, field, token] of [
      ['/api/auth/register', { phone: '13912349999', password: 'tulip-orbit-92', nickname: nul('nick') }, 'nickname', undefined],
      ['/api/auth/register', { phone: '13912349998', password: nul('tulip-orbit-92') }, 'password', undefined],
      ['/api/auth/login', { phone: nul('1391234'), password: 'tulip-orbit-92' }, 'phone', undefined],
      ['/api/auth/login', { phone: '13912340000', password: 'pass\u0007word-123' }, 'password', undefined],
      ['/api/admin/seckill/goods', { name: nul('good'), price: 1, seckillPrice: 1, stock: 1, startAt: iso(-1000), endAt: iso(HOUR) }, 'name', admin],
      ['/api/admin/seckill/goods', { name: 'good', title: nul('t'), price: 1, seckillPrice: 1, stock: 1, startAt: iso(-1000), endAt: iso(HOUR) }, 'title', admin],
    ] as const) {
      const r = await api('POST', url, { body, ...(token ? { token } : {}) });
      expectError(r, 400, 'INVALID_INPUT');
      expect(r.body.error.details.fields).toContain(field);
    }
  });

  it('wrong credentials and missing or forged tokens are 401', async () => {
    expectError(await api('POST', '/api/auth/login', { body: { phone: '13912340000', password: 'wrong-password' } }), 401, 'UNAUTHORIZED');
    expectError(await api('POST', '/api/auth/login', { body: { phone: '13000000000', password: 'tulip-orbit-92' } }), 401, 'UNAUTHORIZED');
    expectError(await api('GET', '/api/me'), 401, 'UNAUTHORIZED');
    expectError(await api('GET', '/api/me', { token: buyer.slice(0, -2) + 'xx' }), 401, 'UNAUTHORIZED');
  });
});

describe('seckill orders: every refusal takes nothing from stock', () => {
  it('unauthenticated, malformed, oversized and unknown requests are refused with their codes', async () => {
    const before = await preStock(goodId);
    expectError(await api('POST', '/api/seckill/orders', { body: { seckillGoodId: goodId, uuid: newUuid() } }), 401, 'UNAUTHORIZED');
    const bad = await api('POST', '/api/seckill/orders', { token: buyer, body: { seckillGoodId: 'one', uuid: 'a b' } });
    expectError(bad, 400, 'INVALID_INPUT');
    expect(bad.body.error.details.fields).toEqual(expect.arrayContaining(['seckillGoodId', 'uuid']));
    expectError(await api('POST', '/api/seckill/orders', { token: buyer, body: { seckillGoodId: goodId, uuid: 'short' } }), 400, 'INVALID_INPUT');
    expectError(await api('POST', '/api/seckill/orders', { token: buyer, body: { seckillGoodId: -1, uuid: newUuid() } }), 400, 'INVALID_INPUT');
    expectError(
      await api('POST', '/api/seckill/orders', { token: buyer, rawBody: '{"seckillGoodId":', headers: { 'content-type': 'application/json' } }),
      400,
      'INVALID_INPUT',
    );
    expectError(
      await api('POST', '/api/seckill/orders', { token: buyer, body: { seckillGoodId: goodId, uuid: newUuid(), pad: 'x'.repeat(20_000) } }),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    expectError(await api('POST', '/api/seckill/orders', { token: buyer, body: { seckillGoodId: 999_999, uuid: newUuid() } }), 404, 'NOT_FOUND');
    expect(await preStock(goodId)).toBe(before);
  });

  it('outside the sale window: NOT_STARTED before, ENDED after', async () => {
    const later = await newGood({ startAt: iso(HOUR), endAt: iso(2 * HOUR) });
    const r = await api('POST', '/api/seckill/orders', { token: buyer, body: { seckillGoodId: later, uuid: newUuid() } });
    expectError(r, 409, 'NOT_STARTED');
    expect(await preStock(later)).toBe(5);
  });

  it('a buyer pressing faster than the limit gets 429 RATE_LIMITED with Retry-After, and the presses take nothing', async () => {
    const id = await newGood();
    const presser = (await registerOverHttp(api, { phone: '13912340009', password: 'tulip-orbit-92' })).body.token;
    const answers = [];
    for (let i = 0; i < 15; i++) answers.push(await api('POST', '/api/seckill/orders', { token: presser, body: { seckillGoodId: id, uuid: newUuid() } }));
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expectError(limited[0]!, 429, 'RATE_LIMITED');
    expect(Number(limited[0]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // The burst is allowed: the first press holds a unit, the next ones are this buyer's duplicates.
    expect(answers[0]!.status).toBe(200);
    expect(answers.slice(1, 10).every((a) => a.status === 409)).toBe(true);
    // Only that first press took a unit.
    expect(await preStock(id)).toBe(4);
  });

  it('presses that cost no I/O (a sale not started yet) are answered, never counted against the limit', async () => {
    const id = await newGood({ startAt: iso(HOUR), endAt: iso(2 * HOUR) });
    const presser = (await registerOverHttp(api, { phone: '13912340010', password: 'tulip-orbit-92' })).body.token;
    const answers = [];
    for (let i = 0; i < 15; i++) answers.push(await api('POST', '/api/seckill/orders', { token: presser, body: { seckillGoodId: id, uuid: newUuid() } }));
    for (const a of answers) expectError(a, 409, 'NOT_STARTED');
    expect(await preStock(id)).toBe(5);
  });

  it('when the queue is down the buyer gets 503 UNAVAILABLE and the unit goes back', async () => {
    const id = await newGood();
    const bus = app.adapters.bus;
    const publish = bus.publishOrders;
    bus.publishOrders = async () => {
      throw new Error('broker down');
    };
    try {
      const uuid = newUuid();
      expectError(await api('POST', '/api/seckill/orders', { token: buyer, body: { seckillGoodId: id, uuid } }), 503, 'UNAVAILABLE');
      expect(await preStock(id)).toBe(5);
      expect((await app.adapters.cache.read(id)).inFlight).toBe(0);
    } finally {
      bus.publishOrders = publish;
    }
    // The same buyer can try again once the queue is back.
    expect((await api('POST', '/api/seckill/orders', { token: buyer, body: { seckillGoodId: id, uuid: newUuid() } })).status).toBe(200);
  });
});

describe('admin', () => {
  it('a buyer may not create sales or read stats', async () => {
    expectError(await api('POST', '/api/admin/seckill/goods', { token: buyer, body: {} }), 403, 'FORBIDDEN');
    expectError(await api('GET', `/api/admin/seckill/goods/${goodId}/stats`, { token: buyer }), 403, 'FORBIDDEN');
  });

  it('a sale that is already over, or an image address that is not http(s) or a site path, is INVALID_INPUT', async () => {
    const sale = (body: Record<string, unknown>) =>
      api('POST', '/api/admin/seckill/goods', { token: admin, body: { name: 'G', price: 10, seckillPrice: 1, stock: 1, startAt: iso(-2 * HOUR), endAt: iso(HOUR), ...body } });
    const over = await sale({ endAt: iso(-HOUR) });
    expectError(over, 400, 'INVALID_INPUT');
    expect(over.body.error.details.fields).toEqual(['endAt']);
    for (const imageUrl of ['javascript:alert(1)', 'data:text/html,x', '//evil.example/x.png', 'ftp://x/y.png', 'img.png']) {
      const r = await sale({ imageUrl });
      expectError(r, 400, 'INVALID_INPUT');
      expect(r.body.error.details.fields).toContain('imageUrl');
    }
    for (const imageUrl of ['https://cdn.example.com/a.png', 'http://localhost/a.png', '/images/keyboard.svg', '']) expect((await sale({ imageUrl })).status).toBe(201);
  });

  it('dead-order replay is admin only, validates max, and answers how many orders went back (none here)', async () => {
    expectError(await api('POST', '/api/admin/dead-orders/replay', { token: buyer }), 403, 'FORBIDDEN');
    expectError(await api('POST', '/api/admin/dead-orders/replay?max=0', { token: admin }), 400, 'INVALID_INPUT');
    const r = await api('POST', '/api/admin/dead-orders/replay?max=10', { token: admin });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ replayed: 0 });
  });

  it('an operator takes the alerts the system raised, oldest first, and they are gone afterwards', async () => {
    const at = new Date().toISOString();
    await app.adapters.bus.raiseAlert({ kind: 'CACHE_RESTOCK_FAILED', message: 'redis down', seckillGoodId: goodId, at });
    await app.adapters.bus.raiseAlert({ kind: 'STOCK_RESYNC_FAILED', message: 'redis down', seckillGoodId: goodId, at });
    expectError(await api('POST', '/api/admin/alerts/take', { token: buyer }), 403, 'FORBIDDEN');
    const taken = await api('POST', '/api/admin/alerts/take?max=10', { token: admin });
    expect(taken.body.items.map((a: any) => a.kind)).toEqual(['CACHE_RESTOCK_FAILED', 'STOCK_RESYNC_FAILED']);
    expect((await api('POST', '/api/admin/alerts/take', { token: admin })).body.items).toEqual([]);
  });

  it('an inconsistent sale is refused field by field', async () => {
    const post = (body: Record<string, unknown>) =>
      api('POST', '/api/admin/seckill/goods', { token: admin, body: { name: 'x', price: 100, seckillPrice: 10, stock: 1, startAt: iso(0), endAt: iso(HOUR), ...body } });
    for (const [body, field] of [
      [{ stock: -1 }, 'stock'],
      [{ price: 1.5 }, 'price'],
      [{ startAt: 'tomorrow' }, 'startAt'],
      [{ endAt: iso(-HOUR) }, 'endAt'],
      [{ seckillPrice: 1000 }, 'seckillPrice'],
      [{ name: '' }, 'name'],
    ] as const) {
      const r = await post(body);
      expectError(r, 400, 'INVALID_INPUT');
      expect(r.body.error.details.fields).toContain(field);
    }
  });

  it('a new sale is listed with its cached stock and its stats start at zero', async () => {
    const list = await api('GET', '/api/seckill/goods');
    expect(list.body.items.find((g: any) => g.id === goodId)).toMatchObject({ id: goodId, stock: 5, price: 1000, seckillPrice: 10 });
    const stats = await api('GET', `/api/admin/seckill/goods/${goodId}/stats`, { token: admin });
    expect(stats.body).toEqual({
      id: goodId,
      stock: 5,
      preStock: 5,
      queued: 0,
      orders: { UNPAID: 0, PAID: 0, CANCELLED: 0, TIMEOUT: 0, REFUNDED: 0 },
      requests: expect.any(Number),
    });
  });
});

describe('the rest of the surface', () => {
  it('health names the mode, unknown routes are JSON 404s, metrics are Prometheus text', async () => {
    expect((await api('GET', '/api/health')).body).toEqual({ status: 'ok', mode: 'embedded', checks: { db: 'ok', cache: 'ok', bus: 'ok' } });
    expect((await api('GET', '/api/ready')).body).toEqual({ status: 'ready' });
    expectError(await api('GET', '/api/nope'), 404, 'NOT_FOUND');
    expectError(await api('GET', '/api/seckill/goods/abc'), 400, 'INVALID_INPUT');
    const metrics = await api('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(String(metrics.body)).toContain('seckill_requests_total');
  });
});
