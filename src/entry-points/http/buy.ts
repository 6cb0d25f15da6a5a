/**
 * POST /api/seckill/orders, the hot route, as one function of the request's parts: the fastify route and the
 * buy fast lane (buy-fast-lane.ts) both call it, so the two can never answer differently. Throws what any
 * route throws (UNAUTHORIZED, INVALID_INPUT, UNAVAILABLE …); the caller translates it (http-errors.ts).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { admitWithPath, type BuyPaths } from '../../core/buy-path.ts';
import { isSeckillError } from '../../core/errors.ts';
import type { OnceClaims } from '../../core/ports/once-claims.ts';
import { placeOrder, type PlaceOrderDeps } from '../../core/place-order.ts';
import type { PowGate } from '../../core/proof-of-work.ts';
import type { AbuseLimits } from '../../core/abuse-limits.ts';
import type { Clock } from '../../core/ports/timers.ts';
import type { Metrics } from '../metrics.ts';
import type { Authenticate, RequestLog } from './auth.ts';
import { errorBody, parseInput, rateLimitedAnswer, STATUS_OF } from './http-errors.ts';
import { resultJson } from './presenters.ts';
import type { SeckillResultJson } from './responses.ts';
import { SeckillOrderBody } from './schemas.ts';

export interface BuyDeps {
  authenticate: Authenticate;
  placeOrder: PlaceOrderDeps;
  pow: PowGate;
  buyPaths: { paths: BuyPaths; claims: OnceClaims; required: boolean; limits?: Pick<AbuseLimits, 'beforePath'> };
  /** Its clock (read per request). */
  accounts: { clock: Clock };
  metrics: Metrics;
}

export interface BuyRequest {
  headers: IncomingHttpHeaders;
  log: RequestLog;
  body: unknown;
  /** The client address (after the trusted proxies), for the per-address limit. */
  ip: string;
}

export type BuyAnswer =
  | { status: 200; body: SeckillResultJson }
  | { status: number; body: ReturnType<typeof errorBody>; retryAfterSeconds?: number };

export interface Buy {
  (request: BuyRequest): Promise<BuyAnswer>;
  /** Requests per good seen by this process (the admin dashboard's requests/s). */
  requestsOf(seckillGoodId: number): number;
}

const FORBIDDEN_PATH = 'Ask for a buy path first (GET /api/seckill/goods/:id/path); this one is missing, expired, not yours, or used by another request.';

export function makeBuy(deps: BuyDeps): Buy {
  // One Map update per request; unknown goods are not counted, so a client cannot grow the map without bound.
  const requestsByGood = new Map<number, number>();

  const buy = async (req: BuyRequest): Promise<BuyAnswer> => {
    const claims = await deps.authenticate(req);
    const { path, pow, ...body } = parseInput(SeckillOrderBody, req.body);
    if (deps.pow.required('buy')) {
      try {
        await deps.pow.check('buy', pow);
      } catch (err) {
        deps.metrics.seckillRequests.inc({ outcome: isSeckillError(err) ? err.code : 'INTERNAL' });
        throw err;
      }
    }
    if (deps.buyPaths.required && !(await admitWithPath(deps.buyPaths, { path, userId: claims.userId, ...body }, deps.accounts.clock.now()))) {
      deps.metrics.seckillRequests.inc({ outcome: 'FORBIDDEN' });
      return { status: STATUS_OF.FORBIDDEN, body: errorBody('FORBIDDEN', FORBIDDEN_PATH) };
    }
    const outcome = await placeOrder(deps.placeOrder, { userId: claims.userId, ip: req.ip, ...body });
    if (outcome.kind === 'ACCEPTED' || outcome.code !== 'NOT_FOUND') {
      requestsByGood.set(body.seckillGoodId, (requestsByGood.get(body.seckillGoodId) ?? 0) + 1);
    }
    deps.metrics.seckillRequests.inc({ outcome: outcome.kind === 'ACCEPTED' ? (outcome.repeat ? 'REPEAT' : 'QUEUED') : outcome.code });
    if (outcome.kind === 'ACCEPTED') return { status: 200, body: resultJson(outcome) };
    if (outcome.code === 'RATE_LIMITED') return rateLimitedAnswer(outcome.retryAfterSeconds);
    return { status: STATUS_OF[outcome.code], body: errorBody(outcome.code, outcome.message) };
  };
  return Object.assign(buy, { requestsOf: (id: number) => requestsByGood.get(id) ?? 0 });
}
