/**
 * Closing orders (pay timeout or cancel): one transaction moves each still-UNPAID order to its closed
 * state and gives its unit back to the database stock. After the commit, and only for the orders this
 * call closed (so a duplicate timeout message changes nothing): cache pre-stock + 1 and forget the
 * buyer (they may buy again), then tell every api process the good has stock again.
 */
import { CANCEL, TIMEOUT } from './order-lifecycle.ts';
import type { Clock, Order, OrderBus, OrderStore, StockCache } from './ports.ts';

export interface CloseOrdersDeps {
  store: Pick<OrderStore, 'applyTransition'>;
  cache: Pick<StockCache, 'restock'>;
  bus: Pick<OrderBus, 'broadcastStockAgain' | 'raiseAlert'>;
  clock: Clock;
}

export async function closeOrders(deps: CloseOrdersDeps, orderNos: readonly string[], as: 'TIMEOUT' | 'CANCELLED'): Promise<Order[]> {
  const now = deps.clock.now();
  const closed = await deps.store.applyTransition(orderNos, as === 'TIMEOUT' ? TIMEOUT : CANCEL, now);
  const goods = new Set<number>();
  await Promise.all(
    closed.map(async (order) => {
      try {
        await deps.cache.restock(order.seckillGoodId, order.userId);
        goods.add(order.seckillGoodId);
      } catch (cause) {
        // The database has the unit back; the cache will get it when the reconciler resyncs this good.
        await deps.bus.raiseAlert({
          kind: 'CACHE_RESTOCK_FAILED',
          message: `Could not return the unit of a closed order to the cache: ${String(cause)}`,
          seckillGoodId: order.seckillGoodId,
          orderNo: order.orderNo,
          at: now.toISOString(),
        });
      }
    }),
  );
  await Promise.all([...goods].map((id) => deps.bus.broadcastStockAgain(id)));
  return closed;
}
