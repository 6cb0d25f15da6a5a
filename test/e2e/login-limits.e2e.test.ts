/**
 * Login limits an attacker cannot turn against the owner, over HTTP in both modes (memory limiter; Redis
 * limiter shared by two api processes). Client addresses come from X-Forwarded-For behind a trusted proxy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, bootTestApp, type ApiClient, type Mode, type TestApp } from '../support/app.ts';
import { servicesAvailable } from '../support/services.ts';
import { registerOverHttp } from '../support/buyers.ts';

const servicesUp = await servicesAvailable('postgres', 'redis', 'rabbitmq');
let phoneSeq = 0;
const newPhone = () => `135${String(process.pid % 10_000).padStart(4, '0')}${String(++phoneSeq).padStart(4, '0')}`;
const PASSWORD = 'Owner-tulip-4821';

describe.each<Mode>(['embedded', 'services'])('login limits (%s)', (mode) => {
  const skip = mode === 'services' && !servicesUp;
  let app: TestApp;
  let second: TestApp | undefined;
  let api: ApiClient;
  let api2: ApiClient;

  const LIMITS = {
    SECKILL_TRUST_PROXY: 'on',
    SECKILL_AUTH_RATE_LIMIT_PER_MIN: '50',
    SECKILL_AUTH_FAILURES_PER_MIN: '30',
    SECKILL_LOGIN_PHONE_FAILURES_PER_HOUR: '12',
  };

  beforeAll(async () => {
    if (skip) return;
    app = await bootTestApp(mode, LIMITS);
    api = api2 = apiClient(app.httpUrl);
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
  }, 90_000);

  afterAll(async () => {
    await second?.stop();
    await app?.destroy();
  });

  const login = (client: ApiClient, phone: string, password: string, ip: string) =>
    client('POST', '/api/auth/login', { body: { phone, password }, headers: { 'x-forwarded-for': ip } });
  const owner = async (ip: string) => {
    const phone = newPhone();
    const r = await registerOverHttp(api, { phone, password: PASSWORD }, { headers: { 'x-forwarded-for': ip } });
    expect(r.status).toBe(201);
    return phone;
  };

  it.skipIf(skip)('twenty wrong passwords from address A: A waits, the owner on address B logs in at once', async () => {
    const phone = await owner('10.20.0.2');
    const fromA = [];
    for (let i = 0; i < 20; i++) fromA.push(await login(i % 2 ? api2 : api, phone, `Wrong-guess-${i}x`, '10.20.0.1'));
    expect(fromA.slice(0, 6).map((r) => r.status)).toEqual(Array(6).fill(401));
    expect(fromA.slice(6).every((r) => r.status === 429 && r.body.error.code === 'RATE_LIMITED' && Number(r.headers.get('retry-after')) >= 1)).toBe(true);
    const fromB = await login(api2, phone, PASSWORD, '10.20.0.2');
    expect(fromB.status).toBe(200);
    // A new address works as well: the phone is far from its ceiling.
    expect((await login(api, phone, PASSWORD, '10.20.0.3')).status).toBe(200);
  });

  it.skipIf(skip)('pressing while blocked does not lengthen the block, nor spend the address\'s budget', async () => {
    const phone = await owner('10.21.0.2');
    for (let i = 0; i < 7; i++) await login(api, phone, `Wrong-guess-${i}x`, '10.21.0.1');
    // Far more presses than the address's 50 attempts and 30 failures a minute. A refused press never lengthens
    // the wait; only a press that got to the password (the block having run out, on a slow machine) may.
    let previous = Infinity;
    let refused = 0;
    for (let i = 0; i < 80; i++) {
      const r = await login(i % 2 ? api2 : api, phone, `Wrong-guess-${i}y`, '10.21.0.1');
      expect([401, 429]).toContain(r.status);
      if (r.status === 401) {
        previous = Infinity;
        continue;
      }
      refused++;
      const wait = Number(r.headers.get('retry-after'));
      expect(wait).toBeLessThanOrEqual(previous);
      previous = wait;
    }
    expect(refused).toBeGreaterThan(70);
    // The same address logs in to another account: nothing of its budget went to the refused presses.
    const other = await owner('10.21.0.9');
    expect((await login(api2, other, PASSWORD, '10.21.0.1')).status).toBe(200);
  });

  it.skipIf(skip)('distributed guessing stops at the phone\'s ceiling; the owner\'s usual address still logs in', async () => {
    const phone = await owner('10.22.0.200');
    expect((await login(api, phone, PASSWORD, '10.22.0.200')).status).toBe(200);
    const statuses = [];
    // One guess from each of 20 addresses, none of them blocked on its own.
    for (let i = 0; i < 20; i++) statuses.push((await login(i % 2 ? api2 : api, phone, `Wrong-guess-${i}z`, `10.22.1.${i}`)).status);
    expect(statuses.slice(0, 12)).toEqual(Array(12).fill(401));
    expect(statuses.slice(12)).toEqual(Array(8).fill(429));
    // The right password from a new address waits too (it cannot be told from a guess) …
    expect((await login(api, phone, PASSWORD, '10.22.2.1')).status).toBe(429);
    // … but not from an address this phone logged in from.
    expect((await login(api2, phone, PASSWORD, '10.22.0.200')).status).toBe(200);
  });

  it.skipIf(skip)('one address trying a password over many phones stops at its failures a minute; the owner on another address still logs in', async () => {
    const phone = await owner('10.23.0.2');
    const statuses = [];
    for (let i = 0; i < 32; i++) statuses.push((await login(i % 2 ? api2 : api, newPhone(), 'Summer-2026-xx', '10.23.0.1')).status);
    expect(statuses.slice(0, 30)).toEqual(Array(30).fill(401));
    expect(statuses.slice(30)).toEqual([429, 429]);
    // Past its failures the address is refused, the right password included: it cannot be told from a guess.
    expect((await login(api, phone, PASSWORD, '10.23.0.1')).status).toBe(429);
    expect((await login(api, phone, PASSWORD, '10.23.0.3')).status).toBe(200);
  });
});
