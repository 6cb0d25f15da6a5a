/**
 * The payment provider of the demo shop: accepts every charge, idempotent per key like a real provider
 * (a retried charge answers the first payment and takes no more money). A real provider plugs in
 * behind the same port (charge, refund, idempotency key).
 *
 * Two ledgers: in process memory (tests, the bench), and in a table of the shop's database, which the
 * shop runs on so that every process of a deployment sees one provider, as it would a real one: a charge
 * taken by an api process that then died is found by the reconciler in a worker process.
 */
import { randomBytes } from 'node:crypto';
import type { PaymentProvider } from '../../core/ports/payment.ts';
import type { Queryable } from '../database/database.ts';

export interface ProviderTotals {
  charged: number;
  refunded: number;
  charges: number;
  refunds: number;
}

export interface SimulatedPaymentProvider extends PaymentProvider {
  /** Money taken and given back so far (cents), for operators and tests. */
  totals(): Promise<ProviderTotals>;
}

type ChargeRequest = Parameters<PaymentProvider['charge']>[0];

/** A charge request that reached the provider after its `notAfter`: no money was taken. */
export class ChargeExpiredError extends Error {
  constructor(idempotencyKey: string) {
    super(`charge request ${idempotencyKey} expired before it reached the provider; nothing was taken`);
    this.name = 'ChargeExpiredError';
  }
}

export interface SimulatedProviderOptions {
  /** The provider's own clock, which judges a request's `notAfter` (tests pass their fake clock). */
  now?: () => Date;
}

/** A known key answers its payment whenever asked; a new one is taken only before the request's expiry. */
function refuseIfExpired(req: ChargeRequest, now: () => Date): void {
  if (now().getTime() > req.notAfter.getTime()) throw new ChargeExpiredError(req.idempotencyKey);
}

const newRef = (prefix: string) => `${prefix}_${randomBytes(9).toString('base64url')}`;

export function createSimulatedPaymentProvider(opts: SimulatedProviderOptions = {}): SimulatedPaymentProvider {
  const now = opts.now ?? (() => new Date());
  const charges = new Map<string, { paymentId: string; amount: number }>();
  const refunds = new Map<string, { refundId: string; amount: number }>();
  const provider: SimulatedPaymentProvider = {
    async charge(req) {
      const { idempotencyKey, amount } = req;
      const known = charges.get(idempotencyKey);
      if (known) return { paymentId: known.paymentId };
      refuseIfExpired(req, now);
      // Reserve the key before any await, so two concurrent calls with one key charge once.
      const entry = { paymentId: newRef('pay'), amount };
      charges.set(idempotencyKey, entry);
      return { paymentId: entry.paymentId };
    },
    async findCharge(idempotencyKey) {
      const known = charges.get(idempotencyKey);
      return known ? { paymentId: known.paymentId, amount: known.amount } : null;
    },
    async refund({ idempotencyKey, amount }) {
      const known = refunds.get(idempotencyKey);
      if (known) return { refundId: known.refundId };
      const entry = { refundId: newRef('rfd'), amount };
      refunds.set(idempotencyKey, entry);
      return { refundId: entry.refundId };
    },
    async totals() {
      const sum = (m: Map<string, { amount: number }>) => [...m.values()].reduce((a, e) => a + e.amount, 0);
      return { charged: sum(charges), refunded: sum(refunds), charges: charges.size, refunds: refunds.size };
    },
  };
  return provider;
}

/** The same provider with its ledger in `simulated_provider_ledger` (migration 005): one row per idempotency key. */
export function createLedgerPaymentProvider(db: Queryable, opts: SimulatedProviderOptions = {}): SimulatedPaymentProvider {
  const now = opts.now ?? (() => new Date());
  // The first writer of a key wins; every later call (a retry, a concurrent twin) answers that row.
  const known = async (idempotencyKey: string) =>
    (await db.query<{ ref: string }>('SELECT ref FROM simulated_provider_ledger WHERE idempotency_key = $1', [idempotencyKey]))[0]?.ref;
  const record = async (kind: 'CHARGE' | 'REFUND', idempotencyKey: string, amount: number): Promise<string> => {
    const rows = await db.query<{ ref: string }>(
      `WITH ins AS (
         INSERT INTO simulated_provider_ledger (idempotency_key, kind, ref, amount_cents) VALUES ($1, $2, $3, $4)
         ON CONFLICT (idempotency_key) DO NOTHING RETURNING ref)
       SELECT ref FROM ins UNION ALL SELECT ref FROM simulated_provider_ledger WHERE idempotency_key = $1`,
      [idempotencyKey, kind, newRef(kind === 'CHARGE' ? 'pay' : 'rfd'), amount],
    );
    // A twin inserting the same key at the same instant: its row is visible once its INSERT has returned.
    if (rows[0]) return rows[0].ref;
    const again = await known(idempotencyKey);
    if (!again) throw new Error(`payment ledger: no row for ${idempotencyKey}`);
    return again;
  };
  const provider: SimulatedPaymentProvider = {
    async charge(req) {
      const { idempotencyKey, amount } = req;
      // The expiry is judged when the request arrives; a charge whose insert is then slow still counts.
      if ((await known(idempotencyKey)) === undefined) refuseIfExpired(req, now);
      const paymentId = await record('CHARGE', idempotencyKey, amount);
      return { paymentId };
    },
    async findCharge(idempotencyKey) {
      const rows = await db.query<{ ref: string; amount_cents: number }>(
        `SELECT ref, amount_cents FROM simulated_provider_ledger WHERE idempotency_key = $1 AND kind = 'CHARGE'`,
        [idempotencyKey],
      );
      return rows[0] ? { paymentId: rows[0].ref, amount: rows[0].amount_cents } : null;
    },
    async refund({ idempotencyKey, amount }) {
      return { refundId: await record('REFUND', idempotencyKey, amount) };
    },
    async totals() {
      const rows = await db.query<{ kind: string; n: number; cents: number }>(
        `SELECT kind, COUNT(*)::int AS n, COALESCE(SUM(amount_cents), 0)::int AS cents FROM simulated_provider_ledger GROUP BY kind`,
      );
      const of = (kind: string) => rows.find((r) => r.kind === kind) ?? { n: 0, cents: 0 };
      return { charged: of('CHARGE').cents, refunded: of('REFUND').cents, charges: of('CHARGE').n, refunds: of('REFUND').n };
    },
  };
  return provider;
}
