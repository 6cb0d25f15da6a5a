/**
 * Phone verification over HTTP (embedded and services): a code from the outbox opens an account, a taken
 * phone answers like a free one until a code proves it, a reset ends every session, and the send limits hold.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, bootTestApp, type ApiClient, type Mode, type TestApp } from '../support/app.ts';
import { codeFromOutbox, registerOverHttp } from '../support/buyers.ts';
import { servicesAvailable } from '../support/services.ts';

const servicesUp = await servicesAvailable('postgres', 'redis', 'rabbitmq');
let seq = Math.floor(Math.random() * 1e6);
const newPhone = () => `135${String(++seq).padStart(8, '0')}`;

function expectError(r: { status: number; body: any }, status: number, code: string) {
  expect(r.status).toBe(status);
  expect(r.body).toEqual({ error: expect.objectContaining({ code, message: expect.any(String) }) });
}

describe.each<Mode>(['embedded', 'services'])('phone verification (%s)', (mode) => {
  const skip = mode === 'services' && !servicesUp;
  let app: TestApp;
  let api: ApiClient;
  const askCode = (phone: string, purpose: 'register' | 'reset', ip = '10.20.0.1') =>
    api('POST', '/api/auth/sms-code', { body: { phone, purpose }, headers: { 'x-forwarded-for': ip } });

  beforeAll(async () => {
    if (skip) return;
    app = await bootTestApp(mode, { SECKILL_TRUST_PROXY: 'on', SECKILL_SMS_RATE_LIMIT_PER_HOUR: '4' });
    api = apiClient(app.httpUrl);
  }, 90_000);
  afterAll(async () => {
    await app?.destroy();
  });

  it.skipIf(skip)('the page is told verification is on and codes are in the outbox; a code from it opens the account', async () => {
    expect((await api('GET', '/api/config')).body).toMatchObject({ phoneVerification: true, smsOutbox: true });
    const phone = newPhone();
    const r = await registerOverHttp(api, { phone, password: 'good-pass-12' });
    expect(r.status).toBe(201);
    expect((await api('GET', '/api/me', { token: r.body.token })).body).toMatchObject({ phone });
    const outbox = (await api('GET', `/api/dev/sms-outbox?phone=${phone}`)).body;
    expect(outbox.items).toEqual([{ phone, text: expect.stringMatching(/\b\d{6}\b.*expires in 5 minutes/), sentAt: expect.any(String) }]);
  });

  it.skipIf(skip)('asking for a code answers 202 alike for a taken and a free phone; register answers alike until a code is right', async () => {
    const taken = newPhone();
    expect(await app.adapters.users.create({ phone: taken, nickname: 'owner', passwordHash: 'not-a-login', role: 'user' })).not.toBeNull();
    const free = newPhone();
    const [a, b] = [await askCode(taken, 'register', '10.20.1.1'), await askCode(free, 'register', '10.20.1.2')];
    expect([a.status, a.body, b.status, b.body]).toEqual([202, undefined, 202, undefined]);
    // The taken phone's owner is told someone tried; no code exists for it.
    expect((await api('GET', `/api/dev/sms-outbox?phone=${taken}`)).body.items[0].text).toMatch(/already has an account/);
    const strip = (r: { status: number; body: any }) => JSON.stringify([r.status, r.body]);
    for (const code of [undefined, '000000']) {
      const body = (phone: string) => ({ phone, password: 'good-pass-12', ...(code ? { code } : {}) });
      expect(strip(await api('POST', '/api/auth/register', { body: body(taken) }))).toBe(strip(await api('POST', '/api/auth/register', { body: body(free) })));
    }
    expectError(await api('POST', '/api/auth/register', { body: { phone: free, password: 'good-pass-12', code: '12345' } }), 400, 'INVALID_INPUT');
  });

  it.skipIf(skip)('a code is single-use: the second register with it is refused on the code', async () => {
    const phone = newPhone();
    expect((await askCode(phone, 'register', '10.20.2.1')).status).toBe(202);
    const code = await codeFromOutbox(api, phone);
    const tries = await Promise.all([1, 2, 3].map(() => api('POST', '/api/auth/register', { body: { phone, password: 'good-pass-12', code } })));
    expect(tries.map((t) => t.status).sort()).toEqual([201, 400, 400]);
  });

  it.skipIf(skip)('a reset with the code sent for it sets the new password and every earlier token stops working', async () => {
    const phone = newPhone();
    const first = await registerOverHttp(api, { phone, password: 'first-pass-12' });
    expect(first.status).toBe(201);
    expect((await askCode(phone, 'reset', '10.20.3.1')).status).toBe(202);
    const code = await codeFromOutbox(api, phone);
    expectError(await api('POST', '/api/auth/reset', { body: { phone, code: code === '111111' ? '222222' : '111111', password: 'second-pass-12' } }), 400, 'INVALID_INPUT');
    const reset = await api('POST', '/api/auth/reset', { body: { phone, code, password: 'second-pass-12' } });
    expect([reset.status, reset.body]).toEqual([204, undefined]);
    expectError(await api('GET', '/api/me', { token: first.body.token }), 401, 'UNAUTHORIZED');
    expectError(await api('POST', '/api/auth/login', { body: { phone, password: 'first-pass-12' } }), 401, 'UNAUTHORIZED');
    expect((await api('POST', '/api/auth/login', { body: { phone, password: 'second-pass-12' } })).status).toBe(200);
    expectError(await api('POST', '/api/auth/reset', { body: { phone, code, password: 'third-pass-12' } }), 400, 'INVALID_INPUT');
  });

  it.skipIf(skip)('a second code to one phone within the minute, and a fifth from one address within the hour, are 429 RATE_LIMITED', async () => {
    const phone = newPhone();
    expect((await askCode(phone, 'register', '10.20.4.1')).status).toBe(202);
    const again = await askCode(phone, 'register', '10.20.4.2');
    expectError(again, 429, 'RATE_LIMITED');
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await askCode(newPhone(), 'register', '10.20.5.1')).status);
    expect(statuses).toEqual([202, 202, 202, 202, 429]);
  });
});

describe('phone verification off, and a real gateway (embedded)', () => {
  let app: TestApp | undefined;
  afterAll(async () => {
    await app?.destroy();
  });

  it('off: register needs no code and a taken phone is 409 PHONE_TAKEN; with the http sender the outbox route does not exist', async () => {
    app = await bootTestApp('embedded', { SECKILL_PHONE_VERIFICATION: 'off', SECKILL_SMS_ADAPTER: 'http', SECKILL_SMS_HTTP_URL: 'http://127.0.0.1:9/sms' });
    const api = apiClient(app.httpUrl);
    expect((await api('GET', '/api/config')).body).toMatchObject({ phoneVerification: false, smsOutbox: false });
    const phone = newPhone();
    expect((await api('POST', '/api/auth/register', { body: { phone, password: 'good-pass-12' } })).status).toBe(201);
    expectError(await api('POST', '/api/auth/register', { body: { phone, password: 'good-pass-12' } }), 409, 'PHONE_TAKEN');
    expectError(await api('GET', `/api/dev/sms-outbox?phone=${phone}`), 404, 'NOT_FOUND');
    // Nothing listens on the discard port: the gateway cannot be reached, and the buyer is told to try later.
    expectError(await api('POST', '/api/auth/sms-code', { body: { phone, purpose: 'reset' } }), 503, 'UNAVAILABLE');
  });
});
