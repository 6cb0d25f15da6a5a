/**
 * What an admin does to a sale once it exists: edit it, pause and resume it, put more units on sale.
 *
 * Every change is written to the database first (the truth, which a process starting later reads), then
 * applied to this process's catalog and broadcast whole to every api process, which applies it with no I/O
 * (the hot path reads only its catalog). A revision on each sale lets a process that hears of two changes
 * out of order keep the newer.
 *
 * Prices, names and the start may change only before the start: no buyer can have pressed yet, so no order
 * can carry a price other than the one its buyer saw (an order also keeps the price it was made at). The
 * end may change at any time; an end at or before now ends the sale now.
 */
import { SeckillError } from './errors.ts';
import type { SaleEdit, SeckillGood } from './model.ts';
import type { OrderBus } from './ports/order-bus.ts';
import type { OrderStore } from './ports/order-store.ts';
import type { StockCache } from './ports/stock-cache.ts';
import type { Clock } from './ports/timers.ts';
import { saleStats, saleWindow, type GoodsCatalog, type PublicGood, type SaleStats } from './sales.ts';
import { loadGoodIntoCache } from './stock-sync.ts';
import type { GoodsView } from './goods-view.ts';

export interface SaleOperationsDeps {
  store: Pick<OrderStore, 'getGood' | 'editGood' | 'setPaused' | 'addStock' | 'liveBuyers' | 'stats'>;
  cache: Pick<StockCache, 'addUnits' | 'load' | 'read' | 'readStocks'>;
  bus: Pick<OrderBus, 'broadcastSalesChanged' | 'broadcastStockAgain' | 'raiseAlert'>;
  catalog: Pick<GoodsCatalog, 'apply'>;
  /** This process's short-lived copy of the goods pages: a change made here shows at once. */
  view?: Pick<GoodsView, 'invalidate'>;
  clock: Clock;
}

const notFound = (id: number) => new SeckillError('NOT_FOUND', `No seckill good ${id}.`);
const invalid = (field: string, message: string) => new SeckillError('INVALID_INPUT', message, { details: { fields: [field] } });

export async function editSale(deps: SaleOperationsDeps, id: number, edit: SaleEdit): Promise<PublicGood> {
  const good = await deps.store.getGood(id);
  if (!good) throw notFound(id);
  const now = deps.clock.now();
  const patch: SaleEdit = { ...edit };
  const beforeStartOnly = Object.keys(edit).some((field) => field !== 'endAt');
  if (beforeStartOnly) refuseOnceStarted(good, now);

  if (patch.endAt && patch.endAt <= now) {
    // Ending now: the stored end is the moment it ended. A sale that had not started yet ends unstarted.
    patch.endAt = now;
    if ((patch.startAt ?? good.startAt) >= now) patch.startAt = new Date(now.getTime() - 1);
  }
  const startAt = patch.startAt ?? good.startAt;
  const endAt = patch.endAt ?? good.endAt;
  if (endAt <= startAt) throw invalid('endAt', 'endAt must be after startAt.');
  if ((patch.seckillPrice ?? good.seckillPrice) > (patch.price ?? good.price)) throw invalid('seckillPrice', 'seckillPrice may not exceed price.');

  // The start may pass between the read above and this write: the write itself checks it again.
  const guarded = beforeStartOnly || patch.startAt !== undefined;
  const edited = await deps.store.editGood(id, patch, guarded ? { onlyBefore: now } : {});
  if (!edited) {
    const latest = await deps.store.getGood(id);
    if (!latest) throw notFound(id);
    refuseOnceStarted(latest, deps.clock.now());
    throw new SeckillError('ALREADY_STARTED', 'The sale started while it was being edited.');
  }
  await announce(deps, edited);
  return withPreStock(deps, edited);
}

/** Pause (buyers hear PAUSED on every api process) or resume; reservations already accepted still become orders. */
export async function setSalePaused(deps: SaleOperationsDeps, id: number, paused: boolean): Promise<PublicGood> {
  const good = await deps.store.setPaused(id, paused);
  if (!good) throw notFound(id);
  await announce(deps, good);
  return withPreStock(deps, good);
}

/**
 * Put `units` more on sale: the database first (stock and initial stock + units), then the cache's pre-stock,
 * then the sold-out signs everywhere. The database step is the restock; a cache step that fails or never runs
 * (a crash between the two) leaves pre-stock short by `units`, never over: buyers can only be refused too
 * early, never sold a unit the database lacks, and the reconciler's stock sync sets pre-stock to the
 * database's at the sale's next rest. So a cache failure is reported as done in the database, not to retry.
 */
export async function restockSale(deps: SaleOperationsDeps, id: number, units: number): Promise<SaleStats> {
  const good = await deps.store.addStock(id, units, { endsAfter: deps.clock.now() });
  if (!good) {
    if (!(await deps.store.getGood(id))) throw notFound(id);
    throw new SeckillError('ENDED', 'The sale has ended; ended sales take no more units.');
  }
  deps.view?.invalidate();
  try {
    // A good not in the cache reads its stock from the database when it is loaded, units included.
    if (!(await deps.cache.addUnits(id, units))) await loadGoodIntoCache(deps, id, { onlyIfMissing: true });
  } catch (err) {
    await deps.bus
      .raiseAlert({ kind: 'RESTOCK_CACHE_BEHIND', message: `${units} units restocked in the database; the cache gets them at the next stock sync.`, seckillGoodId: id, at: deps.clock.now().toISOString() })
      .catch(() => undefined);
    throw new SeckillError('UNAVAILABLE', 'The units are on sale in the database; the stock cache takes them at its next sync. Do not restock again.', {
      details: { databaseRestocked: true, units },
      cause: err,
    });
  }
  // A lost broadcast costs little: every sold-out sign expires within a second by itself.
  await deps.bus.broadcastStockAgain([id]).catch(() => undefined);
  return saleStats(deps, id);
}

function refuseOnceStarted(good: SeckillGood, now: Date): void {
  const window = saleWindow(good, now);
  if (window === 'ENDED') throw new SeckillError('ENDED', 'The sale has ended; only its end may change.');
  if (window === 'OPEN') throw new SeckillError('ALREADY_STARTED', 'The sale has started; only its end may change (or pause it).');
}

async function announce(deps: SaleOperationsDeps, good: SeckillGood): Promise<void> {
  deps.catalog.apply([good]);
  deps.view?.invalidate();
  // The database holds the change, so a failed broadcast is answered UNAVAILABLE and the same request is safe
  // to send again; meanwhile the other processes read it at their next refresh of the goods list.
  await deps.bus.broadcastSalesChanged([good]);
}

async function withPreStock(deps: SaleOperationsDeps, good: SeckillGood): Promise<PublicGood> {
  const preStock = (await deps.cache.readStocks([good.id])).get(good.id);
  return { ...good, stock: preStock ?? good.stock };
}
