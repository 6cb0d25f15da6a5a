/**
 * The payment provider of the demo shop: accepts every charge, idempotent per key like a real provider
 * (a retried charge answers the first payment and takes no more money). A real provider plugs in
 * behind the same port (charge, refund, idempotency key).
 */
import { randomBytes } from 'node:crypto';
import type { PaymentProvider } from '../../core/ports.ts';

export interface SimulatedPaymentProvider extends PaymentProvider {
  /** Money taken and given back so far (cents), for operators and tests. */
  totals(): { charged: number; refunded: number; charges: number; refunds: number };
  /** Test hook: runs inside every charge before it completes (e.g. to let a pay timeout win the race). */
  beforeCharge: (() => Promise<void>) | null;
}

export function createSimulatedPaymentProvider(): SimulatedPaymentProvider {
  const charges = new Map<string, { paymentId: string; amount: number }>();
  const refunds = new Map<string, { refundId: string; amount: number }>();
  const id = (prefix: string) => `${prefix}_${randomBytes(9).toString('base64url')}`;
  const provider: SimulatedPaymentProvider = {
    beforeCharge: null,
    async charge({ idempotencyKey, amount }) {
      const known = charges.get(idempotencyKey);
      if (known) return { paymentId: known.paymentId };
      // Reserve the key before any await, so two concurrent calls with one key charge once.
      const entry = { paymentId: id('pay'), amount };
      charges.set(idempotencyKey, entry);
      await provider.beforeCharge?.();
      return { paymentId: entry.paymentId };
    },
    async findCharge(idempotencyKey) {
      const known = charges.get(idempotencyKey);
      return known ? { paymentId: known.paymentId, amount: known.amount } : null;
    },
    async refund({ idempotencyKey, amount }) {
      const known = refunds.get(idempotencyKey);
      if (known) return { refundId: known.refundId };
      const entry = { refundId: id('rfd'), amount };
      refunds.set(idempotencyKey, entry);
      return { refundId: entry.refundId };
    },
    totals() {
      const sum = (m: Map<string, { amount: number }>) => [...m.values()].reduce((a, e) => a + e.amount, 0);
      return { charged: sum(charges), refunded: sum(refunds), charges: charges.size, refunds: refunds.size };
    },
  };
  return provider;
}
