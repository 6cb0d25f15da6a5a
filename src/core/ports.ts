/**
 * Ports: what the sale needs from the outside world, phrased in sale terms.
 * Each port has an embedded (in-process) adapter and a real one, and one contract suite
 * that both must pass (see src/adapters/<port>/<port>.contract.ts).
 */
import type { AdminOrder, Alert, AuditEntry, AuditRecord, FailReason, GoodStats, NewSeckillGood, OpenPaymentIntent, Order, OrderMessage, OrderFilter, OrderKey, PaymentIntent, PaymentRecord, Role, SaleEdit, SeckillGood, SeckillResult, Transition, User } from './model.ts';

// ---------------------------------------------------------------------------------------------
// StockCache: the admission filter in front of the database.
// ---------------------------------------------------------------------------------------------

export type ReserveOutcome =
  /** One unit is now held for this buyer under this uuid. */
  | { kind: 'RESERVED'; stockLeft: number }
  /** This uuid already holds a unit for this buyer (a repeat): nothing more was taken. */
  | { kind: 'ALREADY_RESERVED' }
  /** The buyer already holds a unit of this good (another uuid, or a settled order). */
  | { kind: 'DUPLICATE' }
  /** The uuid is held by another buyer. */
  | { kind: 'UUID_TAKEN' }
  | { kind: 'SOLD_OUT' }
  /** The good's stock is not in the cache (never loaded, or the cache was flushed). */
  | { kind: 'NOT_LOADED' };

export interface Reservation {
  uuid: string;
  userId: number;
  /** Epoch ms of the reservation. */
  at: number;
}

/** A request that was accepted (or decided): enough to tell an unknown uuid from one worth a database read. */
export interface RequestNote {
  uuid: string;
  seckillGoodId: number;
  userId: number;
}

/** The state of one good in the cache. */
export interface CachedGood {
  /** Pre-stock: what buyers can still hope for. null when the good is not loaded. */
  preStock: number | null;
  /** Reservations not yet settled (published or in the worker). */
  inFlight: number;
}

export interface StockCache {
  /**
   * Atomically: if this uuid already holds a unit → ALREADY_RESERVED, its reservation's time set to `now`
   * (the repeat publishes it again, so its grace period starts over), or UUID_TAKEN for another buyer;
   * if the good is not loaded → NOT_LOADED; if the buyer already holds a unit → DUPLICATE;
   * if no stock → SOLD_OUT; else take one unit, remember the buyer, record the reservation by uuid.
   */
  reserve(seckillGoodId: number, userId: number, uuid: string, now: number): Promise<ReserveOutcome>;
  /**
   * Give back the units held by these uuids of one good (one atomic step): per uuid holding one, stock + 1,
   * forget its buyer, drop the reservation. Idempotent: a uuid with no reservation (or listed twice)
   * changes nothing. Returns how many units came back.
   */
  release(seckillGoodId: number, uuids: readonly string[]): Promise<number>;
  /**
   * After a `reserve(seckillGoodId, userId, uuid, now)` that failed at the caller (it may have run, or may
   * still run): give back the unit it took, if the reservation is still exactly as that call wrote it. Ordered
   * after that reserve (same connection), so a reserve that runs late is withdrawn too. 1 if a unit came back.
   */
  withdraw(seckillGoodId: number, userId: number, uuid: string, now: number): Promise<number>;
  /**
   * These reservations became orders: drop their reservation records, keep the units taken and the buyers
   * remembered. Idempotent.
   */
  settle(seckillGoodId: number, uuids: readonly string[]): Promise<void>;
  /**
   * Closed orders of one good give their units back (one atomic step): stock + one per listed buyer, and
   * forget those buyers so they may buy again. Not keyed by a reservation: callers make it idempotent
   * (it runs once per set of orders a close changed). A good not loaded stays so; returns units returned.
   */
  restock(seckillGoodId: number, userIds: readonly number[]): Promise<number>;
  /**
   * An admin put `units` more on sale (the database already counts them): pre-stock + units, in the same
   * atomic step as `restock`. A good not loaded stays so (its next load reads the database); returns false then.
   */
  addUnits(seckillGoodId: number, units: number): Promise<boolean>;
  /**
   * Load a good from the database's view. With `onlyIfMissing`, does nothing if the good is loaded
   * (safe while requests are in flight); without it, overwrites stock and buyers and keeps reservations
   * (callers do this only when nothing is in flight). Returns true if it wrote.
   */
  load(
    seckillGoodId: number,
    stock: number,
    buyers: readonly number[],
    opts: {
      onlyIfMissing: boolean;
      /**
       * Compare-and-set for the reconciler: write only if no reservation is in flight and pre-stock still
       * equals this value (null: not loaded). Any reserve, release or restock since the caller read the
       * cache changes pre-stock or leaves a reservation, and the write is refused.
       */
      ifUnchangedFrom?: number | null;
    },
  ): Promise<boolean>;
  /** Pre-stock and in-flight count of one good. */
  read(seckillGoodId: number): Promise<CachedGood>;
  /**
   * Pre-stock of many goods at once (null = not loaded), for display only (the goods list and detail): it may
   * come from a replica a moment behind. Decisions use `reserve` and `read`, which always see the latest write.
   */
  readStocks(seckillGoodIds: readonly number[]): Promise<Map<number, number | null>>;
  /** Reservations of a good not settled or released, oldest first. */
  reservations(seckillGoodId: number): Promise<Reservation[]>;
  /** The reservation one uuid holds on a good, or null (one lookup; used to answer polling). */
  reservationOf(seckillGoodId: number, uuid: string): Promise<Reservation | null>;
  /**
   * Note requests as accepted (uuid, good, buyer), each kept at least `keepMs` from now (a note made again is
   * kept longer; every caller passes the same `keepMs`, and `requestsOf` is asked with it too). The result poll asks `requestsOf` first, so a uuid never accepted costs it one cache call and
   * no database read. Idempotent.
   */
  noteRequests(notes: readonly RequestNote[], keepMs: number): Promise<void>;
  /**
   * The notes of one uuid (one call): [] when it was never noted (or its notes expired), null when the
   * notes are not known to be complete (a cache that lost them and was not refilled since): ask the database.
   */
  requestsOf(uuid: string, keepMs: number): Promise<RequestNote[] | null>;
  /** Whether the notes are known complete; `markRequestNotesComplete` after refilling them from the database. */
  requestNotesComplete(): Promise<boolean>;
  markRequestNotesComplete(): Promise<void>;
  /** Drop everything of one good (an admin deletes a sale; tests). */
  forget(seckillGoodId: number): Promise<void>;
  /** Resolves when the cache answers (health checks, start-up); rejects UNAVAILABLE otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// OrderBus: messaging between api, worker and ws processes.
// ---------------------------------------------------------------------------------------------

export interface Delivery {
  /** 1 on the first delivery, higher when redelivered after a failure. */
  attempt: number;
  /** The broker says this message may have been delivered before. */
  redelivered: boolean;
}

/** A handler that resolves has processed the message (it is acked); one that rejects asks for a retry. */
export type Handler<T> = (message: T, delivery: Delivery) => Promise<void>;

export interface Subscription {
  /** Stop taking new messages and wait for the ones in hand. */
  close(): Promise<void>;
}

/**
 * Messages waiting on the bus's durable queues, broker-wide (not only this process's): ready to be taken,
 * not counting those in a consumer's hand. A message is a batch (of orders, or of results for pay timers).
 */
export interface QueueDepths {
  /** Order batches not yet taken by a worker: a backlog grows here when the workers fall behind. */
  pendingOrders: number;
  /** Order batches that failed every attempt (replay them once their cause is fixed). */
  deadOrders: number;
  /** SUCCESS batches whose pay timeout has not passed yet. */
  payTimers: number;
  /** SUCCESS batches whose pay timeout has passed, not yet taken by a worker. */
  dueTimeouts: number;
  /** Timeout batches that failed every attempt. */
  deadTimeouts: number;
  /** Problems waiting for an operator. */
  alerts: number;
}

/**
 * Messaging between api, worker and ws processes. Every hop carries batches: one message holds the order
 * requests an api process gathered in a few milliseconds, the results a worker decided in one transaction,
 * the goods that have stock again. A batch is never split or merged by the bus; consumers stay idempotent
 * per uuid and order number, so a batch delivered twice changes nothing the second time.
 */
export interface OrderBus {
  /**
   * Persist a batch of order requests as ONE message on the pending queue; resolves once the broker confirmed
   * it. With `sendBy` (epoch ms), a batch that cannot be handed to the broker by then (a broker that stopped
   * reading, a process that was frozen) is not sent at all: rejects UNAVAILABLE, and nothing of it arrives.
   */
  publishOrders(messages: readonly OrderMessage[], opts?: { sendBy?: number }): Promise<void>;
  /**
   * Take order batches (competing consumers: each message goes to one of them). At-least-once:
   * a message may be delivered more than once. A rejected handler causes a redelivery; after
   * `maxAttempts` the message goes to the dead-letter queue instead. A handler that rejects with an
   * infrastructure failure (SeckillError UNAVAILABLE) is retried after a growing wait and that does not count
   * as an attempt: a database outage delays orders, it never dead-letters them.
   */
  consumeOrders(handler: Handler<OrderMessage[]>, opts?: { prefetch?: number }): Promise<Subscription>;
  /**
   * Publish decided results (confirmed): one message for the SUCCESS results and one for the FAIL results.
   * The SUCCESS message also starts the pay timer of its orders: after the pay timeout it is delivered,
   * as one batch, to `consumeTimeouts` (a TTL queue dead-lettering into the timeout queue).
   */
  publishResults(results: readonly SeckillResult[]): Promise<void>;
  /** Take due pay timeouts, one SUCCESS batch per delivery (competing consumers, at-least-once, same retry rules as orders). */
  consumeTimeouts(handler: Handler<SeckillResult[]>, opts?: { prefetch?: number }): Promise<Subscription>;
  /** Every subscriber (in every process) receives every result batch published after it subscribed. */
  subscribeResults(handler: (results: SeckillResult[]) => void): Promise<Subscription>;
  /** Tell every process, in one message, that these goods have stock again (clear sold-out signs). */
  broadcastStockAgain(seckillGoodIds: readonly number[]): Promise<void>;
  subscribeStockAgain(handler: (seckillGoodIds: number[]) => void): Promise<Subscription>;
  /**
   * Tell every process, on the same fanout as the stock-again signs, the new state of sales an admin changed
   * (edited, paused, resumed), whole, so each process applies it without a database read.
   */
  broadcastSalesChanged(goods: readonly SeckillGood[]): Promise<void>;
  subscribeSalesChanged(handler: (goods: SeckillGood[]) => void): Promise<Subscription>;
  /** Put a problem an operator must look at on the alert queue. */
  raiseAlert(alert: Alert): Promise<void>;
  /** Read (and remove) alerts; operators and tests. */
  takeAlerts(max: number): Promise<Alert[]>;
  /** Read (and remove) up to `max` dead-lettered order batches, as their order requests; operators and tests. */
  takeDeadOrders(max: number): Promise<OrderMessage[]>;
  /**
   * Put up to `max` dead-lettered order batches back on the pending queue as new messages (attempt 1),
   * each removed from the dead-letter queue only once its copy is confirmed. Returns the orders replayed.
   */
  replayDeadOrders(max: number): Promise<number>;
  /** How many messages wait on each durable queue (metrics); rejects UNAVAILABLE when the broker cannot say. */
  queueDepths(): Promise<QueueDepths>;
  /**
   * The latest moment (epoch ms) by which every order message that left a publisher before it has been
   * acknowledged (its results committed) or dead-lettered: the pending queue was seen holding no message at
   * all, neither waiting nor in a worker's hands, after that moment. null while that is not known (never seen
   * empty yet). A moment once reported stays true; a broker that cannot be asked leaves it where it was.
   */
  pendingDrainedAt(): Promise<number | null>;
  /** Resolves when the bus is connected and listening (health checks); rejects UNAVAILABLE otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Stores: the database is the truth for stock and orders.
// ---------------------------------------------------------------------------------------------

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

/**
 * What admins did, append-only: nothing can change or remove an entry once written (the database refuses).
 * An action that writes to the database records its entry inside that write's transaction instead (the store
 * methods that take `audit`); `record` is for actions that are not a database write (a queue replay).
 */
export interface AuditLog {
  /** Write one entry in a transaction of its own. */
  record(entry: AuditEntry): Promise<AuditRecord>;
  /** Entries newest first, those older than the entry `before` (an id from a previous page), at most `limit`. */
  list(page: { before?: number; limit: number }): Promise<AuditRecord[]>;
}

export interface PaymentProvider {
  /**
   * Take money. The same idempotency key charges once and answers the same payment. A request that reaches
   * the provider after `notAfter` takes nothing and fails (real providers take such an expiry on a payment
   * request): so once `notAfter` has passed, whether a key was charged can be asked and the answer stays true.
   */
  charge(req: { idempotencyKey: string; orderNo: string; userId: number; amount: number; notAfter: Date }): Promise<{ paymentId: string }>;
  /** The charge taken under this idempotency key, if any (a reconciler asks after a crash). */
  findCharge(idempotencyKey: string): Promise<{ paymentId: string; amount: number } | null>;
  /** Give a charge back. The same idempotency key refunds once. */
  refund(req: { idempotencyKey: string; paymentId: string; amount: number }): Promise<{ refundId: string }>;
}

export interface UserStore {
  /** Returns null when the phone is taken. */
  create(user: { phone: string; nickname: string; passwordHash: string; role: Role }): Promise<User | null>;
  /** Create or update (password, role) by phone. */
  upsert(user: { phone: string; nickname: string; passwordHash: string; role: Role }): Promise<User>;
  findByPhone(phone: string): Promise<(User & { passwordHash: string }) | null>;
  findById(id: number): Promise<User | null>;
  /** Role and token version of each id that exists (one read for many ids). */
  tokenVersionsOf(ids: readonly number[]): Promise<{ id: number; role: Role; tokenVersion: number }[]>;
  /** Raise the user's token version (logout of every session); the new version, null when no such user. */
  bumpTokenVersion(id: number): Promise<number | null>;
  /** Replace the password hash. `bump`: also raise the token version (a password change, not a rehash). */
  setPasswordHash(id: number, passwordHash: string, opts: { bump: boolean }): Promise<void>;
  /** Keep a new refresh token (by its hash) of `family`. */
  addRefreshToken(token: { tokenHash: string; userId: number; family: string; tokenVersion: number; expiresAt: Date }): Promise<void>;
  /**
   * Use a refresh token once, atomically: a live one (unused, unrevoked, unexpired at `now`) is marked used and
   * `next` joins its family: its user and the token version it was issued at. A used one presented again revokes its whole family: 'reused'.
   * Unknown, revoked or expired: null. Of two concurrent uses of one token exactly one gets the user.
   */
  rotateRefreshToken(tokenHash: string, next: { tokenHash: string; expiresAt: Date }, now: Date): Promise<{ userId: number; tokenVersion: number } | 'reused' | null>;
  /** Revoke every refresh token of the user (logout, password change). */
  revokeRefreshTokens(userId: number, now: Date): Promise<void>;
  /**
   * A rehash: replace the hash only if the stored one is still `expectedOldHash` (compare-and-set), token
   * version kept. A password change that landed since the hash was read stands. True when replaced.
   */
  replaceHashIf(id: number, expectedOldHash: string, newHash: string): Promise<boolean>;
}

/**
 * A shared count of events per key in fixed windows (one limit: "5 logins per phone per minute"). Every api
 * process that uses the same limit name sees the same counts (Redis in the services mode; process memory in
 * the embedded mode, which runs one api process). A call that cannot reach the store rejects; it never waits
 * longer than the store's command deadline.
 */
export interface Limiter {
  /** Count one event for `key`: `wait` 0 when within the limit, else whole seconds until the key may try again. */
  take(key: string): Promise<{ wait: number; count: number }>;
  /** Seconds `key` is still refused (0 = free), counting nothing. */
  waitOf(key: string): Promise<number>;
  /** Events counted for `key` in its current window and the seconds until that window ends (0 and 0: none), counting nothing. */
  countOf(key: string): Promise<{ count: number; seconds: number }>;
  /** Refuse `key` for `seconds`, whatever its count (the count restarts above the limit). */
  block(key: string, seconds: number): Promise<void>;
  /** Forget `key` (a success ends a run of failures). */
  reset(key: string): Promise<void>;
}

/** `points` events per `durationSeconds` window (whole seconds) under `name`, which isolates the limit's keys. */
export interface LimiterSpec {
  name: string;
  points: number;
  durationSeconds: number;
}

export type MakeLimiter = (spec: LimiterSpec) => Limiter;

/**
 * Keys taken once (a buy path is used by one request): the first holder of a key keeps it until it expires,
 * across api processes (Redis in the services mode, process memory in the embedded one). Atomic: of many
 * claims of one key at once, exactly one holder wins and every caller is told which. A call that cannot reach
 * the store rejects within the store's command deadline.
 */
export interface OnceClaims {
  /** Claim `key` for `holder` until `expiresAt`; resolves to the key's holder: `holder` itself when it was free or already held by it. */
  claim(key: string, holder: string, expiresAt: Date): Promise<string>;
}

export interface Clock {
  now(): Date;
}

/** Work for later, so that core waits without the platform's timers (and tests can drive them by hand). */
export interface Timers {
  /**
   * Run `fn` once after `ms` milliseconds; `0` runs it once the I/O of this event-loop turn is done.
   * `background`: the wait alone does not keep the process alive. Returns a cancel.
   */
  after(ms: number, fn: () => void, opts?: { background?: boolean }): () => void;
}

// ---------------------------------------------------------------------------------------------
// Phone verification: one-time codes and the text messages that carry them.
// ---------------------------------------------------------------------------------------------

/** What a one-time code is for: opening an account, or setting a new password. */
export type CodePurpose = 'register' | 'reset';

/**
 * One-time codes, stored by (phone, purpose) as a keyed hash, never as the code itself. At most one code is
 * live per phone and purpose: a new one replaces the old.
 */
export interface PhoneCodeStore {
  /** Keep this code's hash until `expiresAt`, replacing any code of this phone and purpose (its attempts start at 0). */
  put(code: { phone: string; purpose: CodePurpose; codeHash: string; expiresAt: Date }): Promise<void>;
  /**
   * Count one verify attempt against the live code of this phone and purpose, atomically, and answer its hash
   * and id; null when there is none (never issued, expired, used, or `maxAttempts` already counted). Two
   * racing attempts count two.
   */
  takeAttempt(phone: string, purpose: CodePurpose, now: Date, maxAttempts: number): Promise<{ id: number; codeHash: string } | null>;
  /** Use the code up: true for the one caller that removed it, false if it was already gone (single use under races). */
  consume(id: number): Promise<boolean>;
}

/** A text message as it left the shop. */
export interface SentSms {
  phone: string;
  text: string;
  sentAt: Date;
}

/** Sends text messages to phones (an SMS gateway). Rejects UNAVAILABLE when the message could not be handed over in time. */
export interface SmsSender {
  send(message: { phone: string; text: string }): Promise<void>;
}

/** The development sender keeps what it sends, so a person (or a test) can read the code. */
export interface SmsOutbox extends SmsSender {
  /** The newest messages to this phone first, at most `limit`. */
  sentTo(phone: string, limit: number): Promise<SentSms[]>;
}
