/**
 * The settings the environment may give, by name, with what each accepts: one schema, so that every bad
 * setting is found in one pass. config.ts turns what it parses into the Config the product reads.
 */
import { z } from 'zod';
import { MOBILE_PHONE } from '../core/formats.ts';
import { parsePgServers, PgUrlError } from '../adapters/database/pg-hosts.ts';
import { AmqpUrlError, parseAmqpNodes } from '../adapters/order-bus/rabbitmq-nodes.ts';

const ROLES = ['api', 'worker', 'ws'] as const;
export type ProcessRole = (typeof ROLES)[number];

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const settingsSchema = z.object({
  SECKILL_MODE: z.enum(['embedded', 'services']).default('embedded'),
  SECKILL_ROLES: z
    .string()
    .default('api,worker,ws')
    .transform((s) => s.split(',').map((r) => r.trim()).filter(Boolean))
    .pipe(z.array(z.enum(ROLES)).min(1)),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: int(0, 65535).default(8080),
  WS_PORT: int(0, 65535).default(8085),
  /** Where the browser should open result sockets, when it differs from the api's host and WS_PORT. */
  WS_PUBLIC_URL: z.url().optional(),
  /** One server, or several libpq-style with target_session_attrs (docs/operations.md, PostgreSQL failover). */
  DATABASE_URL: z
    .string()
    .default('postgres://postgres@127.0.0.1:5432/postgres')
    .superRefine((url, ctx) => {
      try {
        parsePgServers(url);
      } catch (err) {
        if (!(err instanceof PgUrlError)) throw err;
        ctx.addIssue({ code: 'custom', message: err.message });
      }
    }),
  DATABASE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/).optional(),
  DATABASE_POOL_SIZE: int(1, 200).default(10),
  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  REDIS_KEY_PREFIX: z.string().max(64).default('seckill:'),
  REDIS_CLUSTER_NODES: z
    .string()
    .transform((s) => s.split(',').map((n) => n.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'host:port')).min(1))
    .optional(),
  REDIS_READ_FROM_REPLICAS: flag.default(false),
  /** One node, or the nodes of one cluster comma-separated (docs/operations.md, RabbitMQ cluster). */
  AMQP_URL: z
    .string()
    .default('amqp://guest:guest@127.0.0.1:5672')
    .superRefine((url, ctx) => {
      try {
        parseAmqpNodes(url);
      } catch (err) {
        if (!(err instanceof AmqpUrlError)) throw err;
        ctx.addIssue({ code: 'custom', message: err.message });
      }
    }),
  AMQP_PREFIX: z.string().max(64).default('seckill.'),
  AMQP_QUEUE_TYPE: z.enum(['classic', 'quorum']).default('classic'),
  /** RabbitMQ's management API (comma-separated for several nodes); default: port 15672 of each AMQP host. */
  AMQP_MANAGEMENT_URL: z
    .string()
    .transform((s) => s.split(',').map((u) => u.trim()).filter(Boolean))
    .pipe(z.array(z.url()).min(1))
    .optional(),
  /** The broker's collect_statistics_interval (how old its queue figures may be). */
  AMQP_STATS_INTERVAL_MS: int(100, 600_000).default(5000),
  SECKILL_API_PROCESSES: int(1, 1024).optional(),
  SECKILL_DATA_DIR: z.string().min(1).default('./.seckill-data'),
  ORDER_PAY_TIMEOUT_MS: int(1000, 7 * 24 * 3600 * 1000).default(15 * 60 * 1000),
  SECKILL_ADMIN_PHONE: z.string().regex(MOBILE_PHONE, 'an 11-digit mobile number').default('13800000000'),
  SECKILL_ADMIN_PASSWORD: z.string().min(8).max(128).optional(),
  SECKILL_TOKEN_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  SECKILL_TOKEN_TTL_S: int(60, 30 * 24 * 3600).default(24 * 3600),
  /** Refresh token lifetime (0: sessions carry none); under 24.8 days. */
  SECKILL_REFRESH_TTL_S: int(0, 21 * 24 * 3600).default(14 * 24 * 3600),
  /** Default: demo sales in the embedded mode only (a real shop's empty database gets none). */
  SECKILL_DEMO: flag.optional(),
  WORKER_PREFETCH: int(1, 10_000).default(100),
  SECKILL_RATE_LIMIT_PER_S: z.coerce.number().min(0).max(100_000).default(5),
  SECKILL_RATE_LIMIT_BURST: int(1, 100_000).default(10),
  SECKILL_IP_RATE_LIMIT_PER_S: int(0, 1_000_000).default(50),
  SECKILL_AUTH_RATE_LIMIT_PER_MIN: int(0, 100_000).default(600),
  SECKILL_AUTH_FAILURES_PER_MIN: int(0, 100_000).default(60),
  SECKILL_LOGIN_PHONE_FAILURES_PER_HOUR: int(0, 1_000_000).default(100),
  /**
   * off (default) | a hop count (`on`: 1) | a comma-separated list of addresses or CIDR ranges. Never "every
   * proxy": the leftmost X-Forwarded-For entry is whatever the client wrote.
   */
  SECKILL_TRUST_PROXY: z
    .string()
    .default('off')
    .transform((v, ctx): false | number | string[] => {
      const t = v.trim().toLowerCase();
      if (['off', 'false', 'no', '0'].includes(t)) return false;
      if (['on', 'true', 'yes'].includes(t)) return 1;
      if (/^\d{1,2}$/.test(t)) return Number(t);
      const list = t.split(',').map((x) => x.trim()).filter(Boolean);
      if (list.length && list.every((x) => /^[0-9a-f:.]+(\/\d{1,3})?$/.test(x))) return list;
      ctx.addIssue({ code: 'custom', message: 'off, on (one proxy), a hop count, or a comma-separated list of addresses / CIDR ranges' });
      return z.NEVER;
    }),
  /** Origins the shop page may show sale images from besides its own and data: (its Content-Security-Policy). */
  SECKILL_IMAGE_ORIGINS: z
    .string()
    .transform((s) => s.split(',').map((o) => o.trim()).filter(Boolean))
    .pipe(
      z.array(
        z.string().refine((o) => {
          try {
            const url = new URL(o);
            return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === o.replace(/\/$/, '');
          } catch {
            return false;
          }
        }, 'an origin: http(s)://host[:port], no path'),
      ),
    )
    .transform((list) => list.map((o) => new URL(o).origin))
    .default([]),
  SECKILL_HIDDEN_PATH: z.enum(['on', 'off', 'true', 'false', '1', '0']).default('off').transform((v) => v === 'on' || v === 'true' || v === '1'),
  SECKILL_PHONE_VERIFICATION: z.enum(['on', 'off', 'true', 'false', '1', '0']).default('on').transform((v) => v === 'on' || v === 'true' || v === '1'),
  SECKILL_SMS_ADAPTER: z.enum(['outbox', 'http']).default('outbox'),
  SECKILL_SMS_HTTP_URL: z.url({ protocol: /^https?$/ }).optional(),
  SECKILL_SMS_HTTP_AUTH_HEADER: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'a header name').default('Authorization'),
  SECKILL_SMS_HTTP_KEY: z.string().min(1).max(1024).optional(),
  SECKILL_SMS_HTTP_TIMEOUT_MS: int(100, 60_000).default(5000),
  SECKILL_SMS_RATE_LIMIT_PER_HOUR: int(0, 1_000_000).default(20),
  SECKILL_POW: z.enum(['off', 'register', 'buy', 'both']).default('off'),
  /** The ALTCHA puzzle's largest number: a client tries half of them on average. */
  SECKILL_POW_MAX_NUMBER: int(1000, 100_000_000).default(20_000),
  /** argon2id memory (KiB) and passes of new password hashes: 19 MiB and 2 are OWASP's; lower only to make tests fast. */
  SECKILL_PASSWORD_ARGON2_MEMORY_KIB: int(64, 256 * 1024).default(19 * 1024),
  SECKILL_PASSWORD_ARGON2_TIME: int(1, 20).default(2),
  SECKILL_TOKEN_VERSION_CACHE_MS: int(0, 60_000).default(5000),
  /** How long a request's note (QUEUED, then decided) is kept for the result poll; older uuids answer 404. */
  SECKILL_RESULT_NOTE_KEEP_MS: int(60_000, 30 * 24 * 3_600_000).default(24 * 3_600_000),
  /** How long an api process keeps the goods' database facts for the public list and detail (0: not at all). */
  SECKILL_GOODS_VIEW_TTL_MS: int(0, 60_000).default(1000),
  RECONCILE_INTERVAL_MS: int(200, 3_600_000).default(10_000),
  RECONCILE_GRACE_MS: int(100, 24 * 3_600_000).default(60_000),
  WORKER_BATCH_SIZE: int(1, 5000).default(500),
  API_BATCH_MAX_ORDERS: int(1, 5000).default(500),
  API_BATCH_MAX_WAIT_MS: int(0, 50).default(2),
  WORKER_CONCURRENCY: int(1, 64).default(4),
  REDIS_AUTO_PIPELINING: flag.default(true),
  BODY_LIMIT_BYTES: int(256, 1024 * 1024).default(16 * 1024),
  REDIS_COMMAND_TIMEOUT_MS: int(50, 60_000).default(1000),
  DATABASE_CONNECT_TIMEOUT_MS: int(100, 120_000).default(5000),
  DATABASE_STATEMENT_TIMEOUT_MS: int(100, 600_000).default(15_000),
  AMQP_CONFIRM_TIMEOUT_MS: int(100, 120_000).default(5000),
  PAYMENT_CHARGE_TIMEOUT_MS: int(100, 600_000).default(10_000),
  HTTP_REQUEST_TIMEOUT_MS: int(1000, 600_000).default(15_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: int(1000, 600_000).default(65_000),
  /** Connections per port (PORT, WS_PORT) per process, result sockets included. */
  HTTP_MAX_CONNECTIONS: int(10, 1_000_000).default(20_000),
  STARTUP_TIMEOUT_MS: int(0, 24 * 3_600_000).default(300_000),
  WS_MAX_SOCKETS_PER_USER: int(1, 1_000_000).default(50),
  WS_WAIT_MS: int(1000, 3_600_000).default(120_000),
  METRICS_TOKEN: z.string().min(16, 'at least 16 characters').max(256).optional(),
  /** A port of its own for GET /metrics (HOST), in whatever roles this process runs; unset: none. */
  METRICS_PORT: int(0, 65535).optional(),
  LOG_FORMAT: z.enum(['pretty', 'json']).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** The name of every setting (docs/operations.md documents each, a test holds it to this list). */
export const SETTINGS: readonly string[] = Object.keys(settingsSchema.shape);
