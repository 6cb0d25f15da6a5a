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
