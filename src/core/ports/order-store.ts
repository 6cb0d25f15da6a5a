/**
 * OrderStore and OrderSearch: the database is the truth for stock and orders.
 */
import type { AdminOrder, AuditEntry, FailReason, GoodStats, NewSeckillGood, OpenPaymentIntent, Order, OrderMessage, OrderFilter, OrderKey, PaymentIntent, PaymentRecord, SaleEdit, SeckillGood, SeckillResult, Transition } from '../model.ts';
import type { RequestNote } from './stock-cache.ts';

export interface OrderStore {
  /** With `audit`, the admin action is recorded in the same transaction as the good (see AuditLog). */
  createGood(good: NewSeckillGood, opts?: { audit?: (created: SeckillGood) => AuditEntry }): Promise<SeckillGood>;
  getGood(id: number): Promise<SeckillGood | null>;
  listGoods(): Promise<SeckillGood[]>;
  /**
   * Change a sale's fields and raise its revision, in one conditional UPDATE. With `onlyBefore`, only while
   * its start is still after that moment (prices may not change under buyers). null: no such good, or the
   * condition failed.
   */
  editGood(id: number, edit: SaleEdit, opts: { onlyBefore?: Date }): Promise<SeckillGood | null>;
  /** Pause or resume a sale and raise its revision; null when there is no such good. */
  setPaused(id: number, paused: boolean): Promise<SeckillGood | null>;
  /**
   * Put `units` more on sale: stock and initial stock both grow by `units` (one UPDATE), only while the sale
   * ends after `endsAfter`. null: no such good, or it has ended.
   */
  addStock(id: number, units: number, opts: { endsAfter: Date }): Promise<SeckillGood | null>;
  /** Users holding a live (UNPAID or PAID) order of this good. */
  liveBuyers(seckillGoodId: number): Promise<number[]>;
  /** Those of these orders that are live (UNPAID or PAID); unknown order numbers are left out. */
  liveOrderNos(orderNos: readonly string[]): Promise<Set<string>>;
  /**
   * Turn queued requests into orders. For each message, in one transaction with the others where it can:
   * stock - 1 only if > 0, insert an UNPAID order, record the result. Idempotent on uuid: a uuid that
   * already has a result returns that result unchanged (nothing is created twice).
   * Results come back in the order of the messages.
   */
  createOrders(
    messages: readonly OrderMessage[],
    opts: { now: Date; payTimeoutMs: number; makeOrderNo: () => string },
  ): Promise<{ result: SeckillResult; created: boolean }[]>;
  /** The stored result of a uuid, if the worker has decided it. */
  getResult(uuid: string): Promise<SeckillResult | null>;
  /**
   * The FAIL UUID_CONFLICT outcome of a request this buyer sent under a uuid that another request (another
   * buyer's, or this buyer's for another good) had already used; null when there is none. Newest first.
   */
  conflictOf(uuid: string, userId: number): Promise<SeckillResult | null>;
  /** The requests decided since `since` (their results, and FAIL UUID_CONFLICT outcomes): the cache's request notes refilled. */
  decidedRequestsSince(since: Date): Promise<RequestNote[]>;
  /** The stored results of those uuids that have one, in one read (any order; unknown uuids are left out). */
  getResults(uuids: readonly string[]): Promise<SeckillResult[]>;
  listOrders(userId: number): Promise<Order[]>;
  getOrder(orderNo: string): Promise<Order | null>;
  stats(seckillGoodId: number): Promise<GoodStats | null>;
  /**
   * In ONE transaction: record `payment` if given (idempotent on its key), move every listed order whose
   * status is in `transition.from` to `transition.to` (one conditional UPDATE, so racing transitions have
   * exactly one winner), and if `transition.returnsStock` add the changed orders back to their goods' stock.
   * With `onlyDueBy`, only orders whose pay deadline is at or before it change (a batch of pay timeouts).
   * Returns the orders this call changed (after the change); orders already elsewhere are left alone.
   */
  applyTransition(
    orderNos: readonly string[],
    transition: Transition,
    now: Date,
    opts?: { payment?: PaymentRecord; onlyDueBy?: Date },
  ): Promise<Order[]>;
  /**
   * An admin refunds a PAID order. In ONE transaction: PAID → REFUNDED (conditional: one winner among racing
   * refunds), closedAt stamped; if `returnsStock`, the unit back to its good's stock; the order's payment intent
   * opened with a refund due (no settle can close it until a REFUND payment is recorded, see
   * settlePaymentIntent); the audit entry. Returns the order after the change, or null when it was not PAID.
   */
  refundPaidOrder(
    orderNo: string,
    opts: { now: Date; returnsStock: boolean; intent: PaymentIntent; audit: AuditEntry },
  ): Promise<Order | null>;
  /** Record a payment outside a transition (a refund); idempotent on its key. */
  recordPayment(payment: PaymentRecord): Promise<void>;
  /**
   * Note, before a charge request leaves, that a charge of this order may land until `chargeBy` (the
   * request's expiry). One intent per order; every call is a new attempt: it opens a settled intent again,
   * raises the attempt number and moves `chargeBy` forward (never back). Returns the attempt number.
   */
  openPaymentIntent(intent: PaymentIntent, opened: { now: Date; chargeBy: Date }): Promise<number>;
  /**
   * The charge's outcome is recorded (paid, or refunded): the intent needs no more care. Idempotent. An intent
   * with a refund due stays open until the order's REFUND payment is recorded, whoever asks.
   */
  settlePaymentIntent(orderNo: string, now: Date): Promise<void>;
  /**
   * Close an intent under which no charge was taken, only if it is still open at `attempt` (compare-and-set):
   * a pay that opened it again since it was read keeps it. True when this call closed it.
   */
  abandonPaymentIntent(orderNo: string, attempt: number, now: Date): Promise<boolean>;
  /** Intents still open whose charges could land no later than `chargeBy`, earliest first. */
  openPaymentIntents(chargeBy: Date, limit: number): Promise<OpenPaymentIntent[]>;
  /** UNPAID orders whose pay deadline is at or before `now`, oldest deadline first. */
  overdueOrders(now: Date, limit: number): Promise<Order[]>;
  /**
   * Decide a queued request as FAIL unless it is decided already; returns the stored result either way
   * (the reconciler and the worker can race on one uuid; the first decision stands).
   */
  decideFail(message: Pick<OrderMessage, 'uuid' | 'userId' | 'seckillGoodId'>, reason: FailReason): Promise<SeckillResult>;
}

/**
 * Customer service's view of all orders, and the finance export: newest first by (createdAt, orderNo), read a
 * page at a time from indexes (never a scan of the orders table, never everything in memory).
 */
export interface OrderSearch {
  /** Orders matching every filter given, strictly after `after` in the newest-first order, at most `limit`. */
  searchOrders(filter: OrderFilter, page: { after?: OrderKey; limit: number }): Promise<{ order: AdminOrder; key: OrderKey }[]>;
}
