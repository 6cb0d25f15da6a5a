/**
 * Boot the whole app in process on port 0, isolated: embedded mode on a fresh temp data folder;
 * services mode on a fresh PostgreSQL schema, Redis key prefix and RabbitMQ name prefix, all removed on stop.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/app/config.ts';
import { startApp, type RunningApp } from '../../src/app/compose.ts';
import { dropRedisKeys, dropTopology } from '../../support/cleanup.ts';
import { SERVICE_URLS } from './services.ts';
import { withPaymentHooks, type WithPaymentHooks } from '../../src/adapters/payment/payment-hooks.fixture.ts';
import type { SimulatedPaymentProvider } from '../../src/adapters/payment/simulated-payment-provider.ts';

/** The admin account every test app starts with. */
export const TEST_ADMIN = { phone: '13800000000', password: 'admin-pass-123' };

export type Mode = 'embedded' | 'services';

export interface TestApp extends RunningApp {
  /** The app's payment provider with test hooks around it: hold or fail a charge on the wire or after it is taken. */
  paymentHooks: WithPaymentHooks<SimulatedPaymentProvider>;
  httpUrl: string;
  /** Stop and remove everything this app made. */
  destroy(): Promise<void>;
}

export async function bootTestApp(mode: Mode, env: Record<string, string> = {}): Promise<TestApp> {
  const id = randomBytes(4).toString('hex');
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'seckill-test-'));
  const config = loadConfig({
    SECKILL_MODE: mode,
    PORT: '0',
    WS_PORT: '0',
    SECKILL_DATA_DIR: dataDir,
    SECKILL_DEMO: 'false',
    SECKILL_ADMIN_PASSWORD: TEST_ADMIN.password,
    // Races send many requests per buyer, all from one address, and register many buyers on purpose; the
    // limits have their own tests. Password hashes at a test cost (the OWASP default has its own test).
    SECKILL_RATE_LIMIT_PER_S: '0',
    SECKILL_IP_RATE_LIMIT_PER_S: '0',
    SECKILL_AUTH_RATE_LIMIT_PER_MIN: '0',
    SECKILL_SMS_RATE_LIMIT_PER_HOUR: '0',
    SECKILL_AUTH_FAILURES_PER_MIN: '0',
    SECKILL_LOGIN_PHONE_FAILURES_PER_HOUR: '0',
    SECKILL_PASSWORD_ARGON2_MEMORY_KIB: '1024',
    SECKILL_PASSWORD_ARGON2_TIME: '1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...(mode === 'services'
      ? {
          DATABASE_URL: SERVICE_URLS.postgres,
          DATABASE_SCHEMA: `t_${id}`,
          REDIS_URL: SERVICE_URLS.redis,
          REDIS_KEY_PREFIX: `t:${id}:`,
          AMQP_URL: SERVICE_URLS.rabbitmq,
          AMQP_PREFIX: `t.${id}.`,
          SECKILL_TOKEN_SECRET: randomBytes(32).toString('hex'),
        }
      : {}),
    ...env,
  });
  const logger = pino({ level: config.logLevel });
  let payments: WithPaymentHooks<SimulatedPaymentProvider> | undefined;
  const app = await startApp(config, logger, undefined, { payments: (chosen) => (payments = withPaymentHooks(chosen)) });
  if (!app.httpUrl) throw new Error('the test app runs no api');
  return {
    ...app,
    paymentHooks: payments!,
    httpUrl: app.httpUrl,
    async destroy() {
      await app.stop();
      if (mode === 'services') await dropServiceState(config.databaseSchema!, config.redisKeyPrefix, config.amqpPrefix, config.payTimeoutMs);
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function dropServiceState(schema: string, redisPrefix: string, amqpPrefix: string, payTimeoutMs: number): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: SERVICE_URLS.postgres });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();

  await dropRedisKeys(SERVICE_URLS.redis, redisPrefix);
  await dropTopology(SERVICE_URLS.rabbitmq, amqpPrefix, payTimeoutMs);
}

/** A tiny JSON client for the api. */
export function apiClient(baseUrl: string) {
  return async function call<T = any>(
    method: string,
    url: string,
    opts: { body?: unknown; token?: string; rawBody?: string; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; body: T; headers: Headers }> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let payload: string | undefined = opts.rawBody;
    if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(opts.body);
    }
    const res = await fetch(baseUrl + url, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
    const text = await res.text();
    let body: any = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON */
    }
    return { status: res.status, body, headers: res.headers };
  };
}

export type ApiClient = ReturnType<typeof apiClient>;

/** A token of the test app's admin account. */
export async function loginAdmin(api: ApiClient): Promise<string> {
  return (await api('POST', '/api/auth/login', { body: TEST_ADMIN })).body.token as string;
}

/** Run `fn` over `items` with at most `limit` at once. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

export const newUuid = () => randomBytes(12).toString('base64url');
