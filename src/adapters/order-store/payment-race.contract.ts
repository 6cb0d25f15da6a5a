/**
 * Payments racing the reconciler, on a real database engine with the database ledger provider: many orders,
 * each paid, failing partway (the payer dies before asking, dies after the money is taken, or its request
 * waits on the wire past its expiry), paid again while reconciler passes run, with the retried charges held
 * on the wire for a random number of passes. Checked when each charge lands and at the end:
 *   - no intent is settled or abandoned while a charge of it can still land (the landing charge finds its
 *     intent open, or the charge already recorded);
 *   - no order is PAID without a charge at the provider recorded against it;
 *   - no charge at the provider without its order PAID, or REFUNDED with the refund taken.
 * Decisions come from a seeded shuffle; the interleaving is the engine's and the event loop's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newBuyers, newGood, newWorld, ordersOf } from '../../../test/support/in-process.ts';
import { closeOrders } from '../../core/close-orders.ts';
import { chargeKey, refundKey } from '../../core/order-lifecycle.ts';
import { payOrder } from '../../core/payments.ts';
import { reconcile, type ReconcileReport } from '../../core/reconcile.ts';
import type { Database } from '../database/database.ts';
import { migrate } from '../database/migrate.ts';
import { createLedgerPaymentProvider } from '../payment/simulated-payment-provider.ts';
import { createSqlOrderStore } from './sql-order-store.ts';
import { shuffled, type MakeDb } from './order-store.fixture.ts';
import { withPaymentHooks } from '../payment/payment-hooks.fixture.ts';

const ORDERS = 60;
const STEP_MS = 1_000; // the clock moves this much after every reconciler pass
const GRACE_MS = 2_000;
const CHARGE_TIMEOUT_MS = 4_000;

/** What the payer's process does around one charge call. */
interface Plan {
  dieBeforeRequest?: boolean;
  /** The request waits on the wire until this resolves. */
  hold?: () => Promise<void>;
  dieAfterCharge?: boolean;
}

const EXPECTED_FAILURES = [/process died/, /expired before it reached the provider/, /closed|cancelled|timeout|refunded/i, /did not answer in time/];

export function describePaymentRace(label: string, makeDb: MakeDb): void {
  describe(`payments racing the reconciler on ${label}`, () => {
    let db: Database;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      ({ db, cleanup } = await makeDb());
      await migrate(db);
    });
    afterAll(() => cleanup());

    it(`${ORDERS} orders paid, failing and paid again while reconciler passes run: no lost charge, no unpaid charge, no abandon while charging`, async () => {
      const store = createSqlOrderStore(db);
      const world = newWorld(store);
      const payments = withPaymentHooks(createLedgerPaymentProvider(db, { now: () => world.clock.now() }));
      const good = await newGood(store, world.clock.now(), { stock: ORDERS, seckillPrice: 990 });
      const buyers = await newBuyers(db, ORDERS);
      const orderNos = await ordersOf(world, good, buyers);
      const buyerOf = new Map(orderNos.map((o, i) => [o, buyers[i]!]));

      // Passes and the clock, with waits on their progress (no sleeping).
      let passes = 0;
      let waiters: (() => void)[] = [];
      const progressed = () => {
        const ready = waiters;
        waiters = [];
        for (const w of ready) w();
      };
      const until = async (cond: () => boolean) => {
        while (!cond()) await new Promise<void>((r) => waiters.push(r));
      };
      const untilPasses = (n: number) => until(() => passes >= n);
      const untilClock = (at: number) => until(() => world.clock.now().getTime() >= at);

      const plans = new Map<string, Plan>();
      const violations: string[] = [];
      payments.onRequest = async (req) => {
        const plan = plans.get(req.orderNo) ?? {};
        if (plan.dieBeforeRequest) throw new Error('process died before asking');
        await plan.hold?.();
      };
      payments.beforeCharge = async (req) => {
        const orderNo = req.orderNo;
        // Read the intent first: settling records the charge before it settles the intent.
        const [intent] = await db.query<{ status: string }>('SELECT status FROM payment_intents WHERE order_no = $1', [orderNo]);
        const recorded = await db.query(`SELECT 1 FROM payments WHERE order_no = $1 AND kind = 'CHARGE'`, [orderNo]);
        if (intent?.status !== 'OPEN' && recorded.length === 0) violations.push(`${orderNo}: charge landed on an intent ${intent?.status ?? 'missing'}`);
        if (plans.get(orderNo)?.dieAfterCharge) throw new Error('process died after the charge');
      };

      const failures: string[] = [];
      const pay = async (orderNo: string, plan: Plan) => {
        plans.set(orderNo, plan);
        try {
          await payOrder({ ...world, payments, chargeTimeoutMs: CHARGE_TIMEOUT_MS }, { userId: buyerOf.get(orderNo)!, orderNo });
        } catch (err) {
          failures.push(String(err));
        } finally {
          plans.delete(orderNo);
        }
      };

      // The reconcilers: two at once, as two worker processes would run them.
      const reports: ReconcileReport[] = [];
      let stop = false;
      const reconciler = async () => {
        while (!stop) {
          reports.push(await reconcile({ ...world, payments, graceMs: GRACE_MS }));
          passes++;
          world.clock.advance(STEP_MS);
          progressed();
        }
      };

      const random = (() => {
        let i = 0;
        const draws = shuffled(Array.from({ length: 997 }, (_, k) => k / 997), 20261206);
        return () => draws[i++ % draws.length]!;
      })();
      const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;

      const buyer = async (orderNo: string) => {
        // First try: it fails partway, or pays.
        const first = pick(['dies-before-request', 'dies-after-charge', 'expires-on-the-wire', 'pays'] as const);
        const startedAt = world.clock.now().getTime();
        await pay(orderNo, {
          dieBeforeRequest: first === 'dies-before-request',
          dieAfterCharge: first === 'dies-after-charge',
          hold: first === 'expires-on-the-wire' ? () => untilClock(startedAt + CHARGE_TIMEOUT_MS + 1) : undefined,
        });
        // The buyer presses pay again some passes later; that charge waits on the wire for 1–8 passes.
        await untilPasses(passes + Math.floor(random() * 6));
        const holdFor = 1 + Math.floor(random() * 8);
        const cancels = random() < 0.15;
        const retried = pay(orderNo, {
          hold: () => untilPasses(passes + holdFor),
          dieAfterCharge: random() < 0.5,
        });
        if (cancels) {
          await untilPasses(passes + Math.floor(random() * holdFor));
          await closeOrders(world, [orderNo], 'CANCELLED');
        }
        await retried;
      };

      const running = [reconciler(), reconciler()];
      await Promise.all(orderNos.map(buyer));
      stop = true;
      await Promise.all(running);
      payments.onRequest = null;

      // At rest: every expiry and grace period passed, one last pass finishes what is open.
      world.clock.advance(CHARGE_TIMEOUT_MS + GRACE_MS + 1);
      reports.push(await reconcile({ ...world, payments, graceMs: GRACE_MS }));
      expect(await store.openPaymentIntents(new Date('2100-01-01T00:00:00Z'), 10_000)).toEqual([]);

      expect(violations).toEqual([]);
      expect(failures.filter((f) => !EXPECTED_FAILURES.some((re) => re.test(f)))).toEqual([]);
      const ledger = await db.query<{ idempotency_key: string; kind: string; ref: string }>('SELECT idempotency_key, kind, ref FROM simulated_provider_ledger');
      const recorded = await db.query<{ order_no: string; kind: string; provider_ref: string }>('SELECT order_no, kind, provider_ref FROM payments');
      const at = (kind: string, key: string) => ledger.find((l) => l.kind === kind && l.idempotency_key === key);
      const rec = (kind: string, orderNo: string) => recorded.find((r) => r.kind === kind && r.order_no === orderNo);
      const wrong: string[] = [];
      const statuses: Record<string, number> = {};
      for (const orderNo of orderNos) {
        const { status } = (await store.getOrder(orderNo))!;
        statuses[status] = (statuses[status] ?? 0) + 1;
        const charge = at('CHARGE', chargeKey(orderNo));
        if (status === 'PAID' && (!charge || rec('CHARGE', orderNo)?.provider_ref !== charge.ref)) wrong.push(`${orderNo}: PAID without a recorded charge`);
        if (charge && status !== 'PAID' && !(status === 'REFUNDED' && at('REFUND', refundKey(orderNo)) && rec('REFUND', orderNo))) {
          wrong.push(`${orderNo}: charged, but ${status}`);
        }
        if (!charge && (status === 'PAID' || status === 'REFUNDED')) wrong.push(`${orderNo}: ${status} with no charge`);
      }
      expect(wrong).toEqual([]);

      // The race was run, not skipped: every path was taken at least once.
      const sum = (k: keyof ReconcileReport) => reports.reduce((a, r) => a + r[k], 0);
      expect(sum('paymentsSettled')).toBeGreaterThan(0);
      expect(sum('paymentsAbandoned')).toBeGreaterThan(0);
      expect(statuses.PAID).toBeGreaterThan(0);
      expect(failures.some((f) => /expired before/.test(f))).toBe(true);
    }, 120_000);
  });
}
