/** The OrderStore contract, part two: the order lifecycle (state changes, payments, intents, overdue orders, decideFail) and reads. */
import { describe, expect, it, beforeAll } from 'vitest';
import type { OrderStore } from '../../core/ports/order-store.ts';
import type { Database } from '../database/database.ts';
import { CANCEL, PAY, REFUND, TIMEOUT, chargeKey, refundKey } from '../../core/order-lifecycle.ts';
import { NOW, PAY_TIMEOUT_MS, orderStoreFixture, shuffled } from './order-store.fixture.ts';

export function describeOrderLifecycle(engine: { db: () => Database; store: () => OrderStore }): void {
  let store: OrderStore;
  let db: Database;
  beforeAll(() => {
    store = engine.store();
    db = engine.db();
  });
  const { newGood, newBuyers, message, opts, countOrders } = orderStoreFixture(engine.db, (good) => store.createGood(good));

  describe('order lifecycle', () => {
    async function ordersOf(n: number, stock = n) {
      const good = await newGood({ stock });
      const buyers = await newBuyers(n);
      const made = await store.createOrders(buyers.map((u) => message(u, good.id)), opts());
      return { good, orderNos: made.map((x) => x.result.orderNo!) };
    }
    const charge = (orderNo: string, amount = 9_900) => ({ orderNo, kind: 'CHARGE' as const, amount, providerRef: `pay_${orderNo}`, idempotencyKey: chargeKey(orderNo) });
    const stockOf = async (id: number) => (await store.getGood(id))!.stock;
    const paymentsOf = (orderNo: string) =>
      db.query<{ kind: string; amount_cents: number }>('SELECT kind, amount_cents FROM payments WHERE order_no = $1 ORDER BY id', [orderNo]);

    it('pay → PAID with paidAt and the charge recorded in the same transaction; stock unchanged', async () => {
      const { good, orderNos: [o] } = await ordersOf(1, 3);
      const at = new Date('2030-01-01T10:01:00.000Z');
      const changed = await store.applyTransition([o!], PAY, at, { payment: charge(o!) });
      expect(changed).toEqual([expect.objectContaining({ orderNo: o, status: 'PAID', paidAt: at })]);
      expect(changed[0]!.closedAt).toBeUndefined();
      expect(await paymentsOf(o!)).toEqual([{ kind: 'CHARGE', amount_cents: 9_900 }]);
      expect(await stockOf(good.id)).toBe(2);
    });

    it('cancel and timeout → closed with closedAt, the unit back in stock; closing again changes nothing', async () => {
      const { good, orderNos: [a, b] } = await ordersOf(2);
      expect(await stockOf(good.id)).toBe(0);
      const at = new Date('2030-01-01T10:02:00.000Z');
      expect((await store.applyTransition([a!], CANCEL, at)).map((o) => [o.status, o.closedAt])).toEqual([['CANCELLED', at]]);
      expect((await store.applyTransition([b!], TIMEOUT, at)).map((o) => o.status)).toEqual(['TIMEOUT']);
      expect(await stockOf(good.id)).toBe(2);
      expect(await store.applyTransition([a!, b!], CANCEL, at)).toEqual([]);
      expect(await store.applyTransition([a!, b!], TIMEOUT, at)).toEqual([]);
      expect(await stockOf(good.id)).toBe(2);
    });

    it('closing a batch returns exactly the orders it changed, and the stock of those only', async () => {
      const { good, orderNos } = await ordersOf(6);
      await store.applyTransition([orderNos[0]!], PAY, NOW, { payment: charge(orderNos[0]!) });
      await store.applyTransition([orderNos[1]!], CANCEL, NOW);
      const changed = await store.applyTransition([...orderNos, 'NO-SUCH-ORDER'], TIMEOUT, NOW);
      expect(changed.map((o) => o.orderNo).sort()).toEqual(orderNos.slice(2).sort());
      expect(await stockOf(good.id)).toBe(5);
    });

    it('onlyDueBy → only orders whose pay deadline has passed close', async () => {
      const good = await newGood({ stock: 2 });
      const [a, b] = await newBuyers(2);
      const [early] = await store.createOrders([message(a!, good.id)], opts(NOW));
      const [late] = await store.createOrders([message(b!, good.id)], opts(new Date(NOW.getTime() + 60_000)));
      const dueBy = new Date(NOW.getTime() + PAY_TIMEOUT_MS + 1);
      const changed = await store.applyTransition([early!.result.orderNo!, late!.result.orderNo!], TIMEOUT, dueBy, { onlyDueBy: dueBy });
      expect(changed.map((o) => o.orderNo)).toEqual([early!.result.orderNo]);
    });

    it('pay racing cancel and timeout on one order, 30 times → exactly one winner each; stock adds up; each charge recorded once', async () => {
      const { good, orderNos } = await ordersOf(30);
      const outcomes = await Promise.all(
        orderNos.map(async (o, i) => {
          const contenders = shuffled([PAY, CANCEL, TIMEOUT], i).map((t) =>
            store.applyTransition([o], t, NOW, t === PAY ? { payment: charge(o) } : {}).then((changed) => (changed.length ? t.to : null)),
          );
          return (await Promise.all(contenders)).filter(Boolean);
        }),
      );
      expect(outcomes.every((w) => w.length === 1)).toBe(true);
      const paid = outcomes.filter((w) => w[0] === 'PAID').length;
      expect(await stockOf(good.id)).toBe(30 - paid);
      const [row] = await db.query<{ n: number }>(
        `SELECT count(*) AS n FROM payments WHERE order_no = ANY($1) AND kind = 'CHARGE'`,
        [orderNos],
      );
      // The money was taken whichever transition won: each charge is recorded once (the pay use case refunds a loser).
      expect(row!.n).toBe(30);
    });

    it('refund → only a closed order becomes REFUNDED; a payment is recorded once however often it is reported', async () => {
      const { good, orderNos: [a, b] } = await ordersOf(2);
      await store.applyTransition([a!], TIMEOUT, NOW);
      await store.recordPayment(charge(a!));
      await store.recordPayment(charge(a!));
      const refund = { orderNo: a!, kind: 'REFUND' as const, amount: 9_900, providerRef: `rfd_${a}`, idempotencyKey: refundKey(a!) };
      expect((await store.applyTransition([a!, b!], REFUND, NOW, { payment: refund })).map((o) => [o.orderNo, o.status])).toEqual([[a, 'REFUNDED']]);
      await store.recordPayment(refund);
      expect(await paymentsOf(a!)).toEqual([{ kind: 'CHARGE', amount_cents: 9_900 }, { kind: 'REFUND', amount_cents: 9_900 }]);
      expect((await store.getOrder(b!))!.status).toBe('UNPAID');
      expect(await stockOf(good.id)).toBe(1);
    });

    it('overdueOrders → UNPAID orders past their deadline, oldest deadline first, up to the limit', async () => {
      const good = await newGood({ stock: 3 });
      const [a, b, c] = await newBuyers(3);
      const t0 = new Date('2031-06-01T00:00:00.000Z');
      const at = (ms: number) => new Date(t0.getTime() + ms);
      const [second] = await store.createOrders([message(a!, good.id)], opts(at(1000)));
      const [first] = await store.createOrders([message(b!, good.id)], opts(at(0)));
      const [paid] = await store.createOrders([message(c!, good.id)], opts(at(0)));
      await store.applyTransition([paid!.result.orderNo!], PAY, at(10), { payment: charge(paid!.result.orderNo!) });
      const ours = async (now: Date, limit: number) =>
        (await store.overdueOrders(now, limit)).map((o) => o.orderNo).filter((no) => no === first!.result.orderNo || no === second!.result.orderNo);
      expect(await ours(at(PAY_TIMEOUT_MS - 1), 10_000)).toEqual([]);
      expect(await ours(at(PAY_TIMEOUT_MS + 1000), 10_000)).toEqual([first!.result.orderNo, second!.result.orderNo]);
    });

    it('decideFail and createOrders on one uuid → the first decision stands, whichever it is', async () => {
      const good = await newGood({ stock: 5 });
      const [a, b] = await newBuyers(2);
      const failedFirst = message(a!, good.id);
      const expired = await store.decideFail(failedFirst, 'EXPIRED');
      expect(expired).toMatchObject({ uuid: failedFirst.uuid, status: 'FAIL', reason: 'EXPIRED' });
      const [late] = await store.createOrders([failedFirst], opts());
      expect(late).toEqual({ result: expired, created: false });
      expect(await stockOf(good.id)).toBe(5);

      const madeFirst = message(b!, good.id);
      const [made] = await store.createOrders([madeFirst], opts());
      expect(await store.decideFail(madeFirst, 'EXPIRED')).toEqual(made!.result);
      expect((await store.getResult(madeFirst.uuid))!.status).toBe('SUCCESS');
    });

    it('decideFail racing createOrders on 40 uuids → one stored result each, and an order exactly for each SUCCESS', async () => {
      const good = await newGood({ stock: 40 });
      const buyers = await newBuyers(40);
      const messages = buyers.map((u) => message(u, good.id));
      const [fails, made] = await Promise.all([
        Promise.all(messages.map((m) => store.decideFail(m, 'EXPIRED'))),
        Promise.all(messages.map((m) => store.createOrders([m], opts()))),
      ]);
      for (let i = 0; i < messages.length; i++) {
        const stored = await store.getResult(messages[i]!.uuid);
        expect(stored).toEqual(fails[i]);
        expect(made[i]![0]!.result).toEqual(stored);
      }
      const successes = fails.filter((r) => r.status === 'SUCCESS').length;
      expect(await countOrders(good.id)).toBe(successes);
      expect(await stockOf(good.id)).toBe(40 - successes);
    });
  });

  describe('reads', () => {
    it('stats → stock and a count for every status (0 when none)', async () => {
      const good = await newGood({ stock: 5 });
      const buyers = await newBuyers(2);
      await store.createOrders(buyers.map((u) => message(u, good.id)), opts());
      expect(await store.stats(good.id)).toEqual({
        stock: 3,
        orders: { UNPAID: 2, PAID: 0, CANCELLED: 0, TIMEOUT: 0, REFUNDED: 0 },
      });
    });

    it("listOrders → the buyer's own orders only, newest first", async () => {
      const [g1, g2] = [await newGood(), await newGood()];
      const [buyer, other] = await newBuyers(2);
      const [older] = await store.createOrders([message(buyer!, g1.id)], opts(new Date(NOW.getTime() - 60_000)));
      const [newer] = await store.createOrders([message(buyer!, g2.id)], opts());
      await store.createOrders([message(other!, g1.id)], opts());
      const list = await store.listOrders(buyer!);
      expect(list.map((o) => o.orderNo)).toEqual([newer!.result.orderNo, older!.result.orderNo]);
      expect(list.every((o) => o.userId === buyer)).toBe(true);
      expect(list[0]).toMatchObject({ goodName: g2.name, seckillPrice: g2.seckillPrice, status: 'UNPAID' });
    });

    it('getOrder and getResult of unknown keys → null', async () => {
      expect(await store.getOrder('NO-SUCH-ORDER')).toBeNull();
      expect(await store.getResult('no-such-uuid')).toBeNull();
      expect(await store.listOrders(987_654_321)).toEqual([]);
    });

    it('getResults → the stored results of the uuids that have one, in one read; none asked → none', async () => {
      const good = await newGood({ stock: 1 });
      const [a, b] = await newBuyers(2);
      const [ma, mb] = [message(a!, good.id), message(b!, good.id)];
      const decided = (await store.createOrders([ma, mb], opts())).map((x) => x.result);
      const found = await store.getResults([mb.uuid, 'no-such-uuid', ma.uuid, mb.uuid]);
      expect([...found].sort((x, y) => x.uuid.localeCompare(y.uuid))).toEqual([...decided].sort((x, y) => x.uuid.localeCompare(y.uuid)));
      expect(await store.getResults(['no-such-uuid'])).toEqual([]);
      expect(await store.getResults([])).toEqual([]);
    });

    const CHARGE_BY = new Date(NOW.getTime() + 10_000);
    const opened = (now = NOW, chargeBy = CHARGE_BY) => ({ now, chargeBy });

    it('payment intents: 20 first opens of one order at once → one open intent, none refused, each its own attempt', async () => {
      const good = await newGood({ stock: 1 });
      const [buyer] = await newBuyers(1);
      const [made] = await store.createOrders([message(buyer!, good.id)], opts());
      const orderNo = made!.result.orderNo!;
      const intent = { orderNo, amount: 990, idempotencyKey: `charge:${orderNo}` };
      const attempts = await Promise.all(Array.from({ length: 20 }, () => store.openPaymentIntent(intent, opened())));
      expect([...attempts].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect((await store.openPaymentIntents(CHARGE_BY, 1000)).filter((i) => i.orderNo === orderNo)).toEqual([{ ...intent, attempt: 20, chargeBy: CHARGE_BY }]);
    });

    it('payment intents: opened once per order, listed while open once their charge expiry is reached, gone once settled', async () => {
      const good = await newGood({ stock: 2 });
      const buyers = await newBuyers(2);
      const [a, b] = (await store.createOrders(buyers.map((u) => message(u, good.id)), opts())).map((x) => x.result.orderNo!);
      const intent = (orderNo: string) => ({ orderNo, amount: 990, idempotencyKey: `charge:${orderNo}` });
      await Promise.all([store.openPaymentIntent(intent(a!), opened()), store.openPaymentIntent(intent(a!), opened()), store.openPaymentIntent(intent(b!), opened())]);
      const ours = async (chargeBy = CHARGE_BY) =>
        (await store.openPaymentIntents(chargeBy, 1000)).filter((i) => i.orderNo === a || i.orderNo === b).map(({ orderNo, amount, idempotencyKey }) => ({ orderNo, amount, idempotencyKey }));
      expect((await ours()).sort((x, y) => x.orderNo.localeCompare(y.orderNo))).toEqual([intent(a!), intent(b!)].sort((x, y) => x.orderNo.localeCompare(y.orderNo)));
      // Listed by the caller's expiry, whatever the database's own clock says.
      expect(await ours(new Date(CHARGE_BY.getTime() - 1))).toEqual([]);
      await store.settlePaymentIntent(a!, new Date());
      await store.settlePaymentIntent(a!, new Date());
      expect(await ours()).toEqual([intent(b!)]);
      // Settled (abandoned), then paid again: open again, until its new charge expiry.
      const later = new Date(CHARGE_BY.getTime() + 60_000);
      await store.openPaymentIntent(intent(a!), opened(NOW, later));
      expect(await ours()).toEqual([intent(b!)]);
      expect((await ours(later)).map((i) => i.orderNo).sort()).toEqual([a!, b!].sort());
    });

    it('payment intents: a pay again moves the charge expiry forward, never back', async () => {
      const good = await newGood({ stock: 1 });
      const [buyer] = await newBuyers(1);
      const orderNo = (await store.createOrders([message(buyer!, good.id)], opts()))[0]!.result.orderNo!;
      const intent = { orderNo, amount: 990, idempotencyKey: `charge:${orderNo}` };
      const later = new Date(CHARGE_BY.getTime() + 5_000);
      expect(await store.openPaymentIntent(intent, opened())).toBe(1);
      expect(await store.openPaymentIntent(intent, opened(NOW, later))).toBe(2);
      // A slow process whose clock is behind opens it with an earlier expiry: the later one stands.
      expect(await store.openPaymentIntent(intent, opened(NOW, CHARGE_BY))).toBe(3);
      const mine = async (by: Date) => (await store.openPaymentIntents(by, 1000)).filter((i) => i.orderNo === orderNo);
      expect(await mine(new Date(later.getTime() - 1))).toEqual([]);
      expect(await mine(later)).toEqual([{ ...intent, attempt: 3, chargeBy: later }]);
    });

    it('payment intents: abandoned only at the attempt read; a pay that opened it again meanwhile keeps it open', async () => {
      const good = await newGood({ stock: 1 });
      const [buyer] = await newBuyers(1);
      const orderNo = (await store.createOrders([message(buyer!, good.id)], opts()))[0]!.result.orderNo!;
      const intent = { orderNo, amount: 990, idempotencyKey: `charge:${orderNo}` };
      await store.openPaymentIntent(intent, opened());
      const [read] = (await store.openPaymentIntents(CHARGE_BY, 1000)).filter((i) => i.orderNo === orderNo);
      expect(read!.attempt).toBe(1);
      // A retried pay opens it again between the reconciler's read and its abandon.
      expect(await store.openPaymentIntent(intent, opened(NOW, new Date(CHARGE_BY.getTime() + 1)))).toBe(2);
      expect(await store.abandonPaymentIntent(orderNo, read!.attempt, NOW)).toBe(false);
      const [now] = (await store.openPaymentIntents(new Date(CHARGE_BY.getTime() + 1), 1000)).filter((i) => i.orderNo === orderNo);
      expect(now).toMatchObject({ attempt: 2 });
      // Ten reconcilers abandon the same attempt at once: one does it.
      const abandons = await Promise.all(Array.from({ length: 10 }, () => store.abandonPaymentIntent(orderNo, 2, NOW)));
      expect(abandons.filter(Boolean)).toHaveLength(1);
      expect((await store.openPaymentIntents(new Date('2100-01-01T00:00:00Z'), 1000)).filter((i) => i.orderNo === orderNo)).toEqual([]);
      // A pay after the abandon opens it again, as a new attempt.
      expect(await store.openPaymentIntent(intent, opened())).toBe(3);
    });

    it('liveOrderNos → the UNPAID and PAID ones of the given orders; closed and unknown ones left out', async () => {
      const good = await newGood({ stock: 3 });
      const buyers = await newBuyers(3);
      const made = await store.createOrders(buyers.map((u) => message(u, good.id)), opts());
      const [a, b, c] = made.map((x) => x.result.orderNo!);
      await store.applyTransition([b!], CANCEL, new Date());
      expect(await store.liveOrderNos([a!, b!, c!, 'NO-SUCH-ORDER'])).toEqual(new Set([a, c]));
      expect(await store.liveOrderNos([])).toEqual(new Set());
    });
  });
}
