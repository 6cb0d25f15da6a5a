/**
 * The roles a process runs, wired from the adapters compose.ts chose: the worker (order and timeout
 * consumers, the reconciler), the result push, the api, and the metrics port. Each registers what it must
 * close (in reverse order of start) and fills in its part of the running app.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { createAbuseLimits } from './core/abuse-limits.ts';
import { dedupeAlerts } from './core/alert-dedup.ts';
import { createBuyPaths } from './core/buy-path.ts';
import { rememberVerifiedTokens, type ScryptParams, type TokenSigner } from './core/credentials.ts';
import { createOrderBatcher } from './core/order-batcher.ts';
import type { Clock, MakeLimiter, OrderBus, Subscription } from './core/ports.ts';
import type { createGoodsCatalog } from './core/sales.ts';
import { createSoldOutSigns } from './core/sold-out-signs.ts';
import type { createTokenVersions } from './core/token-versions.ts';
import { consumeOrderTimeouts } from './entry-points/consumers/order-timeouts.consumer.ts';
import { consumePendingOrders } from './entry-points/consumers/pending-orders.consumer.ts';
import { makeAuthenticate } from './entry-points/http/auth.ts';
import { buildHttpServer } from './entry-points/http/server.ts';
import { registerWebRoutes } from './entry-points/http/web.routes.ts';
import { startReconciler } from './entry-points/jobs/reconciler.job.ts';
import { createGoodsView } from './core/goods-view.ts';
import { reportQueueDepths, type Metrics } from './entry-points/metrics.ts';
import { startMetricsServer } from './entry-points/metrics-server.ts';
import { startResultPushServer } from './entry-points/ws/result-push-server.ts';
import type { Adapters, RunningApp } from './compose.ts';

export interface RoleContext {
  config: Config;
  adapters: Adapters;
  clock: Clock;
  log: (component: string) => Logger;
  metrics: Metrics;
  signer: TokenSigner;
  /** One cache of users' token versions for the api and the push in this process: a logout here is seen by both at once. */
  versions: ReturnType<typeof createTokenVersions>;
  app: RunningApp;
  closers: (() => Promise<void>)[];
}

export async function startWorkerRole({ config, adapters, clock, log, metrics, app, closers }: RoleContext): Promise<void> {
  const { store, cache, bus, payments } = adapters;
  // One outage must not flood the alert queue with copies of one problem.
  const alertLog = log('alerts');
  const alerts = dedupeAlerts(bus, clock, {
    onRaised: (a) => alertLog.warn({ kind: a.kind, seckillGoodId: a.seckillGoodId, uuid: a.uuid, orderNo: a.orderNo, problem: a.message.slice(0, 300) }, 'alert raised for an operator'),
  });
  const workerBus: OrderBus = { ...bus, raiseAlert: (alert) => alerts.raiseAlert(alert) };
  const sub = await consumePendingOrders(
    { store, cache, bus: workerBus, clock, payTimeoutMs: config.payTimeoutMs, noteKeepMs: config.resultNoteKeepMs, logger: log('worker'), metrics },
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

export async function startMetricsPort({ config, log, metrics, app, closers }: RoleContext): Promise<void> {
  if (config.metricsPort === undefined) return;
  if (config.mode === 'services' && !config.metricsToken) log('metrics').warn('METRICS_TOKEN is not set: the metrics port is open to anyone who reaches it');
  const server = await startMetricsServer({ registry: metrics.registry, token: config.metricsToken }, { host: config.host, port: config.metricsPort });
  closers.push(() => server.close());
  app.metricsUrl = `http://${config.host}:${server.port}`;
}

export async function startWsRole({ config, adapters, clock, log, metrics, signer, versions, app, closers }: RoleContext): Promise<void> {
  const push = await startResultPushServer(
    // A buyer's page opens a socket per press with one token: remembered like the api does.
    { signer: rememberVerifiedTokens(signer, 20_000), versions, clock, bus: adapters.bus, store: adapters.store, logger: log('ws'), metrics },
    { host: config.host, port: config.wsPort, maxSocketsPerUser: config.wsMaxSocketsPerUser, waitMs: config.wsWaitMs },
  );
  closers.push(() => push.close());
  app.wsUrl = `ws://${config.host}:${push.port}`;
}

export interface ApiRoleOptions {
  limiters: { make: MakeLimiter; ping(): Promise<void> };
  tokenSecret: string;
  scrypt: ScryptParams;
  catalog: ReturnType<typeof createGoodsCatalog>;
  /** False: the server is built but not listening (the bench injects requests). */
  listen: boolean;
}

export async function startApiRole(ctx: RoleContext, opts: ApiRoleOptions): Promise<void> {
  const { config, adapters, clock, log, metrics, signer, versions, app, closers } = ctx;
  const { db, store, users, cache, bus, payments } = adapters;
  const { catalog, limiters } = opts;
  const signs = createSoldOutSigns(clock);
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
    { maxOrders: config.apiBatchMaxOrders, maxWaitMs: config.apiBatchMaxWaitMs, publishWithinMs: config.reconcileGraceMs, noteKeepMs: config.resultNoteKeepMs },
  );
  // Runs after the HTTP server closed (closers run in reverse): the last batch is published, not dropped.
  closers.push(() => orderBatcher.flush());
  if (config.mode === 'services' && !config.metricsToken) log('http').warn('METRICS_TOKEN is not set: /metrics is open to anyone who reaches this port');
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
      accounts: { users, signer, clock, limits, versions, scrypt: opts.scrypt },
      goods: { store, cache, catalog, view: createGoodsView(store, clock, config.goodsViewTtlMs) },
      placeOrder: { catalog, signs, cache, orders: orderBatcher, store, clock, limits },
      orders: { store, cache, bus, clock, payments, chargeTimeoutMs: config.deadlines.paymentChargeMs },
      buyPaths: { paths: createBuyPaths(opts.tokenSecret), required: config.hiddenPath },
      results: { store, cache, goodIds: async () => (await catalog.list()).map((g) => g.id), noteKeepMs: config.resultNoteKeepMs },
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
  if (opts.listen) {
    await http.listen({ host: config.host, port: config.port });
    const address = http.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    app.httpUrl = `http://${config.host}:${port}`;
  }
}
