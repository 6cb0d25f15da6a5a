/**
 * The only place that picks adapters: embedded (PGlite + in-process cache and bus) or services
 * (PostgreSQL + Redis + RabbitMQ). Prepares the data and starts the roles this process runs (roles.ts
 * wires each role from the adapters chosen here), and stops them in reverse order.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { ensureAccount } from '../core/accounts.ts';
import { createGoodsCatalog, createSale } from '../core/sales.ts';
import { refillRequestNotes } from '../core/request-notes.ts';
import { createTokenSigner } from '../core/credentials.ts';
import type { Clock } from '../core/ports/timers.ts';
import type { UserStore } from '../core/ports/user-store.ts';
import { createTokenVersions } from '../core/token-versions.ts';
import type { PasswordHashParams } from '../core/credentials.ts';
import type { MakeLimiter } from '../core/ports/limiter.ts';
import type { OnceClaims } from '../core/ports/once-claims.ts';
import { createMemoryLimiters, createRedisLimiters } from '../adapters/limiter/flexible-limiter.ts';
import { createMemoryOnceClaims } from '../adapters/once-claims/memory-once-claims.ts';
import { createRedisOnceClaims } from '../adapters/once-claims/redis-once-claims.ts';
import { loadGoodIntoCache } from '../core/stock-sync.ts';
import type { Database } from '../adapters/database/database.ts';
import { migrate } from '../adapters/database/migrate.ts';
import { createPgDatabase } from '../adapters/database/pg-database.ts';
import { createPgliteDatabase } from '../adapters/database/pglite-database.ts';
import { createMemoryOrderBus } from '../adapters/order-bus/memory-order-bus.ts';
import { createRabbitOrderBus, QueueDeclarationConflict } from '../adapters/order-bus/rabbitmq-order-bus.ts';
import { createSqlOrderStore } from '../adapters/order-store/sql-order-store.ts';
import { createSqlUserStore } from '../adapters/user-store/sql-user-store.ts';
import { createSqlOrderSearch } from '../adapters/order-store/sql-order-search.ts';
import { createSqlAuditLog } from '../adapters/audit-log/sql-audit-log.ts';
import { createSqlPhoneCodeStore } from '../adapters/phone-code-store/sql-phone-code-store.ts';
import { createHttpSmsSender } from '../adapters/sms-sender/http-sms-sender.ts';
import { createOutboxSmsSender } from '../adapters/sms-sender/outbox-sms-sender.ts';
import { createMemoryStockCache } from '../adapters/stock-cache/memory-stock-cache.ts';
import { createRedisStockCache } from '../adapters/stock-cache/redis-stock-cache.ts';
import { createLedgerPaymentProvider } from '../adapters/payment/simulated-payment-provider.ts';
import { createMetrics } from '../entry-points/metrics.ts';
import { demoSales } from './demo.ts';
import { untilUp } from '../shared/until-up.ts';
import { makePrivate, preparePrivateFolder } from './data-folder.ts';
import { startApiRole, startMetricsPort, startWorkerRole, startWsRole, type RoleContext } from './roles.ts';
import { isSeckillError } from '../core/errors.ts';
import { systemTimers } from '../adapters/timers/system-timers.ts';

const isUnavailable = (err: unknown) => isSeckillError(err) && err.code === 'UNAVAILABLE';

import type { Adapters, RunningApp, StartOverrides } from './app-types.ts';
export type { Adapters, RunningApp, StartOverrides };

const systemClock: Clock = { now: () => new Date() };

async function openAdapters(config: Config, logger: Logger, clock: Clock): Promise<Adapters> {
  if (config.mode === 'embedded') {
    // Password hashes, the token secret and the database live here: readable by this user only.
    const { repaired } = await preparePrivateFolder(config.dataDir);
    if (repaired) logger.child({ component: 'start' }).info({ dataDir: config.dataDir, repaired }, 'data folder made private (group and other access removed)');
    // PGlite sets 0666 on the files of a new database and writes its relation cache 0644 whatever the umask:
    // taken back once it is open and again once it is closed (the folder's 0700 covers the time between).
    const pglite = await createPgliteDatabase({ dataDir: path.join(config.dataDir, 'pg') });
    await makePrivate(config.dataDir);
    const db: Database = { ...pglite, close: async () => { await pglite.close(); await makePrivate(config.dataDir); } };
    const bus = createMemoryOrderBus({ payTimeoutMs: config.payTimeoutMs, now: () => clock.now().getTime() });
    return { db, ...sqlStores(db), cache: createMemoryStockCache(), bus, payments: createLedgerPaymentProvider(db, { now: () => clock.now() }), ...phoneAdapters(config, db) };
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
    return { db, ...sqlStores(db), cache, bus, payments: createLedgerPaymentProvider(db, { now: () => clock.now() }), ...phoneAdapters(config, db) };
  } catch (err) {
    await Promise.allSettled([cache.close(), db.close()]);
    throw err;
  }
}

/** The stores on the database, whichever engine runs it. */
const sqlStores = (db: Database) => ({
  store: createSqlOrderStore(db),
  users: createSqlUserStore(db),
  search: createSqlOrderSearch(db),
  audit: createSqlAuditLog(db),
});

/** Codes live in the database (every api process checks the same ones); the sender is the outbox or a gateway. */
function phoneAdapters(config: Config, db: Database): Pick<Adapters, 'codes' | 'sms' | 'outbox'> {
  const codes = createSqlPhoneCodeStore(db);
  if (config.sms.adapter === 'http') {
    const sms = createHttpSmsSender({ url: config.sms.url!, authHeader: config.sms.authHeader, authValue: config.sms.key, timeoutMs: config.sms.timeoutMs });
    return { codes, sms, outbox: null };
  }
  const outbox = createOutboxSmsSender(db);
  return { codes, sms: outbox, outbox };
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
async function openLimiters(config: Config, logger: Logger): Promise<{ make: MakeLimiter; claims: OnceClaims; ping(): Promise<void>; close(): Promise<void> }> {
  if (config.mode === 'embedded') return { make: createMemoryLimiters(), claims: createMemoryOnceClaims(), ping: async () => undefined, close: async () => undefined };
  const limiters = createRedisLimiters({
    url: config.redisUrl,
    ...(config.redisClusterNodes ? { clusterNodes: config.redisClusterNodes } : {}),
    keyPrefix: config.redisKeyPrefix,
    redisOptions: redisOptions(config),
    onError: (err) => logger.warn({ err: err.message }, 'redis connection problem (limits)'),
  });
  try {
    await untilUp('Redis (limits)', () => limiters.ping(), { logger: logger.child({ component: 'start' }), deadlineMs: config.startupTimeoutMs });
    return { ...limiters, claims: createRedisOnceClaims(limiters.client, config.redisKeyPrefix) };
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
  const opened = await openAdapters(config, logger, clock);
  const adapters: Adapters = overrides.payments ? { ...opened, payments: overrides.payments(opened.payments) } : opened;
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
    const versions = createTokenVersions(users, clock, { ttlMs: config.tokenVersionCacheMs, timers: systemTimers });
    const metrics = createMetrics({ defaults: true });
    const catalog = createGoodsCatalog(store, clock);

    const hashParams: PasswordHashParams = config.passwordHash;
    const prepareData = async () => {
      const admin = await ensureAdmin(config, users, hashParams, logger);
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

    const shared: RoleContext = { config, adapters, clock, timers: systemTimers, log, metrics, signer, versions, app, closers };
    if (config.roles.includes('worker')) await startWorkerRole(shared);
    await startMetricsPort(shared);
    if (config.roles.includes('ws')) await startWsRole(shared);
    if (config.roles.includes('api')) {
      const limiters = await openLimiters(config, logger);
      closers.push(() => limiters.close());
      await startApiRole(shared, { limiters, tokenSecret, hashParams, catalog, listen: overrides.listen !== false });
    }
    return app;
  } catch (err) {
    await stop();
    throw err;
  }
}

async function ensureAdmin(config: Config, users: UserStore, hashParams: PasswordHashParams, logger: Logger): Promise<RunningApp['admin']> {
  if (config.adminPassword) {
    await ensureAccount({ users, hashParams }, { phone: config.adminPhone, password: config.adminPassword, nickname: 'admin', role: 'admin' });
    return { phone: config.adminPhone, source: 'environment' };
  }
  if (config.mode !== 'embedded') {
    logger.warn('SECKILL_ADMIN_PASSWORD is not set: no admin account was created or updated');
    return undefined;
  }
  const kept = await keptSecret(config, 'admin-password', () => randomBytes(12).toString('base64url'));
  await ensureAccount({ users, hashParams }, { phone: config.adminPhone, password: kept.value, nickname: 'admin', role: 'admin' });
  return kept.created
    ? { phone: config.adminPhone, password: kept.value, source: 'generated now', keptIn: kept.at }
    : { phone: config.adminPhone, source: 'kept', keptIn: kept.at };
}
