import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';
import { SETTINGS } from './settings.ts';

describe('config', () => {
  it('an empty environment gives the embedded defaults of docs/api.md', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ mode: 'embedded', port: 8080, wsPort: 8085, dataDir: './.seckill-data', payTimeoutMs: 900_000, adminPhone: '13800000000' });
    expect(c.roles).toEqual(['api', 'worker', 'ws']);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('every bad setting is listed at once', () => {
    try {
      loadConfig({ SECKILL_MODE: 'services', PORT: 'eighty', ORDER_PAY_TIMEOUT_MS: '-1', SECKILL_ROLES: 'api,chef' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const problems = (e as ConfigError).problems.join('\n');
      for (const name of ['PORT', 'ORDER_PAY_TIMEOUT_MS', 'SECKILL_ROLES', 'SECKILL_TOKEN_SECRET']) expect(problems).toContain(name);
    }
  });

  it('demo sales: on by default in the embedded mode only; an explicit setting wins in either mode', () => {
    const secret = { SECKILL_TOKEN_SECRET: 'x'.repeat(32) };
    expect(loadConfig({}).demo).toBe(true);
    expect(loadConfig({ SECKILL_MODE: 'services', ...secret }).demo).toBe(false);
    expect(loadConfig({ SECKILL_MODE: 'services', SECKILL_DEMO: 'true', ...secret }).demo).toBe(true);
    expect(loadConfig({ SECKILL_DEMO: 'false' }).demo).toBe(false);
  });

  it('services mode starts with a token secret and roles can be split', () => {
    const c = loadConfig({ SECKILL_MODE: 'services', SECKILL_TOKEN_SECRET: 'x'.repeat(32), SECKILL_ROLES: 'worker, ws' });
    expect(c.roles).toEqual(['worker', 'ws']);
  });

  it('cluster, replica reads, queue type and api processes: parsed; the combinations that cannot work refused', () => {
    const services = { SECKILL_MODE: 'services', SECKILL_TOKEN_SECRET: 'x'.repeat(32) };
    const c = loadConfig({ ...services, REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-b:7001', REDIS_READ_FROM_REPLICAS: 'true', AMQP_QUEUE_TYPE: 'quorum', SECKILL_API_PROCESSES: '3' });
    expect(c).toMatchObject({ redisReadFromReplicas: true, amqpQueueType: 'quorum', apiProcesses: 3 });
    expect(c.redisClusterNodes).toEqual([{ host: '10.0.0.1', port: 7000 }, { host: 'redis-b', port: 7001 }]);
    expect(loadConfig({})).toMatchObject({ redisClusterNodes: undefined, redisReadFromReplicas: false, amqpQueueType: 'classic', apiProcesses: 1 });
    expect(loadConfig(services).apiProcesses).toBeGreaterThanOrEqual(1);
    try {
      loadConfig({ SECKILL_API_PROCESSES: '2', REDIS_READ_FROM_REPLICAS: 'true', AMQP_QUEUE_TYPE: 'stream', REDIS_CLUSTER_NODES: 'nohost' });
      expect.unreachable();
    } catch (e) {
      const problems = (e as ConfigError).problems.join('\n');
      for (const name of ['SECKILL_API_PROCESSES: must be 1 in embedded mode', 'AMQP_QUEUE_TYPE', 'REDIS_CLUSTER_NODES']) expect(problems).toContain(name);
    }
    expect(() => loadConfig({ REDIS_READ_FROM_REPLICAS: 'true' })).toThrow(/REDIS_READ_FROM_REPLICAS: needs REDIS_CLUSTER_NODES/);
  });

  it('every setting is documented in docs/operations.md', () => {
    const doc = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
    expect(SETTINGS.length).toBeGreaterThan(30);
    expect(SETTINGS.filter((name) => !doc.includes('`' + name + '`'))).toEqual([]);
  });

  it('security settings: defaults, and every spelling of the trusted proxy', () => {
    expect(loadConfig({})).toMatchObject({
      trustProxy: false,
      hiddenPath: false,
      authRateLimitPerMinute: 600,
      authFailuresPerMinute: 60,
      loginPhoneFailuresPerHour: 100,
      ipRateLimitPerSecond: 50,
      rateLimitPerSecond: 5,
      rateLimitBurst: 10,
      passwordHash: { memoryKiB: 19 * 1024, time: 2, parallelism: 1 },
      tokenVersionCacheMs: 5000,
    });
    const proxy = (v: string) => loadConfig({ SECKILL_TRUST_PROXY: v }).trustProxy;
    expect([proxy('off'), proxy('on'), proxy('2'), proxy('10.0.0.0/8, 127.0.0.1')]).toEqual([false, 1, 2, ['10.0.0.0/8', '127.0.0.1']]);
    expect(loadConfig({ SECKILL_HIDDEN_PATH: 'on' }).hiddenPath).toBe(true);
    expect(loadConfig({}).imageOrigins).toEqual([]);
    expect(loadConfig({ SECKILL_IMAGE_ORIGINS: 'https://cdn.example.com, http://img.example.com:8081/' }).imageOrigins).toEqual(['https://cdn.example.com', 'http://img.example.com:8081']);
    for (const bad of ['cdn.example.com', 'https://cdn.example.com/images', 'javascript:alert(1)', "https://a.example.com;script-src *", '*']) {
      expect(() => loadConfig({ SECKILL_IMAGE_ORIGINS: bad }), bad).toThrow(/SECKILL_IMAGE_ORIGINS/);
    }
    expect(() => loadConfig({ SECKILL_TRUST_PROXY: 'everyone please' })).toThrow(/SECKILL_TRUST_PROXY/);
    expect(() => loadConfig({ SECKILL_PASSWORD_ARGON2_MEMORY_KIB: '4' })).toThrow(/SECKILL_PASSWORD_ARGON2_MEMORY_KIB/);
  });

  it('phone verification: on with the outbox by default; the http sender needs its URL', () => {
    expect(loadConfig({})).toMatchObject({ phoneVerification: true, sms: { adapter: 'outbox', authHeader: 'Authorization', timeoutMs: 5000, perAddressPerHour: 20 } });
    expect(loadConfig({ SECKILL_PHONE_VERIFICATION: 'off' }).phoneVerification).toBe(false);
    expect(() => loadConfig({ SECKILL_SMS_ADAPTER: 'http' })).toThrow(/SECKILL_SMS_HTTP_URL: required/);
    expect(() => loadConfig({ SECKILL_SMS_ADAPTER: 'http', SECKILL_SMS_HTTP_URL: 'ftp://gateway' })).toThrow(/SECKILL_SMS_HTTP_URL/);
    const http = loadConfig({ SECKILL_SMS_ADAPTER: 'http', SECKILL_SMS_HTTP_URL: 'https://sms.example.com/send', SECKILL_SMS_HTTP_AUTH_HEADER: 'X-API-Key', SECKILL_SMS_HTTP_KEY: 'k' });
    expect(http.sms).toEqual({ adapter: 'http', url: 'https://sms.example.com/send', authHeader: 'X-API-Key', key: 'k', timeoutMs: 5000, perAddressPerHour: 20 });
  });

  it('proof-of-work: off by default; register, buy or both; a difficulty', () => {
    expect(loadConfig({}).pow).toEqual({ scopes: [], maxNumber: 20_000 });
    expect(loadConfig({ SECKILL_POW: 'buy' }).pow.scopes).toEqual(['buy']);
    expect(loadConfig({ SECKILL_POW: 'both', SECKILL_POW_MAX_NUMBER: '50000' }).pow).toEqual({ scopes: ['register', 'buy'], maxNumber: 50_000 });
    expect(() => loadConfig({ SECKILL_POW: 'login' })).toThrow(/SECKILL_POW/);
  });
});
