/**
 * The worker's use case: turn queued requests into orders, then tell everyone.
 *
 * Order of effects, chosen so that a crash at any point is repaired by redelivery:
 * 1. database transaction (order + stored result; idempotent on uuid),
 * 2. cache: settle the reservation (SUCCESS) or give the unit back (FAIL) — both keyed by uuid,
 * 3. publish the result, 4. the caller acks. A redelivered message finds its stored result in step 1
 *    and repeats steps 2–3, which change nothing the second time.
 */
import { randomFillSync } from 'node:crypto';
import type { OrderBus } from './ports/order-bus.ts';
import type { OrderStore } from './ports/order-store.ts';
import type { StockCache } from './ports/stock-cache.ts';
import type { Clock } from './ports/timers.ts';
import type { OrderMessage, SeckillResult } from './model.ts';

export interface CreateOrdersDeps {
  store: Pick<OrderStore, 'createOrders' | 'liveOrderNos'>;
  cache: Pick<StockCache, 'settle' | 'release' | 'noteRequests'>;
  bus: Pick<OrderBus, 'publishResults' | 'broadcastStockAgain' | 'raiseAlert'>;
  clock: Clock;
  payTimeoutMs: number;
  /** Note the decided requests again in the cache, kept this long (results.ts); unset: not noted. */
  noteKeepMs?: number;
}

export interface CreateOrdersSummary {
  created: number;
  failed: number;
  repeats: number;
  results: SeckillResult[];
}

/**
 * Order numbers: time-ordered (base36 ms) + 10 random base36 chars, unique across processes.
 * The random chars come from a pooled buffer: one randomBytes call per order was ~8% of the worker's CPU
 * on a hot good. Bytes ≥ 252 are skipped, so each char is uniform over the 36 digits.
 */
const DIGITS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const pool = Buffer.allocUnsafe(4096);
let poolAt = pool.length;

function randomByte(): number {
  if (poolAt >= pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  return pool[poolAt++]!;
}

export function makeOrderNo(now = Date.now()): string {
  let orderNo = now.toString(36).toUpperCase().padStart(9, '0');
  for (let n = 0; n < 10; ) {
    const b = randomByte();
    if (b < 252) {
      orderNo += DIGITS.charAt(b % 36);
      n++;
    }
  }
  return orderNo;
}

/** Per good: the uuids whose reservation became an order, and those whose unit goes back. */
interface CacheWork {
  settle: string[];
  release: string[];
}

export async function createOrders(deps: CreateOrdersDeps, messages: readonly OrderMessage[]): Promise<CreateOrdersSummary> {
  const now = deps.clock.now();
  const nowMs = now.getTime();
  const outcomes = await deps.store.createOrders(messages, {
    now,
    payTimeoutMs: deps.payTimeoutMs,
    makeOrderNo: () => makeOrderNo(nowMs),
  });
  const summary: CreateOrdersSummary = { created: 0, failed: 0, repeats: 0, results: [] };
  const perGood = new Map<number, CacheWork>();
  // A uuid sent again after its order was closed (bought, cancelled, pressed again) holds a fresh unit
  // that no order owns: that unit goes back. Only repeats are looked up, so a hot batch reads nothing more.
  const repeatedOrders = outcomes.flatMap(({ result, created }) => (!created && result.status === 'SUCCESS' && result.orderNo ? [result.orderNo] : []));
  const live = repeatedOrders.length > 0 ? await deps.store.liveOrderNos(repeatedOrders) : new Set<string>();
  const conflicts: OrderMessage[] = [];

  outcomes.forEach(({ result, created }, i) => {
    const message = messages[i]!;
    if (!created) summary.repeats++;
    else if (result.status === 'SUCCESS') summary.created++;
    else summary.failed++;
    let work = perGood.get(message.seckillGoodId);
    if (!work) perGood.set(message.seckillGoodId, (work = { settle: [], release: [] }));
    // The unit this uuid holds in the cache goes back exactly once (release is keyed by uuid).
    const ownsUnit = result.status === 'SUCCESS' && result.seckillGoodId === message.seckillGoodId && (created || live.has(result.orderNo!));
    if (ownsUnit) work.settle.push(message.uuid);
    else work.release.push(message.uuid);
    // A uuid reused for another good or buyer keeps its first outcome; the request that reused it ends in
    // FAIL UUID_CONFLICT (pushed to its buyer, readable by them) and its stray reservation is released above.
    if (result.reason === 'UUID_CONFLICT') conflicts.push(message);
    summary.results.push(result);
  });

  // The api noted these requests when it accepted them; noting them again now that their results are stored
  // restores a note the cache lost meanwhile (a failover) and keeps it from the decision on. Before the
  // reservations are cleared below, so a poll always finds one or the other. Best effort: the api's note
  // normally stands, and the results are decided either way.
  if (deps.noteKeepMs !== undefined) {
    await deps.cache.noteRequests(messages.map(({ uuid, seckillGoodId, userId }) => ({ uuid, seckillGoodId, userId })), deps.noteKeepMs).catch(() => undefined);
  }

  // One cache call per good and kind for the whole batch.
  const restocked: number[] = [];
  await Promise.all(
    [...perGood].map(async ([goodId, work]) => {
      try {
        await deps.cache.settle(goodId, work.settle);
        if ((await deps.cache.release(goodId, work.release)) > 0) restocked.push(goodId);
      } catch (cause) {
        // The orders are decided and stored; the reservations stay recorded, so the reconciler can finish
        // this later. The buyers still hear their results now. One alert per good, not per order.
        await deps.bus.raiseAlert({
          kind: 'CACHE_UPDATE_FAILED',
          message: `Could not settle ${work.settle.length} and release ${work.release.length} reservations: ${String(cause)}`,
          seckillGoodId: goodId,
          details: { uuids: [...work.settle, ...work.release].slice(0, 20) },
          at: deps.clock.now().toISOString(),
        });
      }
    }),
  );
  if (conflicts.length > 0) {
    await deps.bus.raiseAlert({
      kind: 'UUID_CONFLICT',
      message: `${conflicts.length} request id(s) reused for another good or buyer.`,
      uuid: conflicts[0]!.uuid,
      seckillGoodId: conflicts[0]!.seckillGoodId,
      details: { requests: conflicts.slice(0, 20).map((m) => ({ uuid: m.uuid, userId: m.userId, seckillGoodId: m.seckillGoodId })) },
      at: deps.clock.now().toISOString(),
    });
  }
  // One result message per status, and one "stock again" message, for the whole batch.
  await Promise.all([deps.bus.publishResults(summary.results), deps.bus.broadcastStockAgain(restocked)]);
  return summary;
}
