/** Sessions that last: refresh tokens over HTTP, on PGlite and on PostgreSQL. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, bootTestApp, type ApiClient, type Mode, type TestApp } from '../support/app.ts';
import { servicesAvailable } from '../support/services.ts';
import { registerOverHttp } from '../support/buyers.ts';

const servicesUp = await servicesAvailable('postgres', 'redis', 'rabbitmq');
let phoneSeq = 0;
const newPhone = () => `134${String(process.pid % 10_000).padStart(4, '0')}${String(++phoneSeq).padStart(4, '0')}`;
const PASSWORD = 'Owner-tulip-4821';

describe.each<Mode>(['embedded', 'services'])('refresh tokens (%s)', (mode) => {
  const skip = mode === 'services' && !servicesUp;
  let app: TestApp;
  let api: ApiClient;

  beforeAll(async () => {
    if (skip) return;
    app = await bootTestApp(mode);
    api = apiClient(app.httpUrl);
  }, 90_000);
  afterAll(async () => {
    await app?.destroy();
  });

  const register = async () => {
    const r = await registerOverHttp(api, { phone: newPhone(), password: PASSWORD });
    expect(r.status).toBe(201);
    return r.body;
  };
  const refresh = (refreshToken: string) => api('POST', '/api/auth/refresh', { body: { refreshToken } });

  it.skipIf(skip)('a session carries a refresh token that trades, once, for a new working session and a new refresh token', async () => {
    const first = await register();
    expect(first.refreshToken).toEqual(expect.any(String));
    expect(Date.parse(first.refreshExpiresAt)).toBeGreaterThan(Date.parse(first.expiresAt));
    const second = await refresh(first.refreshToken);
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ user: { id: first.user.id }, token: expect.any(String), refreshToken: expect.any(String) });
    expect(second.body.refreshToken).not.toBe(first.refreshToken);
    expect((await api('GET', '/api/me', { token: second.body.token })).body.id).toBe(first.user.id);
    const third = await refresh(second.body.refreshToken);
    expect(third.status).toBe(200);
  });

  it.skipIf(skip)('a refresh token used a second time ends its family: the thief\'s and the owner\'s successors both stop', async () => {
    const first = await register();
    const owner = (await refresh(first.refreshToken)).body;
    const replay = await refresh(first.refreshToken);
    expect(replay.status).toBe(401);
    expect(replay.body.error.code).toBe('UNAUTHORIZED');
    expect((await refresh(owner.refreshToken)).status).toBe(401);
    // Another session of the same buyer (another family) goes on.
    const other = await api('POST', '/api/auth/login', { body: { phone: first.user.phone, password: PASSWORD } });
    expect((await refresh(other.body.refreshToken)).status).toBe(200);
  });

  it.skipIf(skip)('of many concurrent refreshes with one token exactly one gets a session', async () => {
    const first = await register();
    const answers = await Promise.all(Array.from({ length: 12 }, () => refresh(first.refreshToken)));
    expect(answers.filter((r) => r.status === 200)).toHaveLength(1);
    expect(answers.every((r) => r.status === 200 || r.status === 401)).toBe(true);
  });

  it.skipIf(skip)('logout revokes every refresh token of the buyer; a password change too, and answers a working one', async () => {
    const first = await register();
    const other = (await api('POST', '/api/auth/login', { body: { phone: first.user.phone, password: PASSWORD } })).body;
    expect((await api('POST', '/api/auth/logout', { token: first.token })).status).toBe(204);
    expect((await refresh(first.refreshToken)).status).toBe(401);
    expect((await refresh(other.refreshToken)).status).toBe(401);

    const again = (await api('POST', '/api/auth/login', { body: { phone: first.user.phone, password: PASSWORD } })).body;
    const changed = await api('POST', '/api/auth/password', { token: again.token, body: { oldPassword: PASSWORD, newPassword: 'Staple-orbit-7731' } });
    expect(changed.status).toBe(200);
    expect((await refresh(again.refreshToken)).status).toBe(401);
    expect((await refresh(changed.body.refreshToken)).status).toBe(200);
  });

  it.skipIf(skip)('a refresh token of an earlier role is refused (the role change ends it); garbage is 401, a missing one 400', async () => {
    const first = await register();
    const found = (await app.adapters.users.findByPhone(first.user.phone))!;
    await app.adapters.users.upsert({ phone: found.phone, nickname: found.nickname, passwordHash: found.passwordHash, role: 'admin' });
    expect((await refresh(first.refreshToken)).status).toBe(401);
    expect((await refresh('x'.repeat(43))).status).toBe(401);
    const missing = await api('POST', '/api/auth/refresh', { body: {} });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details.fields).toEqual(['refreshToken']);
  });
});
