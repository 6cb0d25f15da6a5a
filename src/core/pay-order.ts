/**
 * Paying and cancelling an order, as its buyer.
 *
 * Pay: charge (idempotent per order) → one transaction records the charge and moves UNPAID → PAID.
 * If the order closed in the meantime (the pay timeout won the race) the charge is refunded, the
 * refund recorded, the order marked REFUNDED, and the buyer told ORDER_CLOSED with refunded: true.
 * Paying twice charges once: the second call finds the order PAID.
 */
import { closeOrders, type CloseOrdersDeps } from './close-orders.ts';
import { SeckillError } from './errors.ts';
import { PAY, REFUND, chargeKey, isClosed, refundKey } from './order-lifecycle.ts';
import type { Order, OrderStore, PaymentProvider } from './ports.ts';

export interface PayOrderDeps extends CloseOrdersDeps {
  store: CloseOrdersDeps['store'] & Pick<OrderStore, 'getOrder' | 'recordPayment'>;
  payments: PaymentProvider;
}

async function ownOrder(deps: Pick<PayOrderDeps, 'store'>, userId: number, orderNo: string): Promise<Order> {
  const order = await deps.store.getOrder(orderNo);
  // Another buyer's order answers like a missing one: nothing leaks.
  if (!order || order.userId !== userId) throw new SeckillError('NOT_FOUND', 'No such order.');
  return order;
}

const closedError = (order: Order, refunded: boolean) =>
  new SeckillError('ORDER_CLOSED', refunded ? 'The order closed before the payment landed; the payment was refunded.' : `The order is ${order.status.toLowerCase()}.`, {
    details: { status: order.status, refunded },
  });

export async function payOrder(deps: PayOrderDeps, req: { userId: number; orderNo: string }): Promise<Order> {
  const order = await ownOrder(deps, req.userId, req.orderNo);
  if (order.status === 'PAID') return order;
  if (isClosed(order.status)) throw closedError(order, false);

  const { paymentId } = await deps.payments.charge({
    idempotencyKey: chargeKey(order.orderNo),
    orderNo: order.orderNo,
    userId: order.userId,
    amount: order.seckillPrice,
  });
  const charge = { orderNo: order.orderNo, kind: 'CHARGE' as const, amount: order.seckillPrice, providerRef: paymentId, idempotencyKey: chargeKey(order.orderNo) };
  const [paid] = await deps.store.applyTransition([order.orderNo], PAY, deps.clock.now(), { payment: charge });
  if (paid) return paid;

  // Lost the race. A concurrent pay of the same order may have won with this same charge: then it is paid.
  const now = (await deps.store.getOrder(order.orderNo))!;
  if (now.status === 'PAID') return now;
  const { refundId } = await deps.payments.refund({ idempotencyKey: refundKey(order.orderNo), paymentId, amount: order.seckillPrice });
  await deps.store.recordPayment({ orderNo: order.orderNo, kind: 'REFUND', amount: order.seckillPrice, providerRef: refundId, idempotencyKey: refundKey(order.orderNo) });
  const [refunded] = await deps.store.applyTransition([order.orderNo], REFUND, deps.clock.now());
  throw closedError(refunded ?? now, true);
}

export async function cancelOrder(deps: PayOrderDeps, req: { userId: number; orderNo: string }): Promise<Order> {
  const order = await ownOrder(deps, req.userId, req.orderNo);
  if (order.status !== 'UNPAID') throw closedError(order, false);
  const [cancelled] = await closeOrders(deps, [order.orderNo], 'CANCELLED');
  if (cancelled) return cancelled;
  // Paid or timed out between the read and the update.
  throw closedError((await deps.store.getOrder(order.orderNo))!, false);
}
