/**
 * The behaviour suite of the PaymentProvider port, run on every adapter: the in-memory ledger and the
 * database ledger on both engines. Keys are fresh per test, so suites never see each other.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChargeExpiredError, type SimulatedPaymentProvider } from './simulated-payment-provider.ts';
import { withPaymentHooks, type WithPaymentHooks } from './payment-hooks.fixture.ts';

/** `now` is the provider's clock, which the suite moves to let a request's expiry pass. */
export type MakeProvider = (now: () => Date) => Promise<{ provider: SimulatedPaymentProvider; cleanup: () => Promise<void> }>;

export function describePaymentProvider(label: string, make: MakeProvider): void {
  describe(`PaymentProvider on ${label}`, () => {
    /** The provider under test, with the test hooks around it (the product ships none). */
    let provider: WithPaymentHooks<SimulatedPaymentProvider>;
    let cleanup: (() => Promise<void>) | undefined;
    const key = () => `charge:${randomUUID()}`;
    const FAR = new Date('2100-01-01T00:00:00.000Z');
    const charge = (idempotencyKey: string, amount = 990, notAfter = FAR) => provider.charge({ idempotencyKey, orderNo: idempotencyKey.slice(7), userId: 1, amount, notAfter });

    let ahead = 0;
    beforeAll(async () => {
      const made = await make(() => new Date(Date.now() + ahead));
      provider = withPaymentHooks(made.provider);
      cleanup = made.cleanup;
    });
    afterAll(async () => {
      await cleanup?.();
    });

    it('one key charges once: a retry answers the first payment', async () => {
      const before = await provider.totals();
      const k = key();
      const first = await charge(k);
      const again = await charge(k, 5000);
      expect(again.paymentId).toBe(first.paymentId);
      const after = await provider.totals();
      expect(after.charges - before.charges).toBe(1);
      expect(after.charged - before.charged).toBe(990);
    });

    it('one key charges once even when 20 calls race', async () => {
      const before = await provider.totals();
      const k = key();
      const answers = await Promise.all(Array.from({ length: 20 }, () => charge(k)));
      expect(new Set(answers.map((a) => a.paymentId)).size).toBe(1);
      expect((await provider.totals()).charges - before.charges).toBe(1);
    });

    it('findCharge answers the charge taken under a key, and null for a key never charged', async () => {
      const k = key();
      expect(await provider.findCharge(k)).toBeNull();
      const { paymentId } = await charge(k, 1234);
      expect(await provider.findCharge(k)).toEqual({ paymentId, amount: 1234 });
    });

    it('one key refunds once, also when calls race; a refund is not a charge', async () => {
      const k = key();
      const { paymentId } = await charge(k);
      const before = await provider.totals();
      const refundKey = `refund:${k.slice(7)}`;
      const answers = await Promise.all(Array.from({ length: 10 }, () => provider.refund({ idempotencyKey: refundKey, paymentId, amount: 990 })));
      expect(new Set(answers.map((a) => a.refundId)).size).toBe(1);
      const after = await provider.totals();
      expect(after.refunds - before.refunds).toBe(1);
      expect(after.refunded - before.refunded).toBe(990);
      expect(after.charges).toBe(before.charges);
      expect(await provider.findCharge(refundKey)).toBeNull();
    });

    it('the test hook runs after the money is taken', async () => {
      const k = key();
      let seen: unknown = 'not run';
      provider.beforeCharge = async () => {
        seen = await provider.findCharge(k);
      };
      try {
        await charge(k, 77);
      } finally {
        provider.beforeCharge = null;
      }
      expect(seen).toMatchObject({ amount: 77 });
    });

    it('a request that reaches the provider after its expiry takes nothing, and the key stays uncharged', async () => {
      const k = key();
      const before = await provider.totals();
      await expect(charge(k, 990, new Date(Date.now() - 1))).rejects.toThrow(ChargeExpiredError);
      expect(await provider.findCharge(k)).toBeNull();
      expect((await provider.totals()).charges).toBe(before.charges);
    });

    it('a request held on the wire past its expiry takes nothing when it lands; a known key still answers its payment', async () => {
      const k = key();
      const notAfter = new Date(Date.now() + 60_000);
      let release!: () => void;
      let arrived!: () => void;
      const reached = new Promise<void>((r) => (arrived = r));
      provider.onRequest = () => {
        arrived();
        return new Promise<void>((r) => (release = r));
      };
      try {
        const held = charge(k, 990, notAfter);
        await reached;
        expect(await provider.findCharge(k)).toBeNull();
        provider.onRequest = null;
        // The same key charged in time by another request meanwhile: the held one answers that payment.
        const { paymentId } = await charge(k);
        release();
        expect(await held).toEqual({ paymentId });
      } finally {
        provider.onRequest = null;
      }
      const late = key();
      const reachedAgain = new Promise<void>((r) => (arrived = r));
      provider.onRequest = () => {
        arrived();
        return new Promise<void>((r) => (release = r));
      };
      try {
        const held = charge(late, 990, new Date(Date.now() + 60_000));
        await reachedAgain;
        // Released only once its expiry is past by the provider's clock: nothing is taken.
        ahead += 120_000;
        release();
        await expect(held).rejects.toThrow(ChargeExpiredError);
      } finally {
        provider.onRequest = null;
      }
      expect(await provider.findCharge(late)).toBeNull();
    });
  });
}
