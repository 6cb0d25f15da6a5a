/**
 * Test hooks around any payment provider, so that tests can hold or fail a charge at the two moments that
 * matter, while the product ships none:
 * - `onRequest`: when the request reaches the provider, before it is looked at (holding it holds the request
 *   on the wire: it lands, or expires, when the hook returns);
 * - `beforeCharge`: after the money is taken, before the caller hears of it (a failure here is a process
 *   that died between the charge and its record).
 */
import type { PaymentProvider } from '../../core/ports/payment.ts';

export type ChargeRequest = Parameters<PaymentProvider['charge']>[0];

export type WithPaymentHooks<P extends PaymentProvider> = P & {
  onRequest: ((req: ChargeRequest) => Promise<void>) | null;
  beforeCharge: ((req: ChargeRequest) => Promise<void>) | null;
};

export function withPaymentHooks<P extends PaymentProvider>(inner: P): WithPaymentHooks<P> {
  const hooked: WithPaymentHooks<P> = {
    ...inner,
    onRequest: null,
    beforeCharge: null,
    async charge(req) {
      await hooked.onRequest?.(req);
      const answer = await inner.charge(req);
      await hooked.beforeCharge?.(req);
      return answer;
    },
  };
  return hooked;
}
