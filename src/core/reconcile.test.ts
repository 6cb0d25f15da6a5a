import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulatedPaymentProvider, type SimulatedPaymentProvider } from '../adapters/payment/simulated-payment-provider.ts';
import { withPaymentHooks, type WithPaymentHooks } from '../adapters/payment/payment-hooks.fixture.ts';
import {
  PAY_TIMEOUT_MS,
  failingCache,
  inProcessDatabase,
  loadGood,
  newBuyers,
  newGood,
  newUuid,
  newWorld,
  ordersOf,
  reserve,
  type InProcessDb,
  type World,
} from '../../test/support/in-process.ts';
import { closeOrders } from './close-orders.ts';
import { createOrders } from './create-orders.ts';
import { payOrder } from './payments.ts';
import { PAY, chargeKey } from './order-lifecycle.ts';
import type { OrderStore } from './ports/order-store.ts';
import type { StockCache } from './ports/stock-cache.ts';
import type { SeckillGood } from './model.ts';
import { reconcile, type ReconcileDeps } from './reconcile.ts';

let data: InProcessDb;
beforeAll(async () => {
  data = await inProcessDatabase();
});
afterAll(() => data.close());

const GRACE_MS = 60_000;
const CHARGE_TIMEOUT_MS = 10_000;

/**
 * The store as this test's reconciler sees it: only the goods (and their orders and payment intents) the
 * test made, as if the database held this sale alone. The file shares one database.
 */
function scopedStore(goods: readonly SeckillGood[]): OrderStore {
  const ids = new Set(goods.map((g) => g.id));
  const store = data.store;
  return {
    ...store,
    listGoods: async () => (await store.listGoods()).filter((g) => ids.has(g.id)),
    overdueOrders: async (now, limit) => (await store.overdueOrders(now, 1_000_000)).filter((o) => ids.has(o.seckillGoodId)).slice(0, limit),
    async openPaymentIntents(openedBy, limit) {
      const mine = [];
      for (const intent of await store.openPaymentIntents(openedBy, 1_000_000)) {
        if (ids.has((await store.getOrder(intent.orderNo))!.seckillGoodId)) mine.push(intent);
      }
      return mine.slice(0, limit);
    },
  };
}

function reconcilerOf(world: World, goods: readonly SeckillGood[], over: Partial<ReconcileDeps> = {}) {
  const payments = withPaymentHooks(createSimulatedPaymentProvider({ now: () => world.clock.now() }));
  const deps: ReconcileDeps = { ...world, store: scopedStore(goods), payments, graceMs: GRACE_MS, ...over };
  return { deps, payments, run: () => reconcile(deps) };
}

const stockOf = async (good: SeckillGood) => (await data.store.getGood(good.id))!.stock;
const statusOf = async (orderNo: string) => (await data.store.getOrder(orderNo))!.status;
const isOpenIntent = async (orderNo: string) =>
  (await data.store.openPaymentIntents(new Date('2100-01-01T00:00:00Z'), 1_000_000)).some((i) => i.orderNo === orderNo);

/** The api died between the charge and its record: an open intent, and (unless `charged: false`) the money taken. */
async function payDiedAfterCharge(world: World, payments: WithPaymentHooks<SimulatedPaymentProvider>, orderNo: string, buyer: number, charged = true) {
  const now = world.clock.now();
  await data.store.openPaymentIntent({ orderNo, amount: 990, idempotencyKey: chargeKey(orderNo) }, { now, chargeBy: now });
  if (charged) await payments.charge({ idempotencyKey: chargeKey(orderNo), orderNo, userId: buyer, amount: 990, notAfter: now });
}

describe('reconciler, payment intents left open', () => {
  it('a charge taken but never recorded → recorded, the order PAID, the intent settled, nothing refunded', async () => {
    const world = newWorld(data.store);
    const good = await newGood(data.store, world.clock.now(), { seckillPrice: 990 });
    const [buyer] = await newBuyers(data.db, 1);
    const [orderNo] = await ordersOf(world, good, [buyer!]);
    const { run, payments } = reconcilerOf(world, [good]);
    await payDiedAfterCharge(world, payments, orderNo!, buyer!);
    world.clock.advance(GRACE_MS);

    expect(await run()).toMatchObject({ paymentsSettled: 1, paymentsAbandoned: 0, alerts: 0 });
    expect(await statusOf(orderNo!)).toBe('PAID');
    expect(await isOpenIntent(orderNo!)).toBe(false);
    expect(await data.db.query('SELECT kind FROM payments WHERE order_no = $1', [orderNo])).toEqual([{ kind: 'CHARGE' }]);
    expect(await payments.totals()).toMatchObject({ charges: 1, refunds: 0 });
  });

  it('a charge taken for an order that closed meanwhile → refunded, the order REFUNDED', async () => {
    const world = newWorld(data.store);
    const good = await newGood(data.store, world.clock.now(), { seckillPrice: 990 });
    const [buyer] = await newBuyers(data.db, 1);
    const [orderNo] = await ordersOf(world, good, [buyer!]);
    const { run, payments } = reconcilerOf(world, [good]);
    await payDiedAfterCharge(world, payments, orderNo!, buyer!);
    await closeOrders(world, [orderNo!], 'CANCELLED');
    world.clock.advance(GRACE_MS);

    expect(await run()).toMatchObject({ paymentsSettled: 1 });
    expect(await statusOf(orderNo!)).toBe('REFUNDED');
    expect(await payments.totals()).toEqual({ charged: 990, refunded: 990, charges: 1, refunds: 1 });
    expect(await isOpenIntent(orderNo!)).toBe(false);
  });

  it('no charge under the intent (the payer died before asking) → the intent is abandoned, the order stays UNPAID', async () => {
    const world = newWorld(data.store);
    const good = await newGood(data.store, world.clock.now());
    const [buyer] = await newBuyers(data.db, 1);
    const [orderNo] = await ordersOf(world, good, [buyer!]);
    const { run, payments } = reconcilerOf(world, [good]);
    await payDiedAfterCharge(world, payments, orderNo!, buyer!, false);
    world.clock.advance(GRACE_MS);

    expect(await run()).toMatchObject({ paymentsSettled: 0, paymentsAbandoned: 1 });
    expect(await statusOf(orderNo!)).toBe('UNPAID');
    expect(await isOpenIntent(orderNo!)).toBe(false);
    expect(await payments.totals()).toMatchObject({ charges: 0 });
  });

  it('an intent younger than the grace period is left alone (its payer may still be recording it), and finished once it is old', async () => {
    const world = newWorld(data.store);
    const good = await newGood(data.store, world.clock.now());
    const [buyer] = await newBuyers(data.db, 1);
    const [orderNo] = await ordersOf(world, good, [buyer!]);
    const { run, payments } = reconcilerOf(world, [good]);
    await payDiedAfterCharge(world, payments, orderNo!, buyer!);
    world.clock.advance(GRACE_MS - 1);

    expect(await run()).toMatchObject({ paymentsSettled: 0, paymentsAbandoned: 0 });
    expect(await isOpenIntent(orderNo!)).toBe(true);
    world.clock.advance(1);
    expect(await run()).toMatchObject({ paymentsSettled: 1 });
    expect(await statusOf(orderNo!)).toBe('PAID');
  });

  it('a payment tried again after its intent was abandoned opens the intent again: a charge taken and then lost is still found and recorded', async () => {
    const world = newWorld(data.store);
    const good = await newGood(data.store, world.clock.now(), { seckillPrice: 990 });
    const [buyer] = await newBuyers(data.db, 1);
    const [orderNo] = await ordersOf(world, good, [buyer!]);
    const { run, payments } = reconcilerOf(world, [good]);
    await payDiedAfterCharge(world, payments, orderNo!, buyer!, false);
    world.clock.advance(GRACE_MS);
    expect(await run()).toMatchObject({ paymentsAbandoned: 1 });

    // The buyer pays again; this time the process dies after the money is taken, before it is recorded.
    payments.beforeCharge = () => Promise.reject(new Error('process died'));
    await expect(payOrder({ ...world, payments, chargeTimeoutMs: CHARGE_TIMEOUT_MS }, { userId: buyer!, orderNo: orderNo! })).rejects.toThrow('process died');
    payments.beforeCharge = null;
    expect(await isOpenIntent(orderNo!)).toBe(true);
    world.clock.advance(CHARGE_TIMEOUT_MS + GRACE_MS);

    expect(await run()).toMatchObject({ paymentsSettled: 1 });
    expect(await statusOf(orderNo!)).toBe('PAID');
    expect(await payments.totals()).toMatchObject({ charges: 1, refunds: 0 });
  });
});

describe('reconciler, payment intents under charge', () => {
  /** A charge request that waits on the wire until released. */
  function holdCharges(payments: WithPaymentHooks<SimulatedPaymentProvider>) {
    const held: (() => void)[] = [];
    let arrived: () => void = () => undefined;
    payments.onRequest = () => {
      arrived();
      return new Promise<void>((r) => held.push(r));
    };
    return {
      reached: () => new Promise<void>((r) => (arrived = r)),
      release: () => {
        payments.onRequest = null;
        for (const r of held.splice(0)) r();
      },
    };
  }

  it('a pay sent again long after a first try died before asking: its charge on the wire keeps the intent open, and lands recorded', async () => {
    const world = newWorld(data.store);
    const good = await newGood(data.store, world.clock.now(), { seckillPrice: 990 });
    const [buyer] = await newBuyers(data.db, 1);
    const [orderNo] = await ordersOf(world, good, [buyer!]);
    const { run, payments } = reconcilerOf(world, [good]);
    // The first try opened the intent and died before asking the provider.
    await payDiedAfterCharge(world, payments, orderNo!, buyer!, false);
    world.clock.advance(GRACE_MS);
    // The buyer presses pay again: its charge waits on the wire while the reconciler runs.
    const wire = holdCharges(payments);
    const reached = wire.reached();
    const paying = payOrder({ ...world, payments, chargeTimeoutMs: CHARGE_TIMEOUT_MS }, { userId: buyer!, orderNo: orderNo! });
    await reached;
    expect(await run()).toMatchObject({ paymentsAbandoned: 0, paymentsSettled: 0, alerts: 0 });
    expect(await isOpenIntent(orderNo!)).toBe(true);
    wire.release();
    expect((await paying).status).toBe('PAID');
    expect(await isOpenIntent(orderNo!)).toBe(false);
  });

  it('a charge on the wire when its payer died: left alone while it may land; landed in time → recorded, PAID', async () => {
    const world = newWorld(data.store);
    const good = await newGood(data.store, world.clock.now(), { seckillPrice: 990 });
    const [buyer] = await newBuyers(data.db, 1);
    const [orderNo] = await ordersOf(world, good, [buyer!]);
    const { run, payments } = reconcilerOf(world, [good]);
    const wire = holdCharges(payments);
    const reached = wire.reached();
    payments.beforeCharge = () => Promise.reject(new Error('process died'));
    const paying = payOrder({ ...world, payments, chargeTimeoutMs: CHARGE_TIMEOUT_MS }, { userId: buyer!, orderNo: orderNo! });
    await reached;
    world.clock.advance(CHARGE_TIMEOUT_MS - 1);
    expect(await run()).toMatchObject({ paymentsAbandoned: 0, paymentsSettled: 0 });
    expect(await isOpenIntent(orderNo!)).toBe(true);
    // It lands just before its expiry; the payer dies with the money taken.
    wire.release();
    await expect(paying).rejects.toThrow('process died');
    payments.beforeCharge = null;
    world.clock.advance(GRACE_MS + 1);
    expect(await run()).toMatchObject({ paymentsSettled: 1, paymentsAbandoned: 0 });
    expect(await statusOf(orderNo!)).toBe('PAID');
  });

  it('a charge that reaches the provider after its expiry takes nothing; the intent is then abandoned and the order stays payable', async () => {
    const world = newWorld(data.store);
    const good = await newGood(data.store, world.clock.now(), { seckillPrice: 990 });
    const [buyer] = await newBuyers(data.db, 1);
    const [orderNo] = await ordersOf(world, good, [buyer!]);
    const { run, payments } = reconcilerOf(world, [good]);
    const deps = { ...world, payments, chargeTimeoutMs: CHARGE_TIMEOUT_MS };
    const wire = holdCharges(payments);
    const reached = wire.reached();
    const paying = payOrder(deps, { userId: buyer!, orderNo: orderNo! });
    await reached;
    world.clock.advance(CHARGE_TIMEOUT_MS + GRACE_MS);
    expect(await run()).toMatchObject({ paymentsAbandoned: 1 });
    wire.release();
    await expect(paying).rejects.toThrow('expired');
    expect(await payments.totals()).toMatchObject({ charges: 0 });
    expect((await payOrder(deps, { userId: buyer!, orderNo: orderNo! })).status).toBe('PAID');
  });
});

describe('reconciler, request notes', () => {
  it('a cache that lost its request notes gets the decided requests back from the database, once; the result poll then trusts it', async () => {
    const world = newWorld(data.store);
    const good = await newGood(data.store, world.clock.now());
    const [buyer] = await newBuyers(data.db, 1);
    await ordersOf(world, good, [buyer!]);
    const { run } = reconcilerOf(world, [good], { noteKeepMs: 3_600_000 });
    expect(await world.cache.requestNotesComplete()).toBe(false);
    expect((await run()).notesRefilled).toBeGreaterThanOrEqual(1);
    expect(await world.cache.requestNotesComplete()).toBe(true);
    const [decided] = await data.store.decidedRequestsSince(new Date(world.clock.now().getTime() - 1));
    expect(await world.cache.requestsOf(decided!.uuid, 3_600_000)).toEqual([decided]);
    expect((await run()).notesRefilled).toBe(0);
  });
});

describe('reconciler, overdue orders', () => {
  it('an UNPAID order past its deadline whose timeout message was lost → TIMEOUT, unit back in database and cache; paid and not-yet-due orders untouched', async () => {
    const world = newWorld(data.store);
    const good = await newGood(data.store, world.clock.now(), { stock: 5 });
    const [late, payer, recent] = await newBuyers(data.db, 3);
    const [lateOrder, paidOrder] = await ordersOf(world, good, [late!, payer!]);
    await data.store.applyTransition([paidOrder!], PAY, world.clock.now());
    world.clock.advance(PAY_TIMEOUT_MS / 2);
    const [recentOrder] = await ordersOf(world, good, [recent!]);
    world.clock.advance(PAY_TIMEOUT_MS / 2);
    world.bus.sent.stockAgain.length = 0;

    expect(await reconcilerOf(world, [good]).run()).toMatchObject({ timedOut: 1, alerts: 0 });
    expect([await statusOf(lateOrder!), await statusOf(paidOrder!), await statusOf(recentOrder!)]).toEqual(['TIMEOUT', 'PAID', 'UNPAID']);
    expect(await stockOf(good)).toBe(3);
    expect((await world.cache.read(good.id)).preStock).toBe(3);
    expect(world.bus.sent.stockAgain.flat()).toContain(good.id);
    expect(await world.cache.reserve(good.id, late!, newUuid(), 0)).toMatchObject({ kind: 'RESERVED' });
  });

  it('overdue orders are closed a page at a time until none is left', async () => {
    const world = newWorld(data.store);
    const good = await newGood(data.store, world.clock.now(), { stock: 5 });
    const orders = await ordersOf(world, good, await newBuyers(data.db, 5));
    world.clock.advance(PAY_TIMEOUT_MS);
    expect(await reconcilerOf(world, [good], { pageSize: 2 }).run()).toMatchObject({ timedOut: 5 });
    for (const orderNo of orders) expect(await statusOf(orderNo)).toBe('TIMEOUT');
    expect(await stockOf(good)).toBe(5);
  });
});

describe('reconciler, reservations', () => {
  it('a reservation older than the grace period with no result → FAIL EXPIRED in the database, then its unit back and the result published; a younger one is left alone', async () => {
    const world = newWorld(data.store);
    const good = await newGood(data.store, world.clock.now(), { stock: 5 });
    await loadGood(world, good);
    const [lost, young] = await newBuyers(data.db, 2);
    const [lostMessage] = await reserve(world, good.id, [lost!]);
    world.clock.advance(GRACE_MS + 1);
    const [youngMessage] = await reserve(world, good.id, [young!]);

    expect(await reconcilerOf(world, [good]).run()).toMatchObject({ reservationsExpired: 1, reservationsReleased: 1, reservationsSettled: 0 });
    expect(await data.store.getResult(lostMessage!.uuid)).toMatchObject({ status: 'FAIL', reason: 'EXPIRED', userId: lost });
    expect(world.bus.sent.results.flat()).toEqual([expect.objectContaining({ uuid: lostMessage!.uuid, status: 'FAIL', reason: 'EXPIRED' })]);
    expect(world.bus.sent.stockAgain).toContainEqual([good.id]);
    expect(await world.cache.read(good.id)).toEqual({ preStock: 4, inFlight: 1 });
    expect(await world.cache.reservationOf(good.id, youngMessage!.uuid)).not.toBeNull();

    // The lost message turning up late can no longer make an order.
    const late = await createOrders({ ...world, payTimeoutMs: PAY_TIMEOUT_MS }, [lostMessage!]);
    expect(late.results).toEqual([expect.objectContaining({ status: 'FAIL', reason: 'EXPIRED' })]);
    expect(await stockOf(good)).toBe(5);
  });

  it('a reservation whose order was made but never settled in the cache → settled: the unit stays taken, the buyer remembered', async () => {
    const world = newWorld(data.store);
    const good = await newGood(data.store, world.clock.now(), { stock: 5 });
    await loadGood(world, good);
    const [buyer] = await newBuyers(data.db, 1);
    const messages = await reserve(world, good.id, [buyer!]);
    await createOrders({ ...world, cache: failingCache(world.cache, ['settle', 'release']), payTimeoutMs: PAY_TIMEOUT_MS }, messages);
    expect(await world.cache.read(good.id)).toEqual({ preStock: 4, inFlight: 1 });
    world.clock.advance(GRACE_MS);

    expect(await reconcilerOf(world, [good]).run()).toMatchObject({ reservationsSettled: 1, reservationsReleased: 0, reservationsExpired: 0 });
    expect(await world.cache.read(good.id)).toEqual({ preStock: 4, inFlight: 0 });
    expect(await world.cache.reserve(good.id, buyer!, newUuid(), 0)).toEqual({ kind: 'DUPLICATE' });
  });

  it('a reservation whose request the worker decided FAIL but could not release → released, and not published again', async () => {
    const world = newWorld(data.store);
    const good = await newGood(data.store, world.clock.now(), { stock: 5 });
    await loadGood(world, good);
    const [failed, young] = await newBuyers(data.db, 2);
    const [message] = await reserve(world, good.id, [failed!]);
    await data.store.decideFail(message!, 'SOLD_OUT');
    world.clock.advance(GRACE_MS);
    await reserve(world, good.id, [young!]);

    expect(await reconcilerOf(world, [good]).run()).toMatchObject({ reservationsReleased: 1, reservationsExpired: 0 });
    expect(await world.cache.read(good.id)).toEqual({ preStock: 4, inFlight: 1 });
    expect(world.bus.sent.results.flat()).toEqual([]);
  });

  it('a uuid sent again after its order was closed, whose message was lost → its unit is released, not settled: the buyer may buy again', async () => {
    const world = newWorld(data.store);
    const good = await newGood(data.store, world.clock.now(), { stock: 5 });
    await loadGood(world, good);
    const [buyer, young] = await newBuyers(data.db, 2);
    const messages = await reserve(world, good.id, [buyer!]);
    const [made] = (await createOrders({ ...world, payTimeoutMs: PAY_TIMEOUT_MS }, messages)).results;
    await closeOrders(world, [made!.orderNo!], 'CANCELLED');
    expect(await world.cache.reserve(good.id, buyer!, messages[0]!.uuid, world.clock.now().getTime())).toMatchObject({ kind: 'RESERVED' });
    world.clock.advance(GRACE_MS);
    await reserve(world, good.id, [young!]); // in flight: the pre-stock reset of step 3 cannot hide a wrong decision

    expect(await reconcilerOf(world, [good]).run()).toMatchObject({ reservationsReleased: 1, reservationsSettled: 0 });
    expect(await world.cache.read(good.id)).toEqual({ preStock: 4, inFlight: 1 });
    expect(await world.cache.reserve(good.id, buyer!, newUuid(), 0)).toMatchObject({ kind: 'RESERVED' });
  });

  it("a reservation under a uuid whose order is another buyer's → released, not settled", async () => {
    const world = newWorld(data.store);
    const good = await newGood(data.store, world.clock.now(), { stock: 5 });
    await loadGood(world, good);
    const [first, reuser, young] = await newBuyers(data.db, 3);
    const messages = await reserve(world, good.id, [first!]);
    await createOrders({ ...world, payTimeoutMs: PAY_TIMEOUT_MS }, messages);
    expect(await world.cache.reserve(good.id, reuser!, messages[0]!.uuid, world.clock.now().getTime())).toMatchObject({ kind: 'RESERVED' });
    world.clock.advance(GRACE_MS);
    await reserve(world, good.id, [young!]);

    expect(await reconcilerOf(world, [good]).run()).toMatchObject({ reservationsReleased: 1, reservationsSettled: 0 });
    expect(await world.cache.read(good.id)).toEqual({ preStock: 3, inFlight: 1 });
    expect(await world.cache.reserve(good.id, reuser!, newUuid(), 0)).toMatchObject({ kind: 'RESERVED' });
  });
});

describe('reconciler, pre-stock', () => {
  it('pre-stock that drifted from the database with nothing in flight → reset to the database stock and live buyers, stock-again broadcast', async () => {
    const world = newWorld(data.store);
    const good = await newGood(data.store, world.clock.now(), { stock: 5 });
    const [holder] = await newBuyers(data.db, 1);
    await ordersOf(world, good, [holder!]);
    await world.cache.load(good.id, 2, [], { onlyIfMissing: false });
    world.bus.sent.stockAgain.length = 0;

    expect(await reconcilerOf(world, [good]).run()).toMatchObject({ stockResynced: 1 });
    expect(await world.cache.read(good.id)).toEqual({ preStock: 4, inFlight: 0 });
    expect(await world.cache.reserve(good.id, holder!, newUuid(), 0)).toEqual({ kind: 'DUPLICATE' });
    expect(world.bus.sent.stockAgain).toEqual([[good.id]]);
  });

  it('a good the cache does not hold is loaded from the database', async () => {
    const world = newWorld(data.store);
    const good = await newGood(data.store, world.clock.now(), { stock: 7 });
    expect(await reconcilerOf(world, [good]).run()).toMatchObject({ stockResynced: 1 });
    expect(await world.cache.read(good.id)).toEqual({ preStock: 7, inFlight: 0 });
  });

  it('while a reservation is in flight, pre-stock is left alone (no reset is even tried)', async () => {
    const world = newWorld(data.store);
    const good = await newGood(data.store, world.clock.now(), { stock: 5 });
    await world.cache.load(good.id, 3, [], { onlyIfMissing: false });
    await reserve(world, good.id, await newBuyers(data.db, 1));
    const cache = failingCache(world.cache, ['load']);
    expect(await reconcilerOf(world, [good], { cache }).run()).toMatchObject({ stockResynced: 0, alerts: 0 });
    expect(await world.cache.read(good.id)).toEqual({ preStock: 2, inFlight: 1 });
  });

  it('a reservation landing between the read and the reset → the compare-and-set refuses the reset', async () => {
    const world = newWorld(data.store);
    const good = await newGood(data.store, world.clock.now(), { stock: 5 });
    await world.cache.load(good.id, 3, [], { onlyIfMissing: false });
    const [buyer] = await newBuyers(data.db, 1);
    const cache: StockCache = {
      ...world.cache,
      async read(id) {
        const seen = await world.cache.read(id);
        await world.cache.reserve(good.id, buyer!, newUuid(), world.clock.now().getTime());
        return seen;
      },
    };
    expect(await reconcilerOf(world, [good], { cache }).run()).toMatchObject({ stockResynced: 0 });
    expect(await world.cache.read(good.id)).toEqual({ preStock: 2, inFlight: 1 });
  });
});

describe('reconciler, repairs it cannot make', () => {
  it('a cache that is down → every repair that needs it is alerted, the run finishes, and the database-side repairs still happen', async () => {
    const world = newWorld(data.store);
    const good = await newGood(data.store, world.clock.now(), { stock: 5 });
    const [overdue, lost] = await newBuyers(data.db, 2);
    const [orderNo] = await ordersOf(world, good, [overdue!]);
    await reserve(world, good.id, [lost!]);
    world.clock.advance(PAY_TIMEOUT_MS);
    const down = failingCache(world.cache, ['reserve', 'release', 'settle', 'restock', 'load', 'read', 'readStocks', 'reservations', 'reservationOf', 'ping']);

    const report = await reconcilerOf(world, [good], { cache: down }).run();

    expect(report).toMatchObject({ timedOut: 1 });
    expect(report.alerts).toBeGreaterThan(0);
    expect(await statusOf(orderNo!)).toBe('TIMEOUT');
    expect(await stockOf(good)).toBe(5);
    const kinds = (await world.bus.takeAlerts(100)).map((a) => a.kind).sort();
    expect(kinds).toEqual(['CACHE_RESTOCK_FAILED', 'RESERVATION_REPAIR_FAILED', 'STOCK_RESYNC_FAILED']);
  });

  it('a reservation whose result cannot be read is alerted; the other stale reservations of the good are still repaired', async () => {
    const world = newWorld(data.store);
    const good = await newGood(data.store, world.clock.now(), { stock: 5 });
    await loadGood(world, good);
    const [bad, fine] = await newBuyers(data.db, 2);
    const [badMessage, fineMessage] = await reserve(world, good.id, [bad!, fine!]);
    world.clock.advance(GRACE_MS);
    const store = scopedStore([good]);
    const flaky: OrderStore = { ...store, getResult: (uuid) => (uuid === badMessage!.uuid ? Promise.reject(new Error('db hiccup')) : store.getResult(uuid)) };

    const report = await reconcilerOf(world, [good], { store: flaky }).run();

    expect(report).toMatchObject({ reservationsExpired: 1, reservationsReleased: 1, alerts: 1 });
    expect(await data.store.getResult(fineMessage!.uuid)).toMatchObject({ reason: 'EXPIRED' });
    expect(await world.cache.reservationOf(good.id, badMessage!.uuid)).not.toBeNull();
    expect(await world.bus.takeAlerts(10)).toEqual([expect.objectContaining({ kind: 'RESERVATION_REPAIR_FAILED', uuid: badMessage!.uuid })]);
  });
});
