/**
 * The only place that picks adapters: embedded (PGlite + in-process cache and bus) or services
 * (PostgreSQL + Redis + RabbitMQ). Builds the roles this process runs and starts/stops them.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { ensureAccount } from './core/accounts.ts';
import { createGoodsCatalog, createSale } from './core/sales.ts';
import { createTokenSigner, rememberVerifiedTokens, type TokenSigner } from './core/credentials.ts';
import type { Clock, OrderBus, OrderStore, StockCache, Subscription, UserStore } from './core/ports.ts';
import { dedupeAlerts } from './core/alert-dedup.ts';
import { createOrderBatcher } from './core/order-batcher.ts';
import { createOutageWatch } from './core/outage-watch.ts';
import { createAbuseLimits } from './core/abuse-limits.ts';
import { createBuyPaths } from './core/buy-path.ts';
import { createTokenVersions } from './core/token-versions.ts';
import type { ScryptParams } from './core/credentials.ts';
import type { MakeLimiter } from './core/ports.ts';
import { createMemoryLimiters, createRedisLimiters } from './adapters/limiter/flexible-limiter.ts';
import { createSoldOutSigns } from './core/sold-out-signs.ts';
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
import { consumeOrderTimeouts } from './entry-points/consumers/order-timeouts.consumer.ts';
import { consumePendingOrders } from './entry-points/consumers/pending-orders.consumer.ts';
import { startReconciler, type ReconcilerJob } from './entry-points/jobs/reconciler.job.ts';
import { createLedgerPaymentProvider, type SimulatedPaymentProvider } from './adapters/payment/simulated-payment-provider.ts';
import { makeAuthenticate } from './entry-points/http/auth.ts';
import { buildHttpServer } from './entry-points/http/server.ts';
import { registerWebRoutes } from './entry-points/http/web.routes.ts';
import { createMetrics, reportQueueDepths, type Metrics } from './entry-points/metrics.ts';
import { startMetricsServer } from './entry-points/metrics-server.ts';
import { startResultPushServer } from './entry-points/ws/result-push-server.ts';
import { demoSales } from './demo.ts';
import { untilUp } from './until-up.ts';
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

async function openAdapters(config: Config, logger: Logger): Promise<Adapters> {
  if (config.mode === 'embedded') {
    // Password hashes and the token secret live here: readable by this user only.
    await fs.mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    await fs.chmod(config.dataDir, 0o700);
    const db = await createPgliteDatabase({ dataDir: path.join(config.dataDir, 'pg') });
    const bus = createMemoryOrderBus({ payTimeoutMs: config.payTimeoutMs });
    return { db, store: createSqlOrderStore(db), users: createSqlUserStore(db), cache: createMemoryStockCache(), bus, payments: createLedgerPaymentProvider(db) };
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
    return { db, store: createSqlOrderStore(db), users: createSqlUserStore(db), cache, bus, payments: createLedgerPaymentProvider(db) };
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
  const adapters = await openAdapters(config, logger);
  const { db, store, users, cache, bus, payments } = adapters;
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
    // One cache of users' token versions for the api and the push in this process: a logout here is seen by both at once.
    const versions = createTokenVersions(users, clock, { ttlMs: config.tokenVersionCacheMs });
    const metrics = createMetrics({ defaults: true });
    const catalog = createGoodsCatalog(store, clock);
    const signs = createSoldOutSigns(clock);

    const scrypt: ScryptParams = { N: config.passwordScryptN, r: 8, p: 1 };
    const prepareData = async () => {
      const admin = await ensureAdmin(config, users, scrypt, logger);
      if (config.demo && config.roles.includes('api') && (await store.listGoods()).length === 0) {
        for (const sale of demoSales(clock.now())) await createSale({ store, cache }, sale, clock.now());
        log('demo').info('demo sales created');
      }
      // A cache that lost its data (restart, flush) is filled from the database; a loaded good is left alone.
      for (const good of await store.listGoods()) await loadGoodIntoCache({ store, cache }, good.id, { onlyIfMissing: true });
      return admin;
    };
    // A service that goes down between its first answer and these steps is waited for too; every step is idempotent.
    const admin =
      config.mode === 'services'
        ? await untilUp('the start-up data', prepareData, { logger: log('start'), deadlineMs: config.startupTimeoutMs, isPermanent: (err) => !isUnavailable(err) })
        : await prepareData();

    const app: RunningApp = { config, adapters, signer, metrics, ...(admin ? { admin } : {}), stop };

    if (config.roles.includes('worker')) {
      // One outage must not flood the alert queue with copies of one problem.
      const alertLog = log('alerts');
      const alerts = dedupeAlerts(bus, clock, {
        onRaised: (a) => alertLog.warn({ kind: a.kind, seckillGoodId: a.seckillGoodId, uuid: a.uuid, orderNo: a.orderNo, problem: a.message.slice(0, 300) }, 'alert raised for an operator'),
      });
      const workerBus: OrderBus = { ...bus, raiseAlert: (alert) => alerts.raiseAlert(alert) };
      // Outages this worker saw hold the reconciler back from expiring reservations whose messages are only late.
      const outages = createOutageWatch(clock);
      const sub = await consumePendingOrders(
        { store, cache, bus: workerBus, clock, payTimeoutMs: config.payTimeoutMs, logger: log('worker'), metrics, outages },
        { prefetch: config.workerPrefetch, batchSize: config.workerBatchSize, concurrency: config.workerConcurrency },
      );
      closers.push(() => sub.close());
      const timeouts = await consumeOrderTimeouts({ store, cache, bus: workerBus, clock, logger: log('timeouts'), outages }, { prefetch: 100 });
      closers.push(() => timeouts.close());
      const reconciler = startReconciler(
        { store, cache, bus: workerBus, clock, payments, graceMs: config.reconcileGraceMs, logger: log('reconciler'), metrics, outages },
        { intervalMs: config.reconcileIntervalMs },
      );
      app.reconciler = reconciler;
      closers.push(() => reconciler.stop());
      // The backlog the workers face (broker-wide: every worker process reports the same figures).
      reportQueueDepths(metrics, () => bus.queueDepths());
    }

    if (config.metricsPort !== undefined) {
      if (config.mode === 'services' && !config.metricsToken) log('metrics').warn('METRICS_TOKEN is not set: the metrics port is open to anyone who reaches it');
      const server = await startMetricsServer({ registry: metrics.registry, token: config.metricsToken }, { host: config.host, port: config.metricsPort });
      closers.push(() => server.close());
      app.metricsUrl = `http://${config.host}:${server.port}`;
    }

    if (config.roles.includes('ws')) {
      const push = await startResultPushServer(
        // A buyer's page opens a socket per press with one token: remembered like the api does.
        {
          signer: rememberVerifiedTokens(signer, 20_000),
          versions,
          clock,
          bus,
          store,
          logger: log('ws'),
          metrics,
        },
        { host: config.host, port: config.wsPort, maxSocketsPerUser: config.wsMaxSocketsPerUser, waitMs: config.wsWaitMs },
      );
      closers.push(() => push.close());
      app.wsUrl = `ws://${config.host}:${push.port}`;
    }

    if (config.roles.includes('api')) {
      const sub: Subscription = await bus.subscribeStockAgain((ids) => {
        for (const id of ids) signs.clear(id);
      });
      closers.push(() => sub.close());
      const orderBatcher = createOrderBatcher(
        {
          bus,
          cache,
          onReleaseFailed: (err, messages) =>
            log('api').warn({ err, orders: messages.length }, 'units of a failed publish could not be given back; the reconciler will'),
        },
        { maxOrders: config.apiBatchMaxOrders, maxWaitMs: config.apiBatchMaxWaitMs },
      );
      // Runs after the HTTP server closed (closers run in reverse): the last batch is published, not dropped.
      closers.push(() => orderBatcher.flush());
      if (config.mode === 'services' && !config.metricsToken) log('http').warn('METRICS_TOKEN is not set: /metrics is open to anyone who reaches this port');
      const goodsDeps = { store, cache, catalog };
      const limiters = await openLimiters(config, logger);
      closers.push(() => limiters.close());
      const limits = createAbuseLimits(
        limiters.make,
        {
          authPerMinute: config.authRateLimitPerMinute,
          buyerPerSecond: config.rateLimitPerSecond,
          buyerBurst: config.rateLimitBurst,
          ipPerSecond: config.ipRateLimitPerSecond,
        },
        clock,
      );
      const http: FastifyInstance = await buildHttpServer(
        {
          authenticate: makeAuthenticate(signer, clock, versions),
          accounts: { users, signer, clock, limits, versions, scrypt },
          goods: goodsDeps,
          placeOrder: { catalog, signs, cache, orders: orderBatcher, store, clock },
          orders: { store, cache, bus, clock, payments },
          limits,
          buyPaths: { paths: createBuyPaths(tokenSecret), required: config.hiddenPath },
          results: { store, cache, goodIds: async () => (await catalog.list()).map((g) => g.id) },
          catalog,
          alerts: bus,
          metrics,
        },
        {
          logger: log('http'),
          bodyLimitBytes: config.bodyLimitBytes,
          // The limits' own Redis connection counts as the cache too: login needs it.
          healthChecks: { db: () => db.query('SELECT 1'), cache: () => Promise.all([cache.ping(), limiters.ping()]), bus: () => bus.ping() },
          metricsToken: config.metricsToken,
          requestTimeoutMs: config.deadlines.httpRequestMs,
          keepAliveTimeoutMs: config.deadlines.httpKeepAliveMs,
          mode: config.mode,
          metrics,
          trustProxy: config.trustProxy,
          // The page learns the result socket's address from /api/config (the real port when this process runs ws).
          extend: (server) =>
            registerWebRoutes(server, {
              mode: config.mode,
              hiddenPath: config.hiddenPath,
              wsPublicUrl: config.wsPublicUrl,
              wsPort: app.wsUrl ? Number(new URL(app.wsUrl).port) : config.wsPort || null,
            }),
        },
      );
      // Close the server before the adapters it uses (closers run in reverse).
      closers.push(() => http.close());
      app.http = http;
      if (overrides.listen !== false) {
        await http.listen({ host: config.host, port: config.port });
        const address = http.server.address();
        const port = typeof address === 'object' && address ? address.port : config.port;
        app.httpUrl = `http://${config.host}:${port}`;
      }
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
