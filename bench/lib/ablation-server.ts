/**
 * One variant of the api's front door per process, for `bench/ablation.ts`: from a bare fastify
 * hello-world to the real server, one layer at a time, all answering POST /api/seckill/orders on a sold-out
 * sale with in-process adapters (no I/O on the sold-out path). VARIANT:
 *   hello    bare fastify, constant answer (the burst's baseline)
 *   options  fastify with the api's options (pino instance, log controller, per-request child logger)
 *   nochild  the same without the per-request child logger (tried; not kept)
 *   hook     + the api's onResponse metrics hook
 *   handler  + the real seckill handler's steps (token, rate limit, zod, placeOrder, counter, 409 body)
 *   full     the real buildHttpServer (every route, error handler, web routes)
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import pino from 'pino';
import { createPgliteDatabase } from '../../src/adapters/database/pglite-database.ts';
import { migrate } from '../../src/adapters/database/migrate.ts';
import { createMemoryOrderBus } from '../../src/adapters/order-bus/memory-order-bus.ts';
import { createOrderBatcher } from '../../src/core/order-batcher.ts';
import { createSqlOrderStore } from '../../src/adapters/order-store/sql-order-store.ts';
import { createSqlUserStore } from '../../src/adapters/user-store/sql-user-store.ts';
import { createSimulatedPaymentProvider } from '../../src/adapters/payment/simulated-payment-provider.ts';
import { createMemoryStockCache } from '../../src/adapters/stock-cache/memory-stock-cache.ts';
import { createGoodsCatalog } from '../../src/core/catalog.ts';
import { createTokenSigner } from '../../src/core/credentials.ts';
import { createSale } from '../../src/core/goods.ts';
import { placeOrder } from '../../src/core/place-order.ts';
import { createRateLimiter } from '../../src/core/rate-limit.ts';
import { createSoldOutSigns } from '../../src/core/sold-out-signs.ts';
import { makeAuthenticate } from '../../src/entry-points/http/auth.ts';
import { createAbuseLimits } from '../../src/core/abuse-limits.ts';
import { createBuyPaths } from '../../src/core/buy-path.ts';
import { createMemoryLimiters } from '../../src/adapters/limiter/flexible-limiter.ts';
import { parseInput, sendError, sendRateLimited } from '../../src/entry-points/http/http-errors.ts';
import { SeckillOrderBody } from '../../src/entry-points/http/schemas.ts';
import { buildHttpServer } from '../../src/entry-points/http/server.ts';
import { registerWebRoutes } from '../../src/entry-points/http/web.routes.ts';
import { createMetrics } from '../../src/entry-points/metrics.ts';

const variant = process.env.VARIANT ?? 'hello';
const secret = process.env.ABLATION_SECRET ?? 'x'.repeat(64);
const clock = { now: () => new Date() };
const logger = pino({ level: 'warn', redact: { paths: ['password', '*.password', 'token', '*.token', 'req.headers.authorization', 'tokenSecret'], censor: '[redacted]' } });
const metrics = createMetrics({ defaults: true });

const apiOptions = {
  loggerInstance: logger.child({ component: 'http' }) as FastifyBaseLogger,
  bodyLimit: 16 * 1024,
  logController: new LogController({ disableRequestLogging: true }),
  return503OnClosing: true,
  routerOptions: { maxParamLength: 100 },
};

const db = await createPgliteDatabase();
await migrate(db);
const store = createSqlOrderStore(db);
const users = createSqlUserStore(db);
const cache = createMemoryStockCache();
const bus = createMemoryOrderBus({ payTimeoutMs: 900_000 });
const catalog = createGoodsCatalog(store, clock);
const signs = createSoldOutSigns(clock);
const signer = createTokenSigner(secret, 86_400);
const now = Date.now();
const good = await createSale({ store, cache, catalog }, {
  name: 'sold out', title: '', imageUrl: '', price: 100, seckillPrice: 1, stock: 0,
  startAt: new Date(now - 60_000), endAt: new Date(now + 3_600_000),
}, new Date());
const rateLimiter = createRateLimiter(clock, { perSecond: 5, burst: 10 });
const authenticate = makeAuthenticate(signer, clock);
const placeDeps = { catalog, signs, cache, orders: createOrderBatcher({ bus, cache }, { maxOrders: 500, maxWaitMs: 2 }), store, clock };

function metricsHook(app: FastifyInstance) {
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.httpDuration.observe({ method: req.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
}

/** The variant's server, not listening yet (also usable in process with `inject`). */
export async function buildVariant(variant: string): Promise<FastifyInstance> {
  if (variant === 'full') {
    return buildHttpServer(
      {
        authenticate, accounts: { users, signer, clock }, goods: { store, cache, catalog }, placeOrder: placeDeps,
        orders: { store, cache, bus, clock, payments: createSimulatedPaymentProvider() },
        limits: createAbuseLimits(createMemoryLimiters(), { authPerMinute: 0, buyerPerSecond: 5, buyerBurst: 10, ipPerSecond: 0 }, clock),
        buyPaths: { paths: createBuyPaths(secret), required: false },
        store, cache, users, catalog, metrics, alerts: bus,
      }, // the routes' deps grow with the product; the sold-out path needs these
      { logger: logger.child({ component: 'http' }), bodyLimitBytes: 16 * 1024, mode: 'embedded', metrics, extend: (s) => registerWebRoutes(s, { mode: 'embedded', wsPort: null }) },
    );
  }
  let app: FastifyInstance;
  if (variant === 'hello') app = Fastify({ logger: false });
  // No per-request child logger (measured: ≤ 1 µs per request saved, within noise; the api keeps its reqId).
  else if (variant === 'nochild') app = Fastify({ ...apiOptions, childLoggerFactory: (l: FastifyBaseLogger) => l });
  else app = Fastify(apiOptions);
  if (variant === 'hook' || variant === 'handler') metricsHook(app);
  if (variant === 'handler') {
    app.post('/api/seckill/orders', async (req, reply) => {
      const claims = await authenticate(req);
      const wait = rateLimiter.take(claims.userId);
      if (wait > 0) {
        metrics.seckillRequests.inc({ outcome: 'RATE_LIMITED' });
        return sendRateLimited(reply, wait);
      }
      const body = parseInput(SeckillOrderBody, req.body);
      const outcome = await placeOrder(placeDeps, { userId: claims.userId, ...body });
      metrics.seckillRequests.inc({ outcome: outcome.kind === 'ACCEPTED' ? 'QUEUED' : outcome.code });
      if (outcome.kind === 'REJECTED') return sendError(reply, outcome.code, outcome.message);
      return { uuid: outcome.uuid, status: outcome.status };
    });
  } else {
    app.post('/api/seckill/orders', async () => ({ hello: 'world' }));
  }
  return app;
}

export const soldOutGoodId = good.id;
export const tokenFor = (userId: number) => signer.sign({ userId, role: 'user' }, new Date()).token;

if (process.env.VARIANT) {
  const app = await buildVariant(variant);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  process.stdout.write(`ablation ${variant} good ${good.id} ready http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}\n`);
  process.on('SIGTERM', () => void app.close().finally(() => process.exit(0)));
}
