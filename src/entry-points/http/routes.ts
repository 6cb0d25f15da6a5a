/** The routes of docs/api.md. Each handler: authenticate, validate, call one use case, present. */
import type { FastifyInstance } from 'fastify';
import { ChangePasswordBody, IdParams, LoginBody, NewGoodBody, RefreshBody, OrderNoParams, RegisterBody, ReplayQuery, ResultQuery, TakeAlertsQuery, UuidParams } from './schemas.ts';
import { changePassword, currentUser, login, logout, refreshSession, register, type AccountsDeps, type Session } from '../../core/accounts.ts';
import { handOutBuyPath, type BuyPaths } from '../../core/buy-path.ts';
import { SeckillError } from '../../core/errors.ts';
import { createSale, getSale, listSales, saleStats, type GoodsCatalog, type GoodsDeps } from '../../core/sales.ts';
import { cancelOrder, myOrders, ownOrder, type CancelOrderDeps, type OrdersDeps } from '../../core/orders.ts';
import { payOrder, type PayOrderDeps } from '../../core/payments.ts';
import { lookUpResult, type ResultLookupDeps } from '../../core/results.ts';
import type { PlaceOrderDeps } from '../../core/place-order.ts';
import type { OnceClaims } from '../../core/ports/once-claims.ts';
import type { OrderBus } from '../../core/ports/order-bus.ts';
import type { AbuseLimits } from '../../core/abuse-limits.ts';
import { requireAdmin, type Authenticate } from './auth.ts';
import { adminActor, registerAdminRoutes, type AdminRouteDeps } from './admin.routes.ts';
import { replayDeadOrders } from '../../core/audit.ts';
import { parseInput } from './http-errors.ts';
import type { Buy } from './buy.ts';
import type { Metrics } from '../metrics.ts';
import { registerPhoneRoutes, type PhoneRouteDeps } from './phone.routes.ts';
import type { PowGate } from '../../core/proof-of-work.ts';
import { goodJson, orderJson, resultJson, userJson } from './presenters.ts';
import type { BuyPathJson, SaleStatsJson, SessionJson } from './responses.ts';
import { registerSaleAdminRoutes } from './sale-admin.routes.ts';
import type { SaleOperationsDeps } from '../../core/sale-operations.ts';

export interface RouteDeps {
  authenticate: Authenticate;
  accounts: AccountsDeps;
  goods: GoodsDeps;
  placeOrder: PlaceOrderDeps;
  /** The buyer's orders: reading, paying, cancelling. */
  orders: PayOrderDeps & CancelOrderDeps & OrdersDeps;
  results: ResultLookupDeps;
  catalog: GoodsCatalog;
  alerts: Pick<OrderBus, 'takeAlerts' | 'replayDeadOrders'>;
  /** Customer service, finance and the audit log (admin.routes.ts). */
  admin: Omit<AdminRouteDeps, 'authenticate'>;
  metrics: Metrics;
  /** Buy paths; `required`: the buy request must carry one (SECKILL_HIDDEN_PATH=on), each used by one request (`claims`). */
  buyPaths: { paths: BuyPaths; claims: OnceClaims; required: boolean; limits?: Pick<AbuseLimits, 'beforePath'> };
  /** Editing, pausing, resuming and restocking a sale. */
  saleOperations: SaleOperationsDeps;
  /** One-time codes to phones (register, password reset) and the development outbox. */
  phone: PhoneRouteDeps;
  /** Proof-of-work before register and/or buying (SECKILL_POW). */
  pow: PowGate;
}

/** `buy`: the hot route (buy.ts), built from these deps by the server, which also serves it on its fast lane. */
export function registerRoutes(app: FastifyInstance, deps: RouteDeps, buy: Buy): void {
  const { authenticate } = deps;

  const sessionJson = (s: Session): SessionJson => ({
    user: userJson(s.user),
    token: s.token,
    expiresAt: s.expiresAt.toISOString(),
    ...(s.refreshToken && s.refreshExpiresAt ? { refreshToken: s.refreshToken, refreshExpiresAt: s.refreshExpiresAt.toISOString() } : {}),
  });

  app.post('/api/auth/register', async (req, reply) => {
    const { pow, ...body } = parseInput(RegisterBody, req.body);
    await deps.pow.check('register', pow);
    return reply.code(201).send(sessionJson(await register(deps.accounts, body, { ip: req.ip })));
  });

  registerPhoneRoutes(app, deps.phone, deps.accounts);

  app.post('/api/auth/login', async (req) => {
    const body = parseInput(LoginBody, req.body);
    return sessionJson(await login(deps.accounts, body, { ip: req.ip }));
  });

  app.post('/api/auth/refresh', async (req) => {
    const body = parseInput(RefreshBody, req.body);
    return sessionJson(await refreshSession(deps.accounts, body.refreshToken));
  });

  // Every session of this user ends (all tokens issued before), not only the one presented.
  app.post('/api/auth/logout', async (req, reply) => {
    const claims = await authenticate(req);
    await logout(deps.accounts, claims.userId, claims.role);
    return reply.code(204).send();
  });

  app.post('/api/auth/password', async (req) => {
    const claims = await authenticate(req);
    const body = parseInput(ChangePasswordBody, req.body);
    return sessionJson(await changePassword(deps.accounts, claims.userId, body, { ip: req.ip }));
  });

  app.get('/api/me', async (req) => {
    const claims = await authenticate(req);
    return userJson(await currentUser(deps.accounts, claims.userId));
  });

  // A fresh puzzle per request (each is accepted once); cheap to make: one HMAC.
  app.get('/api/pow/challenge', async (req, reply) => {
    reply.header('Cache-Control', 'no-store');
    return deps.pow.challenge();
  });

  app.get('/api/seckill/goods', async () => ({ items: (await listSales(deps.goods)).map(goodJson) }));

  app.get('/api/seckill/goods/:id', async (req) => goodJson(await getSale(deps.goods, parseInput(IdParams, req.params).id)));

  app.get('/api/seckill/goods/:id/path', async (req) => {
    const claims = await authenticate(req);
    const { id } = parseInput(IdParams, req.params);
    const { path, expiresAt } = await handOutBuyPath(
      { catalog: deps.catalog, ...deps.buyPaths },
      { userId: claims.userId, seckillGoodId: id, ip: req.ip },
      deps.accounts.clock.now(),
    );
    return { path, expiresAt: expiresAt.toISOString() } satisfies BuyPathJson;
  });

  app.post('/api/seckill/orders', async (req, reply) => {
    const answer = await buy(req);
    if ('retryAfterSeconds' in answer && answer.retryAfterSeconds) reply.header('Retry-After', String(answer.retryAfterSeconds));
    return reply.code(answer.status).send(answer.body);
  });

  app.get('/api/seckill/results/:uuid', async (req) => {
    const claims = await authenticate(req);
    const { uuid } = parseInput(UuidParams, req.params);
    const { seckillGoodId } = parseInput(ResultQuery, req.query);
    const answer = await lookUpResult(deps.results, { userId: claims.userId, uuid, seckillGoodId });
    if (!answer) throw notFound('result');
    return resultJson(answer);
  });

  app.get('/api/orders', async (req) => {
    const claims = await authenticate(req);
    return { items: (await myOrders(deps.orders, claims.userId)).map(orderJson) };
  });

  app.get('/api/orders/:orderNo', async (req) => {
    const claims = await authenticate(req);
    const { orderNo } = parseInput(OrderNoParams, req.params);
    return orderJson(await ownOrder(deps.orders, claims.userId, orderNo));
  });

  app.post('/api/orders/:orderNo/pay', async (req) => {
    const claims = await authenticate(req);
    const { orderNo } = parseInput(OrderNoParams, req.params);
    return orderJson(await payOrder(deps.orders, { userId: claims.userId, orderNo }));
  });

  app.post('/api/orders/:orderNo/cancel', async (req) => {
    const claims = await authenticate(req);
    const { orderNo } = parseInput(OrderNoParams, req.params);
    return orderJson(await cancelOrder(deps.orders, { userId: claims.userId, orderNo }));
  });

  app.post('/api/admin/seckill/goods', async (req, reply) => {
    const by = await adminActor(authenticate, req);
    const body = parseInput(NewGoodBody, req.body);
    return reply.code(201).send(goodJson(await createSale(deps.goods, body, deps.accounts.clock.now(), by)));
  });

  // Taking alerts removes them from the alert queue (an operator acknowledges them), hence POST.
  app.post('/api/admin/alerts/take', async (req) => {
    requireAdmin(await authenticate(req));
    const { max } = parseInput(TakeAlertsQuery, req.query);
    return { items: await deps.alerts.takeAlerts(max) };
  });

  // Order batches that failed on their own content went to the dead-letter queue; once the cause is fixed
  // an operator sends them back to work. Safe to repeat: the worker is idempotent per uuid.
  app.post('/api/admin/dead-orders/replay', async (req) => {
    const by = await adminActor(authenticate, req);
    const { max } = parseInput(ReplayQuery, req.query);
    return { replayed: await replayDeadOrders({ bus: deps.alerts, audit: deps.admin.audit }, max, by) };
  });

  app.get('/api/admin/seckill/goods/:id/stats', async (req) => {
    requireAdmin(await authenticate(req));
    const { id } = parseInput(IdParams, req.params);
    return { ...(await saleStats(deps.goods, id)), requests: buy.requestsOf(id) } satisfies SaleStatsJson;
  });

  registerSaleAdminRoutes(app, { ...deps, audit: deps.admin.audit, requestsOf: buy.requestsOf });
  registerAdminRoutes(app, { authenticate, ...deps.admin });
}

const notFound = (what: string) => new SeckillError('NOT_FOUND', `No such ${what}.`);
