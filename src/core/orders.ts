/**
 * A buyer's orders: each buyer sees and changes only their own (another buyer's order answers like a
 * missing one, so nothing leaks), lists them newest first, and may cancel one still UNPAID.
 */
import { closeOrders, type CloseOrdersDeps } from './close-orders.ts';
import { SeckillError } from './errors.ts';
import type { Order } from './model.ts';
import type { OrderStore } from './ports/order-store.ts';

export interface OrdersDeps {
  store: Pick<OrderStore, 'getOrder' | 'listOrders'>;
}

/** This buyer's order; NOT_FOUND when there is none or it is another buyer's. */
export async function ownOrder(deps: { store: Pick<OrderStore, 'getOrder'> }, userId: number, orderNo: string): Promise<Order> {
  const order = await deps.store.getOrder(orderNo);
  if (!order || order.userId !== userId) throw new SeckillError('NOT_FOUND', 'No such order.');
  return order;
}

/** This buyer's orders, newest first. */
export function myOrders(deps: OrdersDeps, userId: number): Promise<Order[]> {
  return deps.store.listOrders(userId);
}

/** 409 ORDER_CLOSED for an order that can no longer be paid or cancelled; `refunded`: a charge was taken back. */
export const closedError = (order: Order, refunded: boolean) =>
  new SeckillError('ORDER_CLOSED', refunded ? 'The order closed before the payment landed; the payment was refunded.' : `The order is ${order.status.toLowerCase()}.`, {
    details: { status: order.status, refunded },
  });

export interface CancelOrderDeps extends CloseOrdersDeps {
  store: CloseOrdersDeps['store'] & Pick<OrderStore, 'getOrder'>;
}

/** The buyer cancels an UNPAID order: CANCELLED, its unit back to stock. A paid or closed one → ORDER_CLOSED. */
export async function cancelOrder(deps: CancelOrderDeps, req: { userId: number; orderNo: string }): Promise<Order> {
  const order = await ownOrder(deps, req.userId, req.orderNo);
  if (order.status !== 'UNPAID') throw closedError(order, false);
  const [cancelled] = await closeOrders(deps, [order.orderNo], 'CANCELLED');
  if (cancelled) return cancelled;
  // Paid or timed out between the read and the update.
  throw closedError((await deps.store.getOrder(order.orderNo))!, false);
}
