/**
 * The hot path: a buyer asks for one unit of a seckill good.
 *
 * auth (entry point) → sale window and pause (process memory) → local sold-out sign (no I/O) → the buyer's and the
 * client address's limits (asked only here: an answer that costs no I/O is not worth a limiter call) →
 * one atomic cache reservation → confirmed publish to the pending queue (in a batch with the other orders
 * of the same few milliseconds, see order-batcher.ts) → QUEUED. If the publish fails the unit is given back
 * before the buyer hears UNAVAILABLE, so nothing is lost.
 */
import { saleWindow, type GoodsCatalog } from './sales.ts';
import { SeckillError } from './errors.ts';
import type { OrderBatcher } from './order-batcher.ts';
import type { OrderStore } from './ports/order-store.ts';
import type { StockCache } from './ports/stock-cache.ts';
import type { Clock } from './ports/timers.ts';
import type { FailReason } from './model.ts';
import type { SoldOutSigns } from './sold-out-signs.ts';
import type { AbuseLimits } from './abuse-limits.ts';
import { loadGoodIntoCache } from './stock-sync.ts';

export interface PlaceOrderDeps {
  catalog: GoodsCatalog;
  signs: SoldOutSigns;
  cache: StockCache;
  /** Publishes accepted orders in batches; a failed batch has its units given back before this rejects. */
  orders: Pick<OrderBatcher, 'publish'>;
  store: Pick<OrderStore, 'getResult' | 'getGood' | 'liveBuyers'>;
  clock: Clock;
  /** Limits on presses per buyer and per client address; none: unlimited. */
  limits?: Pick<AbuseLimits, 'beforeBuy'>;
}

export interface PlaceOrderRequest {
  userId: number;
  seckillGoodId: number;
  uuid: string;
  /** The client address, for the per-address limit. */
  ip?: string;
}

export type RejectCode = 'SOLD_OUT' | 'DUPLICATE_ORDER' | 'NOT_STARTED' | 'ENDED' | 'NOT_FOUND' | 'PAUSED';

export type PlaceOrderOutcome =
  /** The request holds a unit (or, for a repeat, already has its outcome). */
  | { kind: 'ACCEPTED'; uuid: string; status: 'QUEUED' | 'SUCCESS' | 'FAIL'; orderNo?: string; reason?: FailReason; repeat: boolean }
  | { kind: 'REJECTED'; code: RejectCode; message: string }
  /** Too many presses: nothing was taken; try again after this many seconds. */
  | { kind: 'REJECTED'; code: 'RATE_LIMITED'; message: string; retryAfterSeconds: number };

const reject = (code: RejectCode, message: string): PlaceOrderOutcome => ({ kind: 'REJECTED', code, message });

export async function placeOrder(deps: PlaceOrderDeps, req: PlaceOrderRequest): Promise<PlaceOrderOutcome> {
  const { seckillGoodId, userId, uuid } = req;
  const good = await deps.catalog.get(seckillGoodId);
  if (!good) return reject('NOT_FOUND', `No seckill good ${seckillGoodId}.`);
  const now = deps.clock.now();
  const window = saleWindow(good, now);
  if (window === 'NOT_STARTED') return reject('NOT_STARTED', `The sale starts at ${good.startAt.toISOString()}.`);
  if (window === 'ENDED') return reject('ENDED', 'The sale has ended.');
  // Like the sold-out sign, the pause is a fact of process memory (sent to every process by broadcast).
  if (good.paused) return reject('PAUSED', 'The sale is paused; try again later.');
  if (deps.signs.isSet(seckillGoodId)) return reject('SOLD_OUT', 'Sold out.');
  const wait = deps.limits ? await deps.limits.beforeBuy(req.ip ?? '', userId) : 0;
  if (wait > 0) return { kind: 'REJECTED', code: 'RATE_LIMITED', message: 'Too many presses; wait a moment and try again.', retryAfterSeconds: wait };

  const generation = deps.signs.generation(seckillGoodId);
  let outcome = await reserveOrWithdraw(deps.cache, req, now.getTime());
  if (outcome.kind === 'NOT_LOADED') {
    // The cache lost the good (flush, failover) or never had it: load it from the database once.
    await loadGoodIntoCache(deps, seckillGoodId, { onlyIfMissing: true });
    outcome = await reserveOrWithdraw(deps.cache, req, now.getTime());
    if (outcome.kind === 'NOT_LOADED') throw new SeckillError('UNAVAILABLE', 'The stock cache is not ready; try again.');
  }

  switch (outcome.kind) {
    case 'RESERVED':
      await deps.orders.publish({ uuid, userId, seckillGoodId, reservedAt: now.getTime() }, { releaseOnFailure: true });
      if (outcome.stockLeft <= 0) deps.signs.set(seckillGoodId, generation);
      return { kind: 'ACCEPTED', uuid, status: 'QUEUED', repeat: false };
    case 'ALREADY_RESERVED':
      // A repeat, or a retried reserve whose first reply was lost: the first publish may never have
      // happened, so publish again (the worker ignores a uuid it has decided). QUEUED only once this
      // publish is confirmed: if it fails the buyer hears UNAVAILABLE and sends the same uuid again. The
      // unit is not released (the first publish may be on its way); the reconciler owns that case.
      await deps.orders.publish({ uuid, userId, seckillGoodId, reservedAt: now.getTime() }, { releaseOnFailure: false });
      return { kind: 'ACCEPTED', uuid, status: 'QUEUED', repeat: true };
    case 'SOLD_OUT':
      deps.signs.set(seckillGoodId, generation);
      return reject('SOLD_OUT', 'Sold out.');
    case 'UUID_TAKEN':
      return reject('DUPLICATE_ORDER', 'This request id is already in use.');
    case 'DUPLICATE':
      return answerRepeatOrDuplicate(deps, req);
  }
}

/**
 * A reserve that failed here (a stalled cache timed out) may still run there: the buyer is told UNAVAILABLE,
 * "nothing was taken", so whatever it takes is withdrawn behind it. Left alone, it would hold a unit no
 * message will ever ask for, and keep its buyer out of the sale (DUPLICATE_ORDER) until the reconciler
 * expired it.
 */
async function reserveOrWithdraw(cache: StockCache, req: PlaceOrderRequest, now: number) {
  try {
    return await cache.reserve(req.seckillGoodId, req.userId, req.uuid, now);
  } catch (err) {
    cache.withdraw(req.seckillGoodId, req.userId, req.uuid, now).catch(() => undefined);
    throw err;
  }
}

/** The buyer already holds a unit. If it was this very uuid, answer like the first time. */
async function answerRepeatOrDuplicate(deps: PlaceOrderDeps, req: PlaceOrderRequest): Promise<PlaceOrderOutcome> {
  const result = await deps.store.getResult(req.uuid);
  if (result && result.userId === req.userId && result.seckillGoodId === req.seckillGoodId) {
    return {
      kind: 'ACCEPTED',
      uuid: req.uuid,
      status: result.status,
      repeat: true,
      ...(result.orderNo ? { orderNo: result.orderNo } : {}),
      ...(result.reason ? { reason: result.reason } : {}),
    };
  }
  return reject('DUPLICATE_ORDER', 'You already hold an order or a queued request for this sale.');
}
