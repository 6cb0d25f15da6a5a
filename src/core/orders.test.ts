import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inProcessDatabase, newBuyers, newGood, newWorld, ordersOf, type InProcessDb } from '../../test/support/in-process.ts';
import { cancelOrder, myOrders, ownOrder } from './orders.ts';
import { payOrder } from './payments.ts';
import { createSimulatedPaymentProvider } from '../adapters/payment/simulated-payment-provider.ts';

let data: InProcessDb;
beforeAll(async () => {
  data = await inProcessDatabase();
});
afterAll(() => data.close());

/** A buyer with one UNPAID order, and the deps to act on it. */
async function unpaidOrder(opts: { stock?: number } = {}) {
  const world = newWorld(data.store);
  const good = await newGood(data.store, world.clock.now(), { stock: opts.stock ?? 2, seckillPrice: 990 });
  const [buyer] = await newBuyers(data.db, 1);
  const [orderNo] = await ordersOf(world, good, [buyer!]);
  const deps = { ...world, payments: createSimulatedPaymentProvider({ now: () => world.clock.now() }), chargeTimeoutMs: 10_000 };
  return { world, good, buyer: buyer!, orderNo: orderNo!, deps };
}

describe("a buyer's orders", () => {
  it('the owner reads their order; another buyer and an unknown number get NOT_FOUND alike', async () => {
    const { deps, buyer, orderNo } = await unpaidOrder();
    const [stranger] = await newBuyers(data.db, 1);
    expect(await ownOrder(deps, buyer, orderNo)).toMatchObject({ orderNo, userId: buyer, status: 'UNPAID' });
    await expect(ownOrder(deps, stranger!, orderNo)).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'No such order.' });
    await expect(ownOrder(deps, buyer, 'NO-SUCH-ORDER')).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'No such order.' });
  });

  it('my orders: only this buyer’s, newest first', async () => {
    const world = newWorld(data.store);
    const [buyer, other] = await newBuyers(data.db, 2);
    const first = await newGood(data.store, world.clock.now());
    const [a] = await ordersOf(world, first, [buyer!]);
    world.clock.advance(1000);
    const second = await newGood(data.store, world.clock.now());
    const [b] = await ordersOf(world, second, [buyer!]);
    await ordersOf(world, second, [other!]);
    expect((await myOrders(world, buyer!)).map((o) => o.orderNo)).toEqual([b, a]);
  });
});

describe('cancelling an order', () => {
  it('cancels: CANCELLED, the unit back in the database and the cache, the buyer free to buy again', async () => {
    const { world, deps, buyer, orderNo, good } = await unpaidOrder({ stock: 1 });
    expect(await cancelOrder(deps, { userId: buyer, orderNo })).toMatchObject({ orderNo, status: 'CANCELLED' });
    expect((await data.store.getGood(good.id))!.stock).toBe(1);
    expect(await world.cache.reserve(good.id, buyer, 'again-1', 0)).toMatchObject({ kind: 'RESERVED' });
  });

  it('a paid order, or one cancelled already → 409 ORDER_CLOSED, nothing returned to stock', async () => {
    const { deps, buyer, orderNo, good } = await unpaidOrder({ stock: 1 });
    await payOrder(deps, { userId: buyer, orderNo });
    await expect(cancelOrder(deps, { userId: buyer, orderNo })).rejects.toMatchObject({ code: 'ORDER_CLOSED', details: { status: 'PAID' } });
    const other = await unpaidOrder({ stock: 1 });
    await cancelOrder(other.deps, { userId: other.buyer, orderNo: other.orderNo });
    await expect(cancelOrder(other.deps, { userId: other.buyer, orderNo: other.orderNo })).rejects.toMatchObject({ code: 'ORDER_CLOSED' });
    expect((await data.store.getGood(good.id))!.stock).toBe(0);
    expect((await data.store.getGood(other.good.id))!.stock).toBe(1);
  });

  it("another buyer's order → NOT_FOUND, the order stays UNPAID", async () => {
    const { deps, orderNo } = await unpaidOrder();
    const [stranger] = await newBuyers(data.db, 1);
    await expect(cancelOrder(deps, { userId: stranger!, orderNo })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await data.store.getOrder(orderNo))!.status).toBe('UNPAID');
  });
});
