/**
 * Paying an order, as its buyer (cancelling is in orders.ts).
 *
 * Pay: a payment intent is written first, then the charge (idempotent per order), then one transaction
 * records the charge and moves UNPAID → PAID, then the intent is settled. A process that dies between the
 * charge and the record leaves the intent open: the reconciler asks the provider and finishes it
 * (settleCharge below), so no charge is ever taken and recorded nowhere. Each pay is an attempt on the
 * intent with a charge expiry (`chargeTimeoutMs`) that the provider enforces; the reconciler only trusts
 * "no charge" once the latest attempt's expiry is past (reconcile.ts).
 * If the order closed in the meantime (the pay timeout won the race) the charge is refunded, the
 * refund recorded, the order marked REFUNDED, and the buyer told ORDER_CLOSED with refunded: true.
 * Paying twice charges once: the second call finds the order PAID. A pay that arrives after the pay deadline
 * is refused uncharged and closes the order at once, even when its timeout message is late or lost.
 */
import { closeOrders, type CloseOrdersDeps } from './close-orders.ts';
import { SeckillError } from './errors.ts';
import { closedError, ownOrder } from './orders.ts';
import { PAY, REFUND, chargeKey, isClosed, refundKey } from './order-lifecycle.ts';
import type { OrderStore } from './ports/order-store.ts';
import type { PaymentProvider } from './ports/payment.ts';
import type { Clock, Timers } from './ports/timers.ts';
import type { Order } from './model.ts';

export interface PayOrderDeps extends CloseOrdersDeps {
  store: CloseOrdersDeps['store'] & Pick<OrderStore, 'getOrder' | 'recordPayment' | 'openPaymentIntent' | 'settlePaymentIntent'>;
  payments: PaymentProvider;
  /** The charge's deadline: the provider takes nothing for a request older than this, and we stop waiting. */
  chargeTimeoutMs: number;
  timers: Timers;
}

export async function payOrder(deps: PayOrderDeps, req: { userId: number; orderNo: string }): Promise<Order> {
  const order = await ownOrder(deps, req.userId, req.orderNo);
  if (order.status === 'PAID') return order;
  if (isClosed(order.status)) throw closedError(order, false);
  // Past its pay deadline the order is over, whether or not its timeout has been handled yet: it is closed
  // now (unit back) and nothing is charged. A payment that started in time still counts if it ends late.
  const now = deps.clock.now();
  if (order.payDeadline.getTime() <= now.getTime()) {
    await closeOrders(deps, [order.orderNo], 'TIMEOUT', { onlyDueBy: now });
    const after = (await deps.store.getOrder(order.orderNo)) ?? order;
    if (after.status === 'PAID') return after;
    throw closedError(after, false);
  }

  const idempotencyKey = chargeKey(order.orderNo);
  // The intent carries this attempt's expiry before the request leaves: a reconciler sees the charge as
  // possibly in flight until then, whatever happened to earlier attempts.
  const opened = deps.clock.now();
  const notAfter = new Date(opened.getTime() + deps.chargeTimeoutMs);
  await deps.store.openPaymentIntent({ orderNo: order.orderNo, amount: order.seckillPrice, idempotencyKey }, { now: opened, chargeBy: notAfter });
  const charge = { idempotencyKey, orderNo: order.orderNo, userId: order.userId, amount: order.seckillPrice, notAfter };
  const { paymentId } = await withinDeadline(deps.timers, deps.payments.charge(charge), deps.chargeTimeoutMs);
  const settled = await settleCharge(deps, order, paymentId);
  if (settled.status === 'PAID') return settled.order;
  throw closedError(settled.order, true);
}

/**
 * The provider's answer, or UNAVAILABLE once the charge's deadline has passed. The charge may still have
 * been taken: its intent stays open, and a pay sent again (same key) or the reconciler finds it.
 */
async function withinDeadline<T>(timers: Timers, call: Promise<T>, ms: number): Promise<T> {
  let cancel: (() => void) | undefined;
  const late = new Promise<never>((_, reject) => {
    cancel = timers.after(ms, () => reject(new SeckillError('UNAVAILABLE', 'The payment provider did not answer in time; pay again to learn the outcome.')));
  });
  try {
    return await Promise.race([call, late]);
  } finally {
    cancel?.();
  }
}

export interface SettleChargeDeps {
  store: Pick<OrderStore, 'applyTransition' | 'getOrder' | 'recordPayment' | 'settlePaymentIntent'>;
  payments: Pick<PaymentProvider, 'refund'>;
  clock: Clock;
}

/**
 * A charge was taken for this order: record it and pay the order or, when the order closed in the meantime
 * (the pay timeout or a cancel won the race), refund it and mark the order REFUNDED. Then settle the intent.
 * Idempotent: every step is keyed by the order (charge and refund keys, conditional transitions).
 */
export async function settleCharge(
  deps: SettleChargeDeps,
  order: Pick<Order, 'orderNo' | 'seckillPrice'>,
  paymentId: string,
): Promise<{ status: 'PAID' | 'REFUNDED'; order: Order }> {
  const { orderNo, seckillPrice: amount } = order;
  const charge = { orderNo, kind: 'CHARGE' as const, amount, providerRef: paymentId, idempotencyKey: chargeKey(orderNo) };
  const [paid] = await deps.store.applyTransition([orderNo], PAY, deps.clock.now(), { payment: charge });
  let outcome: { status: 'PAID' | 'REFUNDED'; order: Order };
  if (paid) {
    outcome = { status: 'PAID', order: paid };
  } else {
    // Lost the race. A concurrent pay of the same order may have won with this same charge: then it is paid.
    const current = (await deps.store.getOrder(orderNo))!;
    if (current.status === 'PAID') {
      outcome = { status: 'PAID', order: current };
    } else {
      const { refundId } = await deps.payments.refund({ idempotencyKey: refundKey(orderNo), paymentId, amount });
      await deps.store.recordPayment({ orderNo, kind: 'REFUND', amount, providerRef: refundId, idempotencyKey: refundKey(orderNo) });
      const [refunded] = await deps.store.applyTransition([orderNo], REFUND, deps.clock.now());
      outcome = { status: 'REFUNDED', order: refunded ?? current };
    }
  }
  await deps.store.settlePaymentIntent(orderNo, deps.clock.now());
  return outcome;
}
