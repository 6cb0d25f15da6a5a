/**
 * The reconciler: repairs what lost messages and crashed processes leave behind. Run at start and every
 * few seconds by workers; every step is conditional, so several reconcilers at once are safe.
 *
 * 1. Overdue UNPAID orders whose timeout message was lost are closed as TIMEOUT (unit back).
 * 2. Reservations older than the grace period are settled by what the database decided (kept taken only
 *    for the buyer's own order, while it is live; released otherwise, as the worker does). One the database
 *    never heard of (the api died between reserve and publish) is decided FAIL (EXPIRED) in the database
 *    first — so a late message can no longer make it an order — then released; but only once it is known
 *    that no message for it can still arrive, never because time passed: an api publishes a reservation
 *    within the grace period of making it or not at all (order-batcher.ts), and the broker must have seen
 *    the pending queue hold nothing, waiting or in a worker's hands, after that (OrderBus.pendingDrainedAt).
 *    A message that waits through an outage, in a frozen worker's hands or behind a partition keeps the
 *    queue from draining, so its buyer is never told FAIL for a unit a worker is about to sell them.
 * 0. Payment intents left open (the process died between a charge and its record) are finished from what the
 *    provider says, once their latest charge request has expired by a grace period, so none of it can still
 *    land: no charge → the intent is abandoned, if no pay has opened it again since it was read (a
 *    compare-and-set on its attempt); a charge → recorded, and the order paid, or refunded when it closed
 *    meanwhile (settleCharge). An intent whose charge is in flight is never abandoned.
 * 4. (Run first.) A cache that lost its request notes gets them back from the database (request-notes.ts);
 *    undecided reservations and EXPIRED decisions are noted too, so the result poll keeps finding them.
 * 3. A good with nothing in flight gets its cache pre-stock (and buyers) reset to the database's, if they
 *    differ. The reset is a compare-and-set in the cache: refused if anything touched the good since it
 *    was read, because the database read could then be older than the cache.
 */
import { closeOrders, type CloseOrdersDeps } from './close-orders.ts';
import { settleCharge } from './payments.ts';
import { refillRequestNotes } from './request-notes.ts';
import type { OrderBus } from './ports/order-bus.ts';
import type { OrderStore } from './ports/order-store.ts';
import type { PaymentProvider } from './ports/payment.ts';
import type { RequestNote, StockCache } from './ports/stock-cache.ts';
import type { Alert, SeckillResult } from './model.ts';

export interface ReconcileDeps extends CloseOrdersDeps {
  store: CloseOrdersDeps['store'] &
    Pick<OrderStore, 'overdueOrders' | 'listGoods' | 'getResult' | 'decideFail' | 'liveBuyers' | 'liveOrderNos' | 'getGood'> &
    Pick<OrderStore, 'getOrder' | 'recordPayment' | 'openPaymentIntents' | 'settlePaymentIntent' | 'abandonPaymentIntent' | 'decidedRequestsSince'>;
  payments: Pick<PaymentProvider, 'findCharge' | 'refund'>;
  cache: CloseOrdersDeps['cache'] &
    Pick<StockCache, 'reservations' | 'reservationOf' | 'settle' | 'release' | 'read' | 'load' | 'noteRequests' | 'requestNotesComplete' | 'markRequestNotesComplete'>;
  bus: CloseOrdersDeps['bus'] & Pick<OrderBus, 'publishResults' | 'pendingDrainedAt'>;
  /** How long after making a reservation an api may still publish it; younger reservations are left alone. */
  graceMs: number;
  /** Overdue orders closed per transaction. */
  pageSize?: number;
  /** How long the cache keeps request notes (results.ts); unset: notes are neither refilled nor refreshed. */
  noteKeepMs?: number;
}

export interface ReconcileReport {
  /** Open payment intents finished: charges recorded (paid or refunded), and intents with no charge closed. */
  paymentsSettled: number;
  paymentsAbandoned: number;
  timedOut: number;
  reservationsSettled: number;
  reservationsReleased: number;
  reservationsExpired: number;
  /** Reservations with no result left alone because a message for them may still arrive. */
  expiriesDeferred: number;
  stockResynced: number;
  /** Requests noted again in a cache that had lost its request notes. */
  notesRefilled: number;
  alerts: number;
  ms: number;
}

export async function reconcile(deps: ReconcileDeps): Promise<ReconcileReport> {
  const started = deps.clock.now().getTime();
  const report: ReconcileReport = { paymentsSettled: 0, paymentsAbandoned: 0, timedOut: 0, reservationsSettled: 0, reservationsReleased: 0, reservationsExpired: 0, expiriesDeferred: 0, stockResynced: 0, notesRefilled: 0, alerts: 0, ms: 0 };
  const alert = async (a: Omit<Alert, 'at'>) => {
    report.alerts++;
    await deps.bus.raiseAlert({ ...a, at: deps.clock.now().toISOString() }).catch(() => undefined);
  };

  // 0. Payment intents left open.
  // Only intents whose latest charge expired a grace period ago (clocks of processes and provider differ):
  // no charge of theirs can land any more, so the provider's "none" stays true.
  for (const intent of await deps.store.openPaymentIntents(new Date(deps.clock.now().getTime() - deps.graceMs), 200)) {
    try {
      const charge = await deps.payments.findCharge(intent.idempotencyKey);
      if (!charge) {
        // A pay that opened the intent again after it was read has moved its attempt: the intent is its.
        if (await deps.store.abandonPaymentIntent(intent.orderNo, intent.attempt, deps.clock.now())) report.paymentsAbandoned++;
        continue;
      }
      await settleCharge(deps, { orderNo: intent.orderNo, seckillPrice: intent.amount }, charge.paymentId);
      report.paymentsSettled++;
    } catch (err) {
      await alert({ kind: 'PAYMENT_REPAIR_FAILED', message: String(err), orderNo: intent.orderNo });
    }
  }

  // 4 (first, so the result poll trusts the cache again soon). Request notes lost with the cache: refilled.
  const keepMs = deps.noteKeepMs;
  if (keepMs !== undefined) {
    try {
      report.notesRefilled = (await refillRequestNotes({ ...deps, keepMs })) ?? 0;
    } catch (err) {
      await alert({ kind: 'NOTES_REFILL_FAILED', message: String(err) });
    }
  }

  // 1. Overdue orders, a page per transaction, until none is left.
  const pageSize = deps.pageSize ?? 500;
  for (;;) {
    const overdue = await deps.store.overdueOrders(deps.clock.now(), pageSize);
    if (overdue.length === 0) break;
    const closed = await closeOrders(deps, overdue.map((o) => o.orderNo), 'TIMEOUT');
    report.timedOut += closed.length;
    // Every listed order is closed now, by us or by a racing handler; a short page was the last one.
    if (overdue.length < pageSize) break;
  }

  // Asked before any result is read: a message acknowledged before the queue drained has its result committed.
  const drainedAt = await deps.bus.pendingDrainedAt().catch(() => null);
  for (const good of await deps.store.listGoods()) {
    // 2. Stale reservations: decided one by one, then fixed in the cache and announced once per good.
    const cutoff = deps.clock.now().getTime() - deps.graceMs;
    const settle: string[] = [];
    const release: string[] = [];
    /** Reservations whose own request became an order: the unit stays taken only while that order is live. */
    const ordered = new Map<string, string>();
    const expired: SeckillResult[] = [];
    /** Undecided for long (an outage): their notes are kept from now on, so the poll still finds them. */
    const deferred: RequestNote[] = [];
    // A cache that cannot list them is alerted and the run goes on: one good's trouble (a cache shard down)
    // must not stop the repairs of the others.
    const held = await deps.cache.reservations(good.id).catch(async (err: unknown) => {
      await alert({ kind: 'RESERVATION_REPAIR_FAILED', message: String(err), seckillGoodId: good.id });
      return [];
    });
    for (const r of held) {
      if (r.at > cutoff) break; // oldest first
      try {
        let result: SeckillResult | null = await deps.store.getResult(r.uuid);
        if (!result) {
          // Its message, if one was ever sent, left the api by r.at + grace; the queue held nothing since.
          if (drainedAt === null || drainedAt < r.at + deps.graceMs) {
            report.expiriesDeferred++;
            deferred.push({ uuid: r.uuid, seckillGoodId: good.id, userId: r.userId });
            continue;
          }
          // A repeat of the request since the list was read has published it again (and moved its time).
          const now = await deps.cache.reservationOf(good.id, r.uuid);
          if (now?.at !== r.at) continue;
          result = await deps.store.decideFail({ uuid: r.uuid, userId: r.userId, seckillGoodId: good.id }, 'EXPIRED');
          if (result.reason === 'EXPIRED') {
            report.reservationsExpired++;
            expired.push(result);
          }
        }
        // The worker's rule: a uuid reused by another buyer, or sent again after its order closed, holds a
        // unit that no order owns, and that unit goes back.
        if (result.status === 'SUCCESS' && result.seckillGoodId === good.id && result.userId === r.userId) ordered.set(r.uuid, result.orderNo!);
        else release.push(r.uuid);
      } catch (err) {
        await alert({ kind: 'RESERVATION_REPAIR_FAILED', message: String(err), seckillGoodId: good.id, uuid: r.uuid });
      }
    }
    const noting = [...deferred, ...expired.map(({ uuid, seckillGoodId, userId }) => ({ uuid, seckillGoodId, userId }))];
    if (keepMs !== undefined && noting.length > 0) {
      // Before the EXPIRED results are announced and their reservations released: a poll finds one or the other.
      await deps.cache.noteRequests(noting, keepMs).catch((err: unknown) => alert({ kind: 'RESERVATION_REPAIR_FAILED', message: String(err), seckillGoodId: good.id }));
    }
    if (ordered.size + release.length + expired.length > 0) {
      try {
        const live = ordered.size > 0 ? await deps.store.liveOrderNos([...ordered.values()]) : new Set<string>();
        for (const [uuid, orderNo] of ordered) (live.has(orderNo) ? settle : release).push(uuid);
        await deps.bus.publishResults(expired);
        await deps.cache.settle(good.id, settle);
        report.reservationsSettled += settle.length;
        const released = await deps.cache.release(good.id, release);
        report.reservationsReleased += released;
        if (released > 0) await deps.bus.broadcastStockAgain([good.id]);
      } catch (err) {
        await alert({ kind: 'RESERVATION_REPAIR_FAILED', message: String(err), seckillGoodId: good.id, details: { uuids: [...ordered.keys(), ...release].slice(0, 20) } });
      }
    }

    // 3. Pre-stock against the database, for a good at rest.
    try {
      const cached = await deps.cache.read(good.id);
      if (cached.inFlight > 0) continue;
      const fresh = await deps.store.getGood(good.id);
      if (!fresh || cached.preStock === fresh.stock) continue;
      const buyers = await deps.store.liveBuyers(good.id);
      if (await deps.cache.load(good.id, fresh.stock, buyers, { onlyIfMissing: false, ifUnchangedFrom: cached.preStock })) {
        report.stockResynced++;
        if (cached.preStock !== null && fresh.stock > cached.preStock) await deps.bus.broadcastStockAgain([good.id]);
      }
    } catch (err) {
      await alert({ kind: 'STOCK_RESYNC_FAILED', message: String(err), seckillGoodId: good.id });
    }
  }
  report.ms = deps.clock.now().getTime() - started;
  return report;
}
