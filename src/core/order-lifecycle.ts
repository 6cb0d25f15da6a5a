/**
 * The order state machine. Every change is one conditional UPDATE built from this table
 * (`… WHERE status IN from`), so two changes racing on one order have exactly one winner:
 *
 *   UNPAID ──pay──────▶ PAID
 *   UNPAID ──cancel───▶ CANCELLED ─┐
 *   UNPAID ──timeout──▶ TIMEOUT ───┴─refund (a payment that lost the race)──▶ REFUNDED
 *   PAID ──admin-refund (customer service gives the money back)──▶ REFUNDED
 *
 * Closing (cancel, timeout) gives the unit back to stock in the same transaction.
 */
import type { OrderStatus, Transition } from './model.ts';

export const PAY: Transition = { name: 'pay', from: ['UNPAID'], to: 'PAID', returnsStock: false, stamps: 'paidAt' };
export const CANCEL: Transition = { name: 'cancel', from: ['UNPAID'], to: 'CANCELLED', returnsStock: true, stamps: 'closedAt' };
export const TIMEOUT: Transition = { name: 'timeout', from: ['UNPAID'], to: 'TIMEOUT', returnsStock: true, stamps: 'closedAt' };
export const REFUND: Transition = { name: 'refund', from: ['CANCELLED', 'TIMEOUT'], to: 'REFUNDED', returnsStock: false, stamps: null };
/** The unit goes back to stock only while its sale runs (admin-refund.ts decides, per refund). */
export const ADMIN_REFUND: Transition = { name: 'admin-refund', from: ['PAID'], to: 'REFUNDED', returnsStock: true, stamps: 'closedAt' };

/** Every state an order can be in; the database's CHECK lists the same (asserted by the order store's tests). */
export const ORDER_STATUSES: readonly OrderStatus[] = ['UNPAID', 'PAID', 'CANCELLED', 'TIMEOUT', 'REFUNDED'];

/** The state a new order starts in. */
export const INITIAL: OrderStatus = 'UNPAID';

/** Live orders hold a unit; at most one per buyer and good. */
export const LIVE: readonly OrderStatus[] = ['UNPAID', 'PAID'];
export const CLOSED: readonly OrderStatus[] = ['CANCELLED', 'TIMEOUT', 'REFUNDED'];

export const isClosed = (status: OrderStatus) => CLOSED.includes(status);

/** Idempotency keys of the payment provider and the payments table, one per order and kind. */
export const chargeKey = (orderNo: string) => `charge:${orderNo}`;
export const refundKey = (orderNo: string) => `refund:${orderNo}`;
