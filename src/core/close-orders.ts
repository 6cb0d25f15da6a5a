/**
 * Closing orders (pay timeout or cancel): one transaction moves each still-UNPAID order to its closed
 * state and gives its units back to the database stock (one statement per good). After the commit, and
 * only for the orders this call closed (so a duplicate timeout message changes nothing): per good, one
 * cache call returns the units and forgets the buyers (they may buy again), then one message tells every
 * api process which goods have stock again.
 */
import { groupBy } from './group-by.ts';
import { CANCEL, TIMEOUT } from './order-lifecycle.ts';
import type { OrderBus } from './ports/order-bus.ts';
import type { OrderStore } from './ports/order-store.ts';
import type { StockCache } from './ports/stock-cache.ts';
import type { Clock } from './ports/timers.ts';
import type { Order } from './model.ts';

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
  await returnUnitsToCache(deps, closed, now);
  return closed;
}

/**
 * After the commit that gave these orders' units back to the database stock: per good, one cache call returns
 * the units and forgets the buyers (they may buy again), then one message tells every api process which goods
 * have stock again. A cache that fails is alerted: the reconciler resyncs that good from the database.
 */
export async function returnUnitsToCache(deps: Omit<CloseOrdersDeps, 'store'>, closed: readonly Order[], now: Date): Promise<void> {
  // One cache call per good for all the orders closed here.
  const goods: number[] = [];
  await Promise.all(
    [...groupBy(closed, (o) => o.seckillGoodId)].map(async ([goodId, orders]) => {
      try {
        await deps.cache.restock(goodId, orders.map((o) => o.userId));
        goods.push(goodId);
      } catch (cause) {
        // The database has the units back; the cache will get them when the reconciler resyncs this good.
        await deps.bus.raiseAlert({
          kind: 'CACHE_RESTOCK_FAILED',
          message: `Could not return the units of ${orders.length} closed order(s) to the cache: ${String(cause)}`,
          seckillGoodId: goodId,
          details: { orderNos: orders.slice(0, 20).map((o) => o.orderNo) },
          at: now.toISOString(),
        });
      }
    }),
  );
  await deps.bus.broadcastStockAgain(goods);
}
