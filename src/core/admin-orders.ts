/**
 * Customer service: finding any order (by phone, order number, sale, status), and refunding a paid one.
 *
 * Refund (PAID → REFUNDED), in this order:
 * 1. One transaction: the order REFUNDED (conditional on PAID: of racing refunds one wins), its unit back to the
 *    database stock while the sale runs, the order's payment intent opened with a refund due, the audit entry.
 * 2. While the sale runs, the unit back in the cache and the buyer forgotten, exactly as a cancel does.
 * 3. The provider refunds the charge (keyed per order, so a late pay of the same order refunding it too gives
 *    back one refund), the REFUND payment is recorded, the intent settled (settleCharge).
 * A process that dies after 1 leaves the intent open with the refund due; the reconciler finds it and runs 3.
 * After the sale ended the unit stays sold: nobody could buy it, and stock that reappears after the end would
 * only confuse the sale's figures.
 */
import { returnUnitsToCache, type CloseOrdersDeps } from './close-orders.ts';
import { orderCursor, orderKeyOf } from './cursors.ts';
import { SeckillError } from './errors.ts';
import { closedError } from './orders.ts';
import { chargeKey } from './order-lifecycle.ts';
import { settleCharge, type SettleChargeDeps } from './payments.ts';
import { saleWindow } from './sales.ts';
import type { AdminActor, AdminOrder, Order, OrderFilter, OrderKey } from './model.ts';
import type { OrderSearch, OrderStore } from './ports/order-store.ts';
import type { PaymentProvider } from './ports/payment.ts';

export interface OrderPage {
  items: AdminOrder[];
  nextCursor: string | null;
}

/** One page of the orders matching `filter`, newest first; `nextCursor` is null on the last page. */
export async function searchOrders(deps: { search: OrderSearch }, filter: OrderFilter, page: { cursor?: string; limit: number }): Promise<OrderPage> {
  const after = page.cursor === undefined ? undefined : orderKeyOf(page.cursor);
  // One more than asked, to know whether another page follows without a second query.
  const rows = await deps.search.searchOrders(filter, { ...(after ? { after } : {}), limit: page.limit + 1 });
  const shown = rows.slice(0, page.limit);
  const last = shown.at(-1);
  return { items: shown.map((r) => r.order), nextCursor: rows.length > page.limit && last ? orderCursor(last.key) : null };
}

export interface RefundOrderDeps extends CloseOrdersDeps, SettleChargeDeps {
  store: CloseOrdersDeps['store'] & SettleChargeDeps['store'] & Pick<OrderStore, 'getOrder' | 'getGood' | 'refundPaidOrder'>;
  payments: Pick<PaymentProvider, 'findCharge' | 'refund'>;
}

export async function refundOrder(deps: RefundOrderDeps, req: { orderNo: string; by: AdminActor }): Promise<Order> {
  const order = await deps.store.getOrder(req.orderNo);
  if (!order) throw new SeckillError('NOT_FOUND', 'No such order.');
  if (order.status !== 'PAID') throw closedError(order, false);
  const charge = await deps.payments.findCharge(chargeKey(order.orderNo));
  // A PAID order's charge is recorded with it; without one there is nothing to give back.
  if (!charge) throw new SeckillError('INTERNAL', `The provider knows no charge of paid order ${order.orderNo}.`);
  const good = await deps.store.getGood(order.seckillGoodId);
  const now = deps.clock.now();
  const returnsStock = good !== null && saleWindow(good, now) !== 'ENDED';
  const refunded = await deps.store.refundPaidOrder(order.orderNo, {
    now,
    returnsStock,
    intent: { orderNo: order.orderNo, amount: order.seckillPrice, idempotencyKey: chargeKey(order.orderNo) },
    audit: {
      adminId: req.by.adminId,
      action: 'order.refund',
      target: order.orderNo,
      details: { amount: order.seckillPrice, userId: order.userId, seckillGoodId: order.seckillGoodId, unitBackToStock: returnsStock },
      address: req.by.address,
    },
  });
  // Another refund won; it gives the money back (or the reconciler does, if its process died).
  if (!refunded) throw closedError((await deps.store.getOrder(order.orderNo)) ?? order, false);
  if (returnsStock) await returnUnitsToCache(deps, [refunded], now);
  await settleCharge(deps, refunded, charge.paymentId);
  return refunded;
}

/**
 * Every order of one sale, newest first, a page at a time (the finance export). NOT_FOUND before anything is
 * read when the sale does not exist. Each page starts strictly after the last order of the one before, so an
 * order created while the export runs is either in it or not, never twice.
 */
export async function saleOrderPages(
  deps: { search: OrderSearch; store: Pick<OrderStore, 'getGood'> },
  seckillGoodId: number,
  pageSize = 500,
): Promise<AsyncIterable<AdminOrder[]>> {
  if (!(await deps.store.getGood(seckillGoodId))) throw new SeckillError('NOT_FOUND', `No seckill good ${seckillGoodId}.`);
  return (async function* pages() {
    let after: OrderKey | undefined;
    for (;;) {
      const rows = await deps.search.searchOrders({ seckillGoodId }, { ...(after ? { after } : {}), limit: pageSize });
      yield rows.map((r) => r.order);
      if (rows.length < pageSize) return;
      after = rows.at(-1)!.key;
    }
  })();
}
