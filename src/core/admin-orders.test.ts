import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulatedPaymentProvider } from '../adapters/payment/simulated-payment-provider.ts';
import { createSqlAuditLog } from '../adapters/audit-log/sql-audit-log.ts';
import { createMemoryOrderBus } from '../adapters/order-bus/memory-order-bus.ts';
import { createSqlOrderSearch } from '../adapters/order-store/sql-order-search.ts';
import { inProcessDatabase, newBuyers, newGood, newWorld, ordersOf, type InProcessDb } from '../../test/support/in-process.ts';
import { refundOrder, searchOrders } from './admin-orders.ts';
import { replayDeadOrders } from './audit.ts';
import { payOrder } from './payments.ts';

let data: InProcessDb;
let adminId: number;
beforeAll(async () => {
  data = await inProcessDatabase();
  [adminId] = (await newBuyers(data.db, 1)) as [number];
});
afterAll(() => data.close());

/** A buyer's PAID order on a sale running an hour either side of the world's clock, and the deps to refund it. */
async function paidOrder(stock = 2) {
  const world = newWorld(data.store);
  const good = await newGood(data.store, world.clock.now(), { stock, seckillPrice: 990 });
  const [buyer] = await newBuyers(data.db, 1);
  const [orderNo] = await ordersOf(world, good, [buyer!]);
  const payments = createSimulatedPaymentProvider();
  await payOrder({ ...world, payments, chargeTimeoutMs: 10_000 }, { userId: buyer!, orderNo: orderNo! });
  return { world, good, buyer: buyer!, orderNo: orderNo!, payments, deps: { ...world, payments, chargeTimeoutMs: 10_000 } };
}
const by = () => ({ adminId, address: '10.1.2.3' });

describe('refunding an order (customer service)', () => {
  it('while the sale runs: REFUNDED, the money back once, the unit back in the database and the cache, the buyer free to buy again', async () => {
    const { world, good, buyer, orderNo, payments, deps } = await paidOrder();
    expect((await world.cache.read(good.id)).preStock).toBe(1);
    const refunded = await refundOrder(deps, { orderNo, by: by() });
    expect(refunded).toMatchObject({ orderNo, status: 'REFUNDED', closedAt: world.clock.now() });
    expect(await payments.totals()).toEqual({ charged: 990, refunded: 990, charges: 1, refunds: 1 });
    expect((await data.store.getGood(good.id))!.stock).toBe(2);
    expect((await world.cache.read(good.id)).preStock).toBe(2);
    expect(world.bus.sent.stockAgain).toContainEqual([good.id]);
    expect((await world.cache.reserve(good.id, buyer, 'again-0001', world.clock.now().getTime())).kind).toBe('RESERVED');
  });

  it('after the sale ended: REFUNDED and the money back, the unit stays sold in both stocks', async () => {
    const { world, good, orderNo, payments, deps } = await paidOrder();
    world.clock.advance(2 * 3_600_000);
    await refundOrder(deps, { orderNo, by: by() });
    expect((await payments.totals()).refunds).toBe(1);
    expect((await data.store.getGood(good.id))!.stock).toBe(1);
    expect((await world.cache.read(good.id)).preStock).toBe(1);
  });

  it('an unpaid, refunded or unknown order → ORDER_CLOSED with its status, or NOT_FOUND; nothing refunded twice', async () => {
    const { world, good, orderNo, payments, deps } = await paidOrder(3);
    const [other] = await newBuyers(data.db, 1);
    const [unpaid] = await ordersOf(world, good, [other!]);
    await expect(refundOrder(deps, { orderNo: unpaid!, by: by() })).rejects.toMatchObject({ code: 'ORDER_CLOSED', details: { status: 'UNPAID' } });
    await refundOrder(deps, { orderNo, by: by() });
    await expect(refundOrder(deps, { orderNo, by: by() })).rejects.toMatchObject({ code: 'ORDER_CLOSED', details: { status: 'REFUNDED' } });
    await expect(refundOrder(deps, { orderNo: 'NOSUCH1', by: by() })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await payments.totals()).refunds).toBe(1);
  });

  it('two refunds at once → one wins; the other is told ORDER_CLOSED; one refund, one unit back', async () => {
    const { good, orderNo, payments, deps } = await paidOrder();
    const outcomes = await Promise.allSettled([refundOrder(deps, { orderNo, by: by() }), refundOrder(deps, { orderNo, by: by() })]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((await payments.totals()).refunds).toBe(1);
    expect((await data.store.getGood(good.id))!.stock).toBe(2);
  });
});

describe('the order search pages', () => {
  it('limit at a time; nextCursor until the last page, then null', async () => {
    const world = newWorld(data.store);
    const good = await newGood(data.store, world.clock.now(), { stock: 5 });
    const made = await ordersOf(world, good, await newBuyers(data.db, 5));
    const search = createSqlOrderSearch(data.db);
    const seen: string[] = [];
    let cursor: string | undefined;
    const sizes: number[] = [];
    for (;;) {
      const page = await searchOrders({ search }, { seckillGoodId: good.id }, { ...(cursor ? { cursor } : {}), limit: 2 });
      sizes.push(page.items.length);
      seen.push(...page.items.map((o) => o.orderNo));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(sizes).toEqual([2, 2, 1]);
    expect(seen.sort()).toEqual([...made].sort());
    // Exactly a page's worth left: the last full page says so, no empty page follows.
    const exact = await searchOrders({ search }, { seckillGoodId: good.id }, { limit: 5 });
    expect([exact.items.length, exact.nextCursor]).toEqual([5, null]);
  });
});

describe('replaying dead orders', () => {
  it('records the replay after it happened, with what it did; a replay that fails (the broker down) records nothing', async () => {
    const audit = createSqlAuditLog(data.db);
    const bus = createMemoryOrderBus();
    expect(await replayDeadOrders({ bus, audit }, 10, by())).toBe(0);
    const [entry] = await audit.list({ limit: 1 });
    expect(entry).toMatchObject({ adminId, action: 'dead-orders.replay', target: 'dead-orders', details: { max: 10, replayed: 0 }, address: '10.1.2.3' });
    const down = { ...bus, replayDeadOrders: () => Promise.reject(new Error('broker down')) };
    await expect(replayDeadOrders({ bus: down, audit }, 10, by())).rejects.toThrow('broker down');
    expect((await audit.list({ limit: 1 }))[0]!.id).toBe(entry!.id);
    await bus.close();
  });
});
