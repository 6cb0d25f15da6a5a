/**
 * OrderStore.createOrders on SQL: the worker's hot path.
 *
 * Every transaction here takes its locks in one order, so concurrent workers never deadlock whatever the
 * mix of batches and single messages:
 *  1. the result rows of its uuids (in uuid order): the row is inserted first, as a claim. Another delivery
 *     of the same uuid waits on it, then reads the stored result instead of doing the work twice;
 *  2. the order rows (in buyer order): the partial unique index on live orders is the last word on
 *     "one live order per buyer and good";
 *  3. the good's row, last: the conditional stock UPDATE never lets stock go below 0, and every taker of a
 *     hot good queues on this row — so it is held only for that UPDATE and the COMMIT.
 *
 * A good's messages first go in ONE transaction (one multi-row INSERT each for results and orders, one
 * stock UPDATE). When that batch cannot go through as a whole (short of stock, a buyer who already has a
 * live order, an unknown good), it rolls back and each message goes alone, with the exact per-message rules.
 */
import type { OrderMessage, SeckillResult } from '../../core/model.ts';
import type { Database, Queryable } from '../database/database.ts';
import { UNIQUE_VIOLATION, sqlState } from '../database/database.ts';
import { LIVE_STATES } from './sql-states.ts';
import { claimResults, insertOrders, readResults, storedOrThrow, takeStock, type CreateOrdersOptions } from './sql-order-steps.ts';

export interface Created {
  result: SeckillResult;
  /**
   * This call decided and stored the result (a new SUCCESS with its order, or a new FAIL). false for a
   * result stored before, a repeat of a uuid within the call, and UUID_CONFLICT (kept apart, see conflictOf).
   */
  created: boolean;
}

/** The stored result of a uuid, and whether this call is the one that decided it. */
interface Decision {
  stored: SeckillResult;
  decidedNow: boolean;
}

type FailOutcome = { reason: 'SOLD_OUT' | 'DUPLICATE_ORDER' | 'NOT_FOUND' };

/** The batch cannot go through as a whole: roll it back and take its messages one by one. */
class BatchRejected extends Error {}

const FOREIGN_KEY_VIOLATION = '23503';
const DEADLOCK = '40P01';
const SERIALIZATION_FAILURE = '40001';

export async function createOrdersInDb(
  db: Database,
  messages: readonly OrderMessage[],
  opts: CreateOrdersOptions,
): Promise<Created[]> {
  const { firsts, firstIndexOf } = dedupeByUuid(messages);
  const decisions = new Map<string, Decision>();
  for (const group of groupByGood(firsts).values()) {
    for (const [uuid, decision] of await createGroup(db, group, opts)) decisions.set(uuid, decision);
  }
  const outcomes = messages.map((message, index) => {
    const { stored, decidedNow } = decisions.get(message.uuid)!;
    // Only the occurrence that made the decision "created" it; a repeat (in this call or a later one)
    // gets the stored result, or UUID_CONFLICT when it is another request under the same uuid.
    if (decidedNow && firstIndexOf.get(message.uuid) === index) return { result: stored, created: true };
    return answerFromStored(stored, message);
  });
  await recordConflicts(db, outcomes.filter((o) => o.result.reason === 'UUID_CONFLICT').map((o) => o.result));
  return outcomes;
}

/** The outcome of a request that reused another's uuid, kept so its buyer can read it (idempotent). */
async function recordConflicts(db: Database, conflicts: SeckillResult[]): Promise<void> {
  if (conflicts.length === 0) return;
  await db.query(
    `INSERT INTO seckill_conflicts (uuid, user_id, seckill_good_id)
     SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[]) ON CONFLICT DO NOTHING`,
    [conflicts.map((c) => c.uuid), conflicts.map((c) => c.userId), conflicts.map((c) => c.seckillGoodId)],
  );
}

function dedupeByUuid(messages: readonly OrderMessage[]) {
  const firstIndexOf = new Map<string, number>();
  const firsts: OrderMessage[] = [];
  messages.forEach((message, index) => {
    if (firstIndexOf.has(message.uuid)) return;
    firstIndexOf.set(message.uuid, index);
    firsts.push(message);
  });
  return { firsts, firstIndexOf };
}

function groupByGood(messages: readonly OrderMessage[]): Map<number, OrderMessage[]> {
  const groups = new Map<number, OrderMessage[]>();
  for (const message of messages) {
    const group = groups.get(message.seckillGoodId);
    if (group) group.push(message);
    else groups.set(message.seckillGoodId, [message]);
  }
  return groups;
}

type Request = Pick<OrderMessage, 'userId' | 'seckillGoodId'>;

function sameRequest(a: Request, b: Request): boolean {
  return a.userId === b.userId && a.seckillGoodId === b.seckillGoodId;
}

/** Not stored: the uuid belongs to another request; the caller gives back the unit this message holds. */
function uuidConflict(message: OrderMessage): SeckillResult {
  const { uuid, userId, seckillGoodId } = message;
  return { uuid, userId, seckillGoodId, status: 'FAIL', reason: 'UUID_CONFLICT' };
}

function answerFromStored(stored: SeckillResult, message: OrderMessage): Created {
  return { result: sameRequest(stored, message) ? stored : uuidConflict(message), created: false };
}

function decided(message: OrderMessage, outcome: { orderNo: string } | FailOutcome): Decision {
  const { uuid, userId, seckillGoodId } = message;
  const stored: SeckillResult =
    'orderNo' in outcome
      ? { uuid, userId, seckillGoodId, status: 'SUCCESS', orderNo: outcome.orderNo }
      : { uuid, userId, seckillGoodId, status: 'FAIL', reason: outcome.reason };
  return { stored, decidedNow: true };
}

async function createGroup(db: Database, group: OrderMessage[], opts: CreateOrdersOptions): Promise<Map<string, Decision>> {
  if (group.length > 1) {
    try {
      return await db.transaction((tx) => createBatch(tx, group, opts));
    } catch (err) {
      if (!batchCannotPass(err)) throw err;
    }
  }
  const decisions = new Map<string, Decision>();
  for (const message of group) decisions.set(message.uuid, await createOneWithRetry(db, message, opts));
  return decisions;
}

function batchCannotPass(err: unknown): boolean {
  if (err instanceof BatchRejected) return true;
  // An unknown buyer (foreign key): the per-message path raises it for that message alone.
  const state = sqlState(err);
  return state === FOREIGN_KEY_VIOLATION || state === UNIQUE_VIOLATION || lostRace(err);
}

function lostRace(err: unknown): boolean {
  const state = sqlState(err);
  return state === DEADLOCK || state === SERIALIZATION_FAILURE;
}

/**
 * Our own transactions never deadlock, but other code (closing an order) may lock an order before its
 * good; should that meet us, the server aborts one side to break the cycle: try again.
 */
async function createOneWithRetry(db: Database, message: OrderMessage, opts: CreateOrdersOptions): Promise<Decision> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction((tx) => createOne(tx, message, opts));
    } catch (err) {
      if (attempt >= 3 || !lostRace(err)) throw err;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The batch: all new messages of one good become orders, or none do.
// ---------------------------------------------------------------------------------------------

async function createBatch(tx: Queryable, group: OrderMessage[], opts: CreateOrdersOptions): Promise<Map<string, Decision>> {
  const orderNos = group.map(() => opts.makeOrderNo());
  const claimed = await claimResults(tx, group, orderNos, opts.now);
  const decisions = new Map<string, Decision>();

  // Redeliveries: the uuids not claimed have a stored result (committed: the claim waited for it).
  const known = group.filter((m) => !claimed.has(m.uuid));
  if (known.length > 0) {
    const stored = await readResults(tx, known.map((m) => m.uuid));
    for (const { uuid } of known) decisions.set(uuid, { stored: storedOrThrow(stored, uuid), decidedNow: false });
  }

  const fresh = group.filter((m) => claimed.has(m.uuid));
  const freshOrderNos = orderNos.filter((_, i) => claimed.has(group[i]!.uuid));
  if (fresh.length === 0) return decisions;

  const seckillGoodId = fresh[0]!.seckillGoodId;
  // A buyer who already has a live order (or appears twice in the batch) fails this with a unique violation.
  if ((await insertOrders(tx, seckillGoodId, fresh, freshOrderNos, { ...opts, skipLive: false })) < fresh.length) {
    throw new BatchRejected('unknown good');
  }
  if (!(await takeStock(tx, seckillGoodId, fresh.length))) throw new BatchRejected('not enough stock for the whole batch');

  fresh.forEach((message, i) => decisions.set(message.uuid, decided(message, { orderNo: freshOrderNos[i]! })));
  return decisions;
}

// ---------------------------------------------------------------------------------------------
// One message alone: the exact rules, in one transaction.
// ---------------------------------------------------------------------------------------------

async function createOne(tx: Queryable, message: OrderMessage, opts: CreateOrdersOptions): Promise<Decision> {
  const { uuid, seckillGoodId } = message;
  const orderNo = opts.makeOrderNo();
  if (!(await claimResults(tx, [message], [orderNo], opts.now)).has(uuid)) {
    return { stored: storedOrThrow(await readResults(tx, [uuid]), uuid), decidedNow: false };
  }

  let failure: FailOutcome | null = null;
  if ((await insertOrders(tx, seckillGoodId, [message], [orderNo], { ...opts, skipLive: true })) === 0) {
    failure = await whyNoOrder(tx, message);
    // Neither reason: the order number collided with another order's (makeOrderNo is broken).
    if (!failure) throw new Error(`order ${orderNo} for ${uuid} conflicted with another order`);
  } else if (!(await takeStock(tx, seckillGoodId, 1))) {
    // Orders go in before the stock row is locked (see the header); this one has no unit after all.
    await tx.query('DELETE FROM orders WHERE order_no = $1', [orderNo]);
    failure = { reason: 'SOLD_OUT' };
  }
  if (!failure) return decided(message, { orderNo });

  await tx.query(`UPDATE seckill_results SET status = 'FAIL', order_no = NULL, reason = $2 WHERE uuid = $1`, [uuid, failure.reason]);
  return decided(message, failure);
}

/** Why an order could not go in: the good does not exist, or the buyer has a live order of it (null: neither). */
async function whyNoOrder(tx: Queryable, message: OrderMessage): Promise<FailOutcome | null> {
  const [row] = await tx.query<{ good: boolean; live: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM seckill_goods WHERE id = $1) AS good,
            EXISTS (SELECT 1 FROM orders
                     WHERE seckill_good_id = $1 AND user_id = $2 AND status IN ${LIVE_STATES}) AS live`,
    [message.seckillGoodId, message.userId],
  );
  if (!row?.good) return { reason: 'NOT_FOUND' };
  return row.live ? { reason: 'DUPLICATE_ORDER' } : null;
}
