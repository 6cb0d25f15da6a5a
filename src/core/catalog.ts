/**
 * The hot path's view of the goods (sale windows), kept in process memory so that a burst of
 * requests costs no database reads. The whole list refreshes after `ttlMs`, or sooner (at most once
 * a second) when an unknown id is asked for, so a flood of bad ids cannot reach the database.
 */
import type { Clock, OrderStore, SeckillGood } from './ports.ts';

export interface GoodsCatalog {
  get(seckillGoodId: number): Promise<SeckillGood | null>;
  list(): Promise<SeckillGood[]>;
  /** Drop what is known, e.g. after an admin created a sale. */
  invalidate(): void;
}

export function createGoodsCatalog(store: Pick<OrderStore, 'listGoods'>, clock: Clock, ttlMs = 5000): GoodsCatalog {
  let goods = new Map<number, SeckillGood>();
  let loadedAt = -Infinity;
  let loading: Promise<void> | null = null;

  function refresh(): Promise<void> {
    loading ??= store
      .listGoods()
      .then((list) => {
        goods = new Map(list.map((g) => [g.id, g]));
        loadedAt = clock.now().getTime();
      })
      .finally(() => {
        loading = null;
      });
    return loading;
  }

  async function fresh(maxAgeMs: number): Promise<void> {
    const age = clock.now().getTime() - loadedAt;
    if (age <= maxAgeMs) return;
    if (age === Infinity) return refresh();
    // A stale list still answers while one refresh is under way; a failed refresh retries next time.
    refresh().catch(() => undefined);
  }

  return {
    async get(id) {
      await fresh(ttlMs);
      if (!goods.has(id) && clock.now().getTime() - loadedAt > 1000) await refresh();
      return goods.get(id) ?? null;
    },
    async list() {
      await fresh(ttlMs);
      return [...goods.values()];
    },
    invalidate() {
      loadedAt = -Infinity;
    },
  };
}

export type SaleWindow = 'NOT_STARTED' | 'OPEN' | 'ENDED';

export function saleWindow(good: Pick<SeckillGood, 'startAt' | 'endAt'>, now: Date): SaleWindow {
  if (now < good.startAt) return 'NOT_STARTED';
  if (now >= good.endAt) return 'ENDED';
  return 'OPEN';
}
