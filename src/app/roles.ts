/**
 * The roles a process runs, wired from the adapters compose.ts chose: the worker (order and timeout
 * consumers, the reconciler), the result push, the api, and the metrics port. Each registers what it must
 * close (in reverse order of start) and fills in its part of the running app.
 */
import { createHmac } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { createAbuseLimits } from '../core/abuse-limits.ts';
import { preparePasswordStrength } from '../core/password-strength.ts';
import { dedupeAlerts } from '../core/alert-dedup.ts';
import { createBuyPaths } from '../core/buy-path.ts';
import { rememberVerifiedTokens, type PasswordHashParams, type TokenSigner } from '../core/credentials.ts';
import { createOrderBatcher } from '../core/order-batcher.ts';
import type { MakeLimiter } from '../core/ports/limiter.ts';
import type { OnceClaims } from '../core/ports/once-claims.ts';
import type { OrderBus, Subscription } from '../core/ports/order-bus.ts';
import type { Clock, Timers } from '../core/ports/timers.ts';
import type { createGoodsCatalog } from '../core/sales.ts';
import { createSoldOutSigns } from '../core/sold-out-signs.ts';
import { createCodeSendLimits } from '../core/phone-codes.ts';
import { createPowGate } from '../core/proof-of-work.ts';
import { createAltchaPuzzles } from '../adapters/pow/altcha-puzzles.ts';
import type { createTokenVersions } from '../core/token-versions.ts';
import { consumeOrderTimeouts } from '../entry-points/consumers/order-timeouts.consumer.ts';
import { consumePendingOrders } from '../entry-points/consumers/pending-orders.consumer.ts';
import { makeAuthenticate } from '../entry-points/http/auth.ts';
import { buildHttpServer } from '../entry-points/http/server.ts';
import { registerWebRoutes } from '../entry-points/http/web.routes.ts';
import { startReconciler } from '../entry-points/jobs/reconciler.job.ts';
import { createGoodsView } from '../core/goods-view.ts';
import { reportQueueDepths, type Metrics } from '../entry-points/metrics.ts';
import { startMetricsServer } from '../entry-points/metrics-server.ts';
import { connectionLimits } from '../entry-points/connection-limits.ts';
import { startResultPushServer } from '../entry-points/ws/result-push-server.ts';
import type { Adapters, RunningApp } from './app-types.ts';

export interface RoleContext {
  config: Config;
  adapters: Adapters;
  clock: Clock;
  timers: Timers;
  log: (component: string) => Logger;
  metrics: Metrics;
  signer: TokenSigner;
  /** One cache of users' token versions for the api and the push in this process: a logout here is seen by both at once. */
  versions: ReturnType<typeof createTokenVersions>;
  app: RunningApp;
  closers: (() => Promise<void>)[];
}

/** The api's port and the push's port hold connections to the same deadlines and cap. */
const portLimits = (config: Config) =>
  connectionLimits({ requestMs: config.deadlines.httpRequestMs, keepAliveMs: config.deadlines.httpKeepAliveMs, maxConnections: config.httpMaxConnections });

export async function startWorkerRole({ config, adapters, clock, timers, log, metrics, app, closers }: RoleContext): Promise<void> {
  const { store, cache, bus, payments } = adapters;
  // One outage must not flood the alert queue with copies of one problem.
  const alertLog = log('alerts');
  const alerts = dedupeAlerts(bus, clock, {
    onRaised: (a) => alertLog.warn({ kind: a.kind, seckillGoodId: a.seckillGoodId, uuid: a.uuid, orderNo: a.orderNo, problem: a.message.slice(0, 300) }, 'alert raised for an operator'),
  });
  const workerBus: OrderBus = { ...bus, raiseAlert: (alert) => alerts.raiseAlert(alert) };
  const sub = await consumePendingOrders(
    { store, cache, bus: workerBus, clock, timers, payTimeoutMs: config.payTimeoutMs, noteKeepMs: config.resultNoteKeepMs, logger: log('worker'), metrics },
    { prefetch: config.workerPrefetch, batchSize: config.workerBatchSize, concurrency: config.workerConcurrency },
  );
  closers.push(() => sub.close());
  const timeouts = await consumeOrderTimeouts({ store, cache, bus: workerBus, clock, logger: log('timeouts') }, { prefetch: 100 });
  closers.push(() => timeouts.close());
  const reconciler = startReconciler(
    { store, cache, bus: workerBus, clock, payments, graceMs: config.reconcileGraceMs, noteKeepMs: config.resultNoteKeepMs, logger: log('reconciler'), metrics },
    { intervalMs: config.reconcileIntervalMs },
  );
  app.reconciler = reconciler;
  closers.push(() => reconciler.stop());
  // The backlog the workers face (broker-wide: every worker process reports the same figures).
  reportQueueDepths(metrics, () => bus.queueDepths());
}

export async function startMetricsPort({ config, metrics, app, closers }: RoleContext): Promise<void> {
  if (config.metricsPort === undefined) return;
  const server = await startMetricsServer({ registry: metrics.registry, token: config.metricsToken }, { host: config.host, port: config.metricsPort });
  closers.push(() => server.close());
  app.metricsUrl = `http://${config.host}:${server.port}`;
}

export async function startWsRole({ config, adapters, clock, timers, log, metrics, signer, versions, app, closers }: RoleContext): Promise<void> {
  const push = await startResultPushServer(
    // A buyer's page opens a socket per press with one token: remembered like the api does.
    { signer: rememberVerifiedTokens(signer, 20_000), versions, clock, timers, bus: adapters.bus, store: adapters.store, logger: log('ws'), metrics },
    { host: config.host, port: config.wsPort, maxSocketsPerUser: config.wsMaxSocketsPerUser, waitMs: config.wsWaitMs, connection: portLimits(config) },
  );
  closers.push(() => push.close());
  app.wsUrl = `ws://${config.host}:${push.port}`;
}

export interface ApiRoleOptions {
  /** Shared counters of the limits, and the claims that make a buy path single-use (same store). */
  limiters: { make: MakeLimiter; claims: OnceClaims; ping(): Promise<void> };
  tokenSecret: string;
  hashParams: PasswordHashParams;
  catalog: ReturnType<typeof createGoodsCatalog>;
  /** False: the server is built but not listening (the bench injects requests). */
  listen: boolean;
}

export async function startApiRole(ctx: RoleContext, opts: ApiRoleOptions): Promise<void> {
  const { config, adapters, clock, timers, log, metrics, signer, versions, app, closers } = ctx;
  const { db, store, users, cache, bus, payments, search, audit } = adapters;
  const { catalog, limiters } = opts;
  const signs = createSoldOutSigns(clock);
  // Its dictionaries take about half a second to build: now, not during the first register of a sale.
  await preparePasswordStrength();
  const sub: Subscription = await bus.subscribeStockAgain((ids) => {
    for (const id of ids) signs.clear(id);
  });
  closers.push(() => sub.close());
  // An admin's edit, pause or resume reaches this process's catalog (what the hot path reads) at once.
  const goodsView = createGoodsView(store, clock, config.goodsViewTtlMs);
  const sales = await bus.subscribeSalesChanged((goods) => {
    catalog.apply(goods);
    goodsView.invalidate();
  });
  closers.push(() => sales.close());
  const orderBatcher = createOrderBatcher(
    {
      bus,
      cache,
      timers,
      onReleaseFailed: (err, messages) =>
        log('api').warn({ err, orders: messages.length }, 'units of a failed publish could not be given back; the reconciler will'),
    },
    { maxOrders: config.apiBatchMaxOrders, maxWaitMs: config.apiBatchMaxWaitMs, publishWithinMs: config.reconcileGraceMs, noteKeepMs: config.resultNoteKeepMs },
  );
  // Runs after the HTTP server closed (closers run in reverse): the last batch is published, not dropped.
  closers.push(() => orderBatcher.flush());
  const limits = createAbuseLimits(
    limiters.make,
    {
      authPerMinute: config.authRateLimitPerMinute,
      ipFailuresPerMinute: config.authFailuresPerMinute,
      phoneFailuresPerHour: config.loginPhoneFailuresPerHour,
      buyerPerSecond: config.rateLimitPerSecond,
      buyerBurst: config.rateLimitBurst,
      ipPerSecond: config.ipRateLimitPerSecond,
    },
    clock,
  );
  if (config.mode === 'services' && config.sms.adapter === 'outbox') {
    log('http').warn('SECKILL_SMS_ADAPTER=outbox: codes are kept in the database and readable at /api/dev/sms-outbox by anyone; set SECKILL_SMS_ADAPTER=http for real buyers');
  }
  // The codes' key is derived from the token secret: every api process agrees on it, and it is not the token key itself.
  const codeSecret = createHmac('sha256', opts.tokenSecret).update('seckill phone codes').digest('base64url');
  const phone = {
    codes: { codes: adapters.codes, sms: adapters.sms, users, clock, secret: codeSecret, limits: createCodeSendLimits(limiters.make, { ipPerHour: config.sms.perAddressPerHour }) },
    outbox: adapters.outbox,
  };
  const powLifetimeMs = 5 * 60 * 1000;
  const pow = createPowGate(
    createAltchaPuzzles({ hmacKey: createHmac('sha256', opts.tokenSecret).update('seckill proof of work').digest('base64url'), maxNumber: config.pow.maxNumber, lifetimeMs: powLifetimeMs }),
    limiters.make({ name: 'pow-used', points: 1, durationSeconds: powLifetimeMs / 1000 }),
    new Set(config.pow.scopes),
  );
  const http: FastifyInstance = await buildHttpServer(
    {
      authenticate: makeAuthenticate(signer, clock, versions),
      accounts: { users, signer, clock, limits, versions, hashParams: opts.hashParams, refreshTtlSeconds: config.refreshTtlSeconds, codes: phone.codes, registerNeedsCode: config.phoneVerification },
      phone,
      pow,
      goods: { store, cache, catalog, view: goodsView, bus },
      placeOrder: { catalog, signs, cache, orders: orderBatcher, store, clock, limits },
      orders: { store, cache, bus, clock, timers, payments, chargeTimeoutMs: config.deadlines.paymentChargeMs },
      buyPaths: { paths: createBuyPaths(opts.tokenSecret), claims: limiters.claims, required: config.hiddenPath, limits },
      saleOperations: { store, cache, bus, catalog, clock, view: goodsView },
      results: { store, cache, goodIds: async () => (await catalog.list()).map((g) => g.id), noteKeepMs: config.resultNoteKeepMs },
      catalog,
      alerts: bus,
      admin: { search, audit, refund: { store, cache, bus, clock, payments } },
      metrics,
    },
    {
      logger: log('http'),
      bodyLimitBytes: config.bodyLimitBytes,
      // The limits' own Redis connection counts as the cache too: login needs it.
      healthChecks: { db: () => db.query('SELECT 1'), cache: () => Promise.all([cache.ping(), limiters.ping()]), bus: () => bus.ping() },
      metricsToken: config.metricsToken,
      connection: portLimits(config),
      mode: config.mode,
      metrics,
      trustProxy: config.trustProxy,
      // The page learns the result socket's address from /api/config (the real port when this process runs ws).
      extend: (server) =>
        registerWebRoutes(server, {
          mode: config.mode,
          hiddenPath: config.hiddenPath,
          phoneVerification: config.phoneVerification,
          smsOutbox: adapters.outbox !== null,
          pow: config.pow.scopes,
          imageOrigins: config.imageOrigins,
          wsPublicUrl: config.wsPublicUrl,
          wsPort: app.wsUrl ? Number(new URL(app.wsUrl).port) : config.wsPort || null,
        }),
    },
  );
  // Close the server before the adapters it uses (closers run in reverse).
  closers.push(() => http.close());
  app.http = http;
  if (opts.listen) {
    await http.listen({ host: config.host, port: config.port });
    const address = http.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    app.httpUrl = `http://${config.host}:${port}`;
  }
}
