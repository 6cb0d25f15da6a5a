import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulatedPaymentProvider } from '../adapters/payment/simulated-payment-provider.ts';
import { PAY_TIMEOUT_MS, inProcessDatabase, newBuyers, newGood, newWorld, ordersOf, type InProcessDb } from '../../test/support/in-process.ts';
import { closeOrders } from './close-orders.ts';
import { payOrder, type PayOrderDeps } from './payments.ts';
import { withPaymentHooks } from '../adapters/payment/payment-hooks.fixture.ts';

let data: InProcessDb;
beforeAll(async () => {
  data = await inProcessDatabase();
});
afterAll(() => data.close());

const FAR_FUTURE = new Date('2100-01-01T00:00:00.000Z');

/** A buyer with one UNPAID order, and the deps to pay it. */
async function unpaidOrder(opts: { stock?: number } = {}) {
  const world = newWorld(data.store);
  const good = await newGood(data.store, world.clock.now(), { stock: opts.stock ?? 2, seckillPrice: 990 });
  const [buyer] = await newBuyers(data.db, 1);
  const [orderNo] = await ordersOf(world, good, [buyer!]);
  const payments = withPaymentHooks(createSimulatedPaymentProvider({ now: () => world.clock.now() }));
  const deps: PayOrderDeps = { ...world, payments, chargeTimeoutMs: 10_000 };
  const openIntents = async () => (await data.store.openPaymentIntents(FAR_FUTURE, 10_000)).filter((i) => i.orderNo === orderNo);
  return { world, good, buyer: buyer!, orderNo: orderNo!, payments, deps, openIntents };
}

describe('paying an order', () => {
  it('pays: the intent is opened before the charge and settled after it; the order reads PAID', async () => {
    const { deps, payments, buyer, orderNo, openIntents } = await unpaidOrder();
    let openDuringCharge: unknown[] = [];
    payments.beforeCharge = async () => {
      openDuringCharge = await openIntents();
    };
    const paid = await payOrder(deps, { userId: buyer, orderNo });
    expect(paid).toMatchObject({ orderNo, status: 'PAID' });
    expect(openDuringCharge).toEqual([{ orderNo, amount: 990, idempotencyKey: `charge:${orderNo}`, attempt: 1, chargeBy: new Date(deps.clock.now().getTime() + 10_000) }]);
    expect(await openIntents()).toEqual([]);
    expect(await payments.totals()).toEqual({ charged: 990, refunded: 0, charges: 1, refunds: 0 });
  });

  it('paying twice, or twice at once, charges once', async () => {
    const { deps, payments, buyer, orderNo } = await unpaidOrder();
    const [x, y] = await Promise.all([payOrder(deps, { userId: buyer, orderNo }), payOrder(deps, { userId: buyer, orderNo })]);
    expect([x.status, y.status]).toEqual(['PAID', 'PAID']);
    expect((await payOrder(deps, { userId: buyer, orderNo })).status).toBe('PAID');
    expect(await payments.totals()).toMatchObject({ charged: 990, charges: 1, refunds: 0 });
  });

  it('a charge that loses the race with the pay timeout → 409 ORDER_CLOSED refunded: true; the order reads REFUNDED and its unit is back once', async () => {
    const { world, deps, payments, buyer, orderNo, good, openIntents } = await unpaidOrder({ stock: 2 });
    payments.beforeCharge = async () => {
      world.clock.advance(PAY_TIMEOUT_MS);
      await closeOrders(world, [orderNo], 'TIMEOUT', { onlyDueBy: world.clock.now() });
    };
    await expect(payOrder(deps, { userId: buyer, orderNo })).rejects.toMatchObject({ code: 'ORDER_CLOSED', details: { refunded: true, status: 'REFUNDED' } });
    expect((await data.store.getOrder(orderNo))!.status).toBe('REFUNDED');
    expect(await payments.totals()).toEqual({ charged: 990, refunded: 990, charges: 1, refunds: 1 });
    expect(await openIntents()).toEqual([]);
    expect((await data.store.getGood(good.id))!.stock).toBe(2);
    expect((await world.cache.read(good.id)).preStock).toBe(2);
    const rows = await data.db.query<{ kind: string; amount_cents: number }>('SELECT kind, amount_cents FROM payments WHERE order_no = $1 ORDER BY kind', [orderNo]);
    expect(rows).toEqual([{ kind: 'CHARGE', amount_cents: 990 }, { kind: 'REFUND', amount_cents: 990 }]);
  });

  it('an order already closed is not charged: 409 ORDER_CLOSED refunded: false, no intent', async () => {
    const { world, deps, payments, buyer, orderNo, openIntents } = await unpaidOrder();
    world.clock.advance(PAY_TIMEOUT_MS);
    await closeOrders(world, [orderNo], 'TIMEOUT', { onlyDueBy: world.clock.now() });
    await expect(payOrder(deps, { userId: buyer, orderNo })).rejects.toMatchObject({ code: 'ORDER_CLOSED', details: { refunded: false, status: 'TIMEOUT' } });
    expect(await payments.totals()).toMatchObject({ charges: 0, refunds: 0 });
    expect(await openIntents()).toEqual([]);
  });

  it('a pay after the deadline whose timeout has not come yet → not charged, 409 ORDER_CLOSED refunded: false; the order closes at once, unit back', async () => {
    const { world, deps, payments, buyer, orderNo, good, openIntents } = await unpaidOrder({ stock: 2 });
    world.clock.advance(PAY_TIMEOUT_MS - 1);
    expect((await data.store.getOrder(orderNo))!.status).toBe('UNPAID');
    world.clock.advance(1);
    await expect(payOrder(deps, { userId: buyer, orderNo })).rejects.toMatchObject({ code: 'ORDER_CLOSED', details: { refunded: false, status: 'TIMEOUT' } });
    expect(await payments.totals()).toMatchObject({ charges: 0, refunds: 0 });
    expect(await openIntents()).toEqual([]);
    expect((await data.store.getGood(good.id))!.stock).toBe(2);
    expect((await world.cache.read(good.id)).preStock).toBe(2);
    // The timeout message that comes later finds nothing to do.
    expect(await closeOrders(world, [orderNo], 'TIMEOUT', { onlyDueBy: world.clock.now() })).toEqual([]);
  });

  it('a pay one millisecond before the deadline is taken', async () => {
    const { world, deps, buyer, orderNo } = await unpaidOrder();
    world.clock.advance(PAY_TIMEOUT_MS - 1);
    expect((await payOrder(deps, { userId: buyer, orderNo })).status).toBe('PAID');
  });

  it("another buyer's order answers NOT_FOUND and is not charged", async () => {
    const { deps, payments, orderNo } = await unpaidOrder();
    const [stranger] = await newBuyers(data.db, 1);
    await expect(payOrder(deps, { userId: stranger!, orderNo })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await payments.totals()).toMatchObject({ charges: 0 });
    expect((await data.store.getOrder(orderNo))!.status).toBe('UNPAID');
  });
});
