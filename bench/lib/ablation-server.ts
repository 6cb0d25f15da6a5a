/**
 * One variant of the api's front door per process, for `bench/ablation.ts`: from a bare fastify
 * hello-world to the real server, one layer at a time, all answering POST /api/seckill/orders on a sold-out
 * sale with in-process adapters (no I/O on the sold-out path). VARIANT:
 *   hello    bare fastify, constant answer (the burst's baseline)
 *   options  fastify with the api's options (pino instance, log controller, per-request child logger)
 *   nochild  the same without the per-request child logger (tried; not kept)
 *   hook     + the api's onResponse metrics hook
 *   handler  + the real seckill handler's steps (token, rate limit, zod, placeOrder, counter, 409 body)
 *   full     the api as compose.ts builds it for `npm start` (every route, error handler, web routes), not listening
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import pino from 'pino';
import { startApp } from '../../src/app/compose.ts';
import { loadConfig } from '../../src/app/config.ts';
import { createOrderBatcher } from '../../src/core/order-batcher.ts';
import { createGoodsCatalog, createSale } from '../../src/core/sales.ts';
import { placeOrder } from '../../src/core/place-order.ts';
import { createRateLimiter } from '../../src/core/rate-limit.ts';
import { createSoldOutSigns } from '../../src/core/sold-out-signs.ts';
import { makeAuthenticate } from '../../src/entry-points/http/auth.ts';
import { parseInput, sendError, sendRateLimited } from '../../src/entry-points/http/http-errors.ts';
import { SeckillOrderBody } from '../../src/entry-points/http/schemas.ts';
import { systemTimers } from '../../src/adapters/timers/system-timers.ts';

const variant = process.env.VARIANT ?? 'hello';
const secret = process.env.ABLATION_SECRET ?? 'x'.repeat(64);
const clock = { now: () => new Date() };
const logger = pino({ level: 'warn', redact: { paths: ['password', '*.password', 'token', '*.token', 'req.headers.authorization', 'tokenSecret'], censor: '[redacted]' } });

// The app as `npm start` composes it (embedded, api role only), built but not listening: the `full` variant is
// its server; the reduced variants reuse its adapters and measure only the steps they name.
const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'seckill-ablation-'));
const running = await startApp(
  loadConfig({
    SECKILL_MODE: 'embedded',
    SECKILL_ROLES: 'api',
    SECKILL_DATA_DIR: dataDir,
    SECKILL_DEMO: 'false',
    SECKILL_TOKEN_SECRET: secret,
    SECKILL_ADMIN_PASSWORD: 'ablation-admin-1',
    SECKILL_RATE_LIMIT_PER_S: '5',
    SECKILL_RATE_LIMIT_BURST: '10',
    SECKILL_IP_RATE_LIMIT_PER_S: '0',
    SECKILL_AUTH_RATE_LIMIT_PER_MIN: '0',
    LOG_LEVEL: 'warn',
  }),
  logger,
  clock,
  { listen: false },
);
const { store, cache, bus } = running.adapters;
const { metrics, signer } = running;

const apiOptions = {
  loggerInstance: logger.child({ component: 'http' }) as FastifyBaseLogger,
  bodyLimit: 16 * 1024,
  logController: new LogController({ disableRequestLogging: true }),
  return503OnClosing: true,
  routerOptions: { maxParamLength: 100 },
};

const catalog = createGoodsCatalog(store, clock);
const signs = createSoldOutSigns(clock);
const now = Date.now();
// The full server checks each token's version against the user's row: the buyers of bench/ablation.ts (ids from
// 1 and from 1,000,001, as many as it may send) exist, so the full variant answers them as the others do.
if (variant === 'full') {
  const users = Number(process.env.ABLATION_USERS ?? 200_000);
  for (const first of [1, 1_000_001]) {
    await running.adapters.db.query(
      `INSERT INTO users (id, phone, nickname, password_hash, role)
       SELECT g, '1' || lpad(g::text, 10, '0'), 'buyer', 'not-a-login', 'user' FROM generate_series($1::bigint, $2::bigint) g
       ON CONFLICT DO NOTHING`,
      [first, first + users - 1],
    );
  }
}
const good = await createSale({ store, cache, catalog }, {
  name: 'sold out', title: '', imageUrl: '', price: 100, seckillPrice: 1, stock: 0,
  startAt: new Date(now - 60_000), endAt: new Date(now + 3_600_000),
}, new Date());
const rateLimiter = createRateLimiter(clock, { perSecond: 5, burst: 10 });
const authenticate = makeAuthenticate(signer, clock);
const placeDeps = { catalog, signs, cache, orders: createOrderBatcher({ bus, cache, timers: systemTimers }, { maxOrders: 500, maxWaitMs: 2 }), store, clock };

function metricsHook(app: FastifyInstance) {
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.httpDuration.observe({ method: req.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
}

/** The variant's server, not listening yet (also usable in process with `inject`). */
export async function buildVariant(variant: string): Promise<FastifyInstance> {
  if (variant === 'full') {
    if (!running.http) throw new Error('the composed app runs no api');
    return running.http;
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
  process.on('SIGTERM', () => void Promise.all([app.close(), running.stop()]).finally(() => process.exit(0)));
}
