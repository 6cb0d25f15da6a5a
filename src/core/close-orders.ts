/**
 * Closing orders (pay timeout or cancel): one transaction moves each still-UNPAID order to its closed
 * state and gives its units back to the database stock (one statement per good). After the commit, and
 * only for the orders this call closed (so a duplicate timeout message changes nothing): per good, one
 * cache call returns the units and forgets the buyers (they may buy again), then one message tells every
 * api process which goods have stock again.
 */
import { CANCEL, TIMEOUT } from './order-lifecycle.ts';
import type { Clock, Order, OrderBus, OrderStore, StockCache } from './ports.ts';

export interface CloseOrdersDeps {
  store: Pick<OrderStore, 'applyTransition'>;
  cache: Pick<StockCache, 'restock'>;
  bus: Pick<OrderBus, 'broadcastStockAgain' | 'raiseAlert'>;
  clock: Clock;
}

export async function closeOrders(
  deps: CloseOrdersDeps,
  orderNos: readonly string[],
  as: 'TIMEOUT' | 'CANCELLED',
  opts: { onlyDueBy?: Date } = {},
): Promise<Order[]> {
  const now = deps.clock.now();
  const closed = await deps.store.applyTransition(orderNos, as === 'TIMEOUT' ? TIMEOUT : CANCEL, now, opts);
  // One cache call per good for all the orders closed here.
  const buyersByGood = new Map<number, number[]>();
  for (const order of closed) {
    let buyers = buyersByGood.get(order.seckillGoodId);
    if (!buyers) buyersByGood.set(order.seckillGoodId, (buyers = []));
    buyers.push(order.userId);
  }
  const goods: number[] = [];
  await Promise.all(
    [...buyersByGood].map(async ([goodId, buyers]) => {
      try {
        await deps.cache.restock(goodId, buyers);
        goods.push(goodId);
      } catch (cause) {
        // The database has the units back; the cache will get them when the reconciler resyncs this good.
        await deps.bus.raiseAlert({
          kind: 'CACHE_RESTOCK_FAILED',
          message: `Could not return the units of ${buyers.length} closed order(s) to the cache: ${String(cause)}`,
          seckillGoodId: goodId,
          details: { orderNos: closed.filter((o) => o.seckillGoodId === goodId).slice(0, 20).map((o) => o.orderNo) },
          at: now.toISOString(),
        });
      }
    }),
  );
  await deps.bus.broadcastStockAgain(goods);
  return closed;
}
