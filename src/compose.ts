/**
 * The only place that picks adapters: embedded (PGlite + in-process cache and bus) or services
 * (PostgreSQL + Redis + RabbitMQ). Prepares the data and starts the roles this process runs (roles.ts
 * wires each role from the adapters chosen here), and stops them in reverse order.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { ensureAccount } from './core/accounts.ts';
import { createGoodsCatalog, createSale } from './core/sales.ts';
import { refillRequestNotes } from './core/request-notes.ts';
import { createTokenSigner, type TokenSigner } from './core/credentials.ts';
import type { Clock, OrderBus, OrderStore, StockCache, UserStore } from './core/ports.ts';
import { createTokenVersions } from './core/token-versions.ts';
import type { ScryptParams } from './core/credentials.ts';
import type { MakeLimiter } from './core/ports.ts';
import { createMemoryLimiters, createRedisLimiters } from './adapters/limiter/flexible-limiter.ts';
import { loadGoodIntoCache } from './core/stock-sync.ts';
import type { Database } from './adapters/database/database.ts';
import { migrate } from './adapters/database/migrate.ts';
import { createPgDatabase } from './adapters/database/pg-database.ts';
import { createPgliteDatabase } from './adapters/database/pglite-database.ts';
import { createMemoryOrderBus } from './adapters/order-bus/memory-order-bus.ts';
import { createRabbitOrderBus, QueueDeclarationConflict } from './adapters/order-bus/rabbitmq-order-bus.ts';
import { createSqlOrderStore } from './adapters/order-store/sql-order-store.ts';
import { createSqlUserStore } from './adapters/user-store/sql-user-store.ts';
import { createMemoryStockCache } from './adapters/stock-cache/memory-stock-cache.ts';
import { createRedisStockCache } from './adapters/stock-cache/redis-stock-cache.ts';
import type { ReconcilerJob } from './entry-points/jobs/reconciler.job.ts';
import { createLedgerPaymentProvider, type SimulatedPaymentProvider } from './adapters/payment/simulated-payment-provider.ts';
import { createMetrics, type Metrics } from './entry-points/metrics.ts';
import { demoSales } from './demo.ts';
import { untilUp } from './until-up.ts';
import { startApiRole, startMetricsPort, startWorkerRole, startWsRole, type RoleContext } from './roles.ts';
import { isSeckillError } from './core/errors.ts';

const isUnavailable = (err: unknown) => isSeckillError(err) && err.code === 'UNAVAILABLE';

export interface Adapters {
  db: Database;
  store: OrderStore;
  users: UserStore;
  cache: StockCache;
  bus: OrderBus;
  payments: SimulatedPaymentProvider;
}

export interface RunningApp {
  config: Config;
  adapters: Adapters;
  signer: TokenSigner;
  metrics: Metrics;
  /** http://host:port of the api, when this process runs it. */
  httpUrl?: string;
  /** ws://host:port of the result push, when this process runs it. */
  wsUrl?: string;
  /** http://host:port of the metrics port (METRICS_PORT), when one is set. */
  metricsUrl?: string;
  /**
   * The admin account. `password` only on the start that generated it (to print once); later starts say
   * where it is kept, and a password from the environment is never echoed.
   */
  admin?: { phone: string; password?: string; source: 'generated now' | 'kept' | 'environment'; keptIn?: string };
  /** The reconciler, when this process runs the worker role. */
  reconciler?: ReconcilerJob;
  /** The api's server, when this process runs it (listening unless `listen: false`). */
  http?: FastifyInstance;
  stop(): Promise<void>;
}

/** What a caller may change about the composition; the defaults are what `npm start` runs. */
export interface StartOverrides {
  /** false: build the api without listening on a port; `RunningApp.http` answers injected requests (the bench's A/B). */
  listen?: boolean;
}

const systemClock: Clock = { now: () => new Date() };

async function openAdapters(config: Config, logger: Logger, clock: Clock): Promise<Adapters> {
  if (config.mode === 'embedded') {
    // Password hashes and the token secret live here: readable by this user only.
    await fs.mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    await fs.chmod(config.dataDir, 0o700);
    const db = await createPgliteDatabase({ dataDir: path.join(config.dataDir, 'pg') });
    const bus = createMemoryOrderBus({ payTimeoutMs: config.payTimeoutMs, now: () => clock.now().getTime() });
    return { db, store: createSqlOrderStore(db), users: createSqlUserStore(db), cache: createMemoryStockCache(), bus, payments: createLedgerPaymentProvider(db, { now: () => clock.now() }) };
  }
  // Each service is waited for (with a log line per attempt), so processes may start in any order.
  const waiting = { logger: logger.child({ component: 'start' }), deadlineMs: config.startupTimeoutMs };
  const db = await untilUp('PostgreSQL', () => openPg(config, logger), waiting);
  const onError = (err: Error) => logger.warn({ err: err.message }, 'redis connection problem');
  const cache = createRedisStockCache(
    config.redisClusterNodes
      ? { clusterNodes: config.redisClusterNodes, displayReadsFromReplicas: config.redisReadFromReplicas, keyPrefix: config.redisKeyPrefix, redisOptions: redisOptions(config), onError }
      : { url: config.redisUrl, keyPrefix: config.redisKeyPrefix, redisOptions: redisOptions(config), onError },
  );
  try {
    await untilUp('Redis', () => cache.ping(), waiting);
    const bus = await untilUp(
      'RabbitMQ',
      () =>
        createRabbitOrderBus({
          url: config.amqpUrl,
          prefix: config.amqpPrefix,
          payTimeoutMs: config.payTimeoutMs,
          confirmTimeoutMs: config.deadlines.amqpConfirmMs,
          queueType: config.amqpQueueType,
          management: { ...(config.amqpManagementUrls ? { urls: config.amqpManagementUrls } : {}), statsIntervalMs: config.amqpStatsIntervalMs },
          logger: logger.child({ component: 'bus' }),
          connectRetries: 1,
        }).catch((err: unknown) => {
          if (err instanceof QueueDeclarationConflict) {
            throw new Error(`AMQP_QUEUE_TYPE=${config.amqpQueueType} does not match queue "${err.queue}" on the broker. ${err.message}`, { cause: err });
          }
          throw err;
        }),
      { ...waiting, isPermanent: (err) => err instanceof Error && err.cause instanceof QueueDeclarationConflict },
    );
    // The simulated provider stands in for a real one (Alipay, WeChat Pay …) behind the PaymentProvider port;
    // its ledger is a table, so every process of the deployment sees the same charges.
    return { db, store: createSqlOrderStore(db), users: createSqlUserStore(db), cache, bus, payments: createLedgerPaymentProvider(db, { now: () => clock.now() }) };
  } catch (err) {
    await Promise.allSettled([cache.close(), db.close()]);
    throw err;
  }
}

function redisOptions(config: Config) {
  return {
    enableAutoPipelining: config.redisAutoPipelining,
    // A command that gets no answer in time fails (UNAVAILABLE) instead of waiting for a reconnect.
    commandTimeout: config.deadlines.redisCommandMs,
    connectTimeout: Math.max(1000, config.deadlines.redisCommandMs),
    maxRetriesPerRequest: 1,
    // While Redis is unreachable a command fails at once: queued, it could still run after its caller
    // heard 503 (a reservation nobody publishes, held until the reconciler's grace period ends).
    enableOfflineQueue: false,
  };
}

/** Shared limit counters: process memory in the embedded mode (one api process), Redis in the services mode. */
async function openLimiters(config: Config, logger: Logger): Promise<{ make: MakeLimiter; ping(): Promise<void>; close(): Promise<void> }> {
  if (config.mode === 'embedded') return { make: createMemoryLimiters(), ping: async () => undefined, close: async () => undefined };
  const limiters = createRedisLimiters({
    url: config.redisUrl,
    ...(config.redisClusterNodes ? { clusterNodes: config.redisClusterNodes } : {}),
    keyPrefix: config.redisKeyPrefix,
    redisOptions: redisOptions(config),
    onError: (err) => logger.warn({ err: err.message }, 'redis connection problem (limits)'),
  });
  try {
    await untilUp('Redis (limits)', () => limiters.ping(), { logger: logger.child({ component: 'start' }), deadlineMs: config.startupTimeoutMs });
    return limiters;
  } catch (err) {
    await limiters.close();
    throw err;
  }
}

/** A pool that has answered once (a pool alone connects lazily and would hide a database that is down). */
async function openPg(config: Config, logger: Logger): Promise<Database> {
  const db = await createPgDatabase({
    url: config.databaseUrl,
    max: config.databasePoolSize,
    connectTimeoutMs: config.deadlines.databaseConnectMs,
    statementTimeoutMs: config.deadlines.databaseStatementMs,
    ...(config.databaseSchema ? { schema: config.databaseSchema } : {}),
    onIdleError: (err) => logger.warn({ err }, 'database connection lost'),
  });
  try {
    await db.query('SELECT 1');
    return db;
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}

/** Embedded mode keeps generated secrets in the data folder, so tokens and the admin password survive restarts. */
async function keptSecret(config: Config, file: string, make: () => string): Promise<{ value: string; created: boolean; at: string }> {
  const at = path.join(config.dataDir, file);
  try {
    return { value: (await fs.readFile(at, 'utf8')).trim(), created: false, at };
  } catch {
    const value = make();
    await fs.writeFile(at, value + '\n', { mode: 0o600 });
    return { value, created: true, at };
  }
}

export async function startApp(config: Config, logger: Logger, clock: Clock = systemClock, overrides: StartOverrides = {}): Promise<RunningApp> {
  const log = (component: string) => logger.child({ component });
  const adapters = await openAdapters(config, logger, clock);
  const { db, store, users, cache, bus } = adapters;
  const closers: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const close of closers.reverse()) await close().catch((err: unknown) => logger.warn({ err }, 'error while stopping'));
    closers.length = 0;
  };
  closers.push(() => db.close(), () => cache.close(), () => bus.close());

  try {
    const applied =
      config.mode === 'services'
        ? await untilUp('the database migrations', () => migrate(db), { logger: log('start'), deadlineMs: config.startupTimeoutMs, isPermanent: (err) => !isUnavailable(err) })
        : await migrate(db);
    if (applied.length) log('db').info({ applied }, 'migrations applied');

    const tokenSecret =
      config.tokenSecret ?? (await keptSecret(config, 'token-secret', () => randomBytes(32).toString('base64url'))).value;
    const signer = createTokenSigner(tokenSecret, config.tokenTtlSeconds);
    const versions = createTokenVersions(users, clock, { ttlMs: config.tokenVersionCacheMs });
    const metrics = createMetrics({ defaults: true });
    const catalog = createGoodsCatalog(store, clock);

    const scrypt: ScryptParams = { N: config.passwordScryptN, r: 8, p: 1 };
    const prepareData = async () => {
      const admin = await ensureAdmin(config, users, scrypt, logger);
      if (config.demo && config.roles.includes('api') && (await store.listGoods()).length === 0) {
        for (const sale of demoSales(clock.now())) await createSale({ store, cache }, sale, clock.now());
        log('demo').info('demo sales created');
      }
      // A cache that lost its data (restart, flush) is filled from the database; a loaded good is left alone.
      for (const good of await store.listGoods()) await loadGoodIntoCache({ store, cache }, good.id, { onlyIfMissing: true });
      // So are the result poll's request notes, before the api answers any poll.
      const refilled = await refillRequestNotes({ store, cache, clock, keepMs: config.resultNoteKeepMs });
      if (refilled !== null) log('start').info({ requests: refilled }, 'request notes refilled from the database');
      return admin;
    };
    // A service that goes down between its first answer and these steps is waited for too; every step is idempotent.
    const admin =
      config.mode === 'services'
        ? await untilUp('the start-up data', prepareData, { logger: log('start'), deadlineMs: config.startupTimeoutMs, isPermanent: (err) => !isUnavailable(err) })
        : await prepareData();

    const app: RunningApp = { config, adapters, signer, metrics, ...(admin ? { admin } : {}), stop };

    const shared: RoleContext = { config, adapters, clock, log, metrics, signer, versions, app, closers };
    if (config.roles.includes('worker')) await startWorkerRole(shared);
    await startMetricsPort(shared);
    if (config.roles.includes('ws')) await startWsRole(shared);
    if (config.roles.includes('api')) {
      const limiters = await openLimiters(config, logger);
      closers.push(() => limiters.close());
      await startApiRole(shared, { limiters, tokenSecret, scrypt, catalog, listen: overrides.listen !== false });
    }
    return app;
  } catch (err) {
    await stop();
    throw err;
  }
}

async function ensureAdmin(config: Config, users: UserStore, scrypt: ScryptParams, logger: Logger): Promise<RunningApp['admin']> {
  if (config.adminPassword) {
    await ensureAccount({ users, scrypt }, { phone: config.adminPhone, password: config.adminPassword, nickname: 'admin', role: 'admin' });
    return { phone: config.adminPhone, source: 'environment' };
  }
  if (config.mode !== 'embedded') {
    logger.warn('SECKILL_ADMIN_PASSWORD is not set: no admin account was created or updated');
    return undefined;
  }
  const kept = await keptSecret(config, 'admin-password', () => randomBytes(12).toString('base64url'));
  await ensureAccount({ users, scrypt }, { phone: config.adminPhone, password: kept.value, nickname: 'admin', role: 'admin' });
  return kept.created
    ? { phone: config.adminPhone, password: kept.value, source: 'generated now', keptIn: kept.at }
    : { phone: config.adminPhone, source: 'kept', keptIn: kept.at };
}
