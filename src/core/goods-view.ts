/**
 * The goods as buyers browse them (the public list and one good's detail), kept in process memory for a
 * short while so that a crowd refreshing the sale page costs one database read per `ttlMs`, not one per
 * request. Only the database facts (name, prices, sale window) are kept: the displayed stock is read from
 * the stock cache on every request, as before, so it stays live.
 *
 * An admin's change in this process invalidates the view at once; other processes see it within `ttlMs`.
 * A read that was under way when the view was invalidated may hold the old facts: its answer serves the
 * callers that were already waiting for it, but it is never kept.
 */
import type { OrderStore } from './ports/order-store.ts';
import type { Clock } from './ports/timers.ts';
import type { SeckillGood } from './model.ts';

export interface GoodsView {
  list(): Promise<SeckillGood[]>;
  /** One good by id, from the same kept list: an unknown id costs no database read either. */
  get(id: number): Promise<SeckillGood | null>;
  /** Forget what is kept (an admin created or edited a sale in this process). */
  invalidate(): void;
}

export function createGoodsView(store: Pick<OrderStore, 'listGoods'>, clock: Clock, ttlMs = 1000): GoodsView {
  let generation = 0;
  let kept: { generation: number; readAt: number; goods: SeckillGood[] } | null = null;
  let reading: { generation: number; done: Promise<SeckillGood[]> } | null = null;

  function read(): Promise<SeckillGood[]> {
    const asOf = generation;
    const readAt = clock.now().getTime();
    const done = store.listGoods().then((goods) => {
      // Aged from when the read started: the database may have changed from then on.
      if (asOf === generation) kept = { generation: asOf, readAt, goods };
      return goods;
    });
    const mine = { generation: asOf, done };
    reading = mine;
    // A failed read is not kept; the next caller tries again.
    done.finally(() => {
      if (reading === mine) reading = null;
    }).catch(() => undefined);
    return done;
  }

  async function goods(): Promise<SeckillGood[]> {
    if (kept && kept.generation === generation && clock.now().getTime() - kept.readAt < ttlMs) return kept.goods;
    // One read at a time per generation: a burst of requests shares it.
    if (reading && reading.generation === generation) return reading.done;
    return read();
  }

  return {
    list: goods,
    async get(id) {
      return (await goods()).find((g) => g.id === id) ?? null;
    },
    invalidate() {
      generation++;
      kept = null;
    },
  };
}
