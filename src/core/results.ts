/**
 * What became of a seckill request (one uuid), as its buyer may learn it. A result is only ever shown to
 * the buyer who made the request; another buyer's result answers like a missing one (nothing leaks).
 *
 * A uuid can carry two stored outcomes: its own result, and the FAIL UUID_CONFLICT of a later request that
 * reused it (another buyer's, or the same buyer's for another good). Each buyer sees theirs.
 */
import type { SeckillResult } from './model.ts';
import type { OrderStore } from './ports/order-store.ts';
import type { StockCache } from './ports/stock-cache.ts';

/** A decided result, or QUEUED while the request's unit is still reserved in the cache. */
export type ResultAnswer = SeckillResult | { uuid: string; status: 'QUEUED' };

export interface ResultLookupDeps {
  store: Pick<OrderStore, 'getResult' | 'conflictOf'>;
  cache: Pick<StockCache, 'reservationOf' | 'requestsOf'>;
  /** The goods a uuid may have been reserved on, when the asker does not say (the catalog's ids). */
  goodIds(): Promise<number[]>;
  /** How long the cache keeps request notes (the same as they are noted with). */
  noteKeepMs: number;
}

/** The stored result belongs to another buyer and none of this buyer's is stored under the uuid. */
const FOREIGN = Symbol('foreign');

/**
 * This buyer's outcome under `uuid` (optionally: of a request for `seckillGoodId`); null when there is none
 * this buyer may see. Polling's answer, and the WebSocket's fallback.
 */
export async function lookUpResult(
  deps: ResultLookupDeps,
  req: { userId: number; uuid: string; seckillGoodId?: number | undefined },
): Promise<ResultAnswer | null> {
  const { userId, uuid, seckillGoodId } = req;
  const forGood = (r: { seckillGoodId: number }) => !seckillGoodId || r.seckillGoodId === seckillGoodId;
  // Every request is noted in the cache before its buyer hears QUEUED, and again when it is decided: a uuid
  // with no note of this buyer's is unknown to them, answered with this one cache call and no database read.
  // null: the cache lost its notes and has not been refilled yet, so only the database can tell.
  // (A poll naming another good than the noted one still reads on: the buyer's own result answers it, as ever.)
  const noted = await deps.cache.requestsOf(uuid, deps.noteKeepMs);
  const mine = noted?.filter((n) => n.userId === userId);
  if (mine && mine.length === 0) return null;
  const decided = async (): Promise<SeckillResult | typeof FOREIGN | null> => {
    const result = await deps.store.getResult(uuid);
    if (!result) return null;
    if (result.userId === userId && forGood(result)) return result;
    const conflict = await deps.store.conflictOf(uuid, userId);
    if (conflict && forGood(conflict)) return conflict;
    return result.userId === userId ? result : FOREIGN;
  };
  const first = await decided();
  if (first && first !== FOREIGN) return first;
  // Not decided yet: it is QUEUED if this buyer's reservation is still in the cache.
  const goodIds = seckillGoodId ? [seckillGoodId] : mine ? [...new Set(mine.map((n) => n.seckillGoodId))] : await deps.goodIds();
  for (const goodId of goodIds) {
    const held = await deps.cache.reservationOf(goodId, uuid);
    if (held) return held.userId === userId ? { uuid, status: 'QUEUED' } : null;
  }
  // The worker stores the result before it clears the reservation, so a decision made between the two
  // reads above is visible now.
  const second = await decided();
  return second && second !== FOREIGN ? second : null;
}

/**
 * What a socket of `userId` waiting on a uuid does with a result for that uuid: `deliver` it (theirs),
 * `refuse` (the uuid's own result is another buyer's: close 4403), or `ignore` it (another buyer's FAIL
 * UUID_CONFLICT for reusing the uuid: not for this socket, which keeps waiting for the uuid's own result).
 */
export function pushDecision(result: SeckillResult, userId: number): 'deliver' | 'refuse' | 'ignore' {
  if (result.userId === userId) return 'deliver';
  return isReuseFailure(result) ? 'ignore' : 'refuse';
}

/** A FAIL UUID_CONFLICT: the outcome of a request that reused a uuid, never the uuid's own result. */
export const isReuseFailure = (result: SeckillResult) => result.reason === 'UUID_CONFLICT';
