/** The StockCache contract, part two: loading (plain and compare-and-set), reads, reservationOf, forgetting and cache loss. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { StockCache } from '../../core/ports/stock-cache.ts';
import { GOOD, T0, range } from './stock-cache.fixture.ts';

export function describeStockCacheLoadsAndReads(engine: { cache: () => StockCache }): void {
  let cache: StockCache;
  beforeEach(() => {
    cache = engine.cache();
  });
  const load = (stock: number, buyers: number[] = [], good = GOOD) => cache.load(good, stock, buyers, { onlyIfMissing: false });

  describe('load', () => {
    it('onlyIfMissing on a missing good → written, its buyers known', async () => {
      expect(await cache.load(GOOD, 10, [1, 2], { onlyIfMissing: true })).toBe(true);
      expect(await cache.read(GOOD)).toEqual({ preStock: 10, inFlight: 0 });
      expect(await cache.reserve(GOOD, 2, 'uuid-2', T0)).toEqual({ kind: 'DUPLICATE' });
    });

    it('onlyIfMissing on a loaded good → false, stock, buyers and reservations untouched', async () => {
      await load(10, [1]);
      await cache.reserve(GOOD, 2, 'uuid-2', T0);
      expect(await cache.load(GOOD, 100, [3], { onlyIfMissing: true })).toBe(false);
      expect(await cache.read(GOOD)).toEqual({ preStock: 9, inFlight: 1 });
      expect(await cache.reserve(GOOD, 1, 'uuid-1', T0)).toEqual({ kind: 'DUPLICATE' });
      expect(await cache.reserve(GOOD, 3, 'uuid-3', T0)).toEqual({ kind: 'RESERVED', stockLeft: 8 });
    });

    it('onlyIfMissing by several processes at once → exactly one writes', async () => {
      const written = await Promise.all(
        range(10).map((i) => cache.load(GOOD, 10 * i, [i], { onlyIfMissing: true })),
      );
      expect(written.filter(Boolean)).toHaveLength(1);
      const winner = written.indexOf(true) + 1;
      expect(await cache.read(GOOD)).toEqual({ preStock: 10 * winner, inFlight: 0 });
    });

    it('overwrite → new stock, buyer set replaced, reservations and their buyers kept', async () => {
      await load(10, [1]);
      await cache.reserve(GOOD, 2, 'uuid-2', T0);
      expect(await cache.load(GOOD, 5, [3], { onlyIfMissing: false })).toBe(true);
      expect(await cache.read(GOOD)).toEqual({ preStock: 5, inFlight: 1 });
      expect(await cache.reservations(GOOD)).toEqual([{ uuid: 'uuid-2', userId: 2, at: T0 }]);
      expect(await cache.reserve(GOOD, 2, 'uuid-2b', T0)).toEqual({ kind: 'DUPLICATE' });
      expect(await cache.reserve(GOOD, 3, 'uuid-3', T0)).toEqual({ kind: 'DUPLICATE' });
      expect(await cache.reserve(GOOD, 1, 'uuid-1', T0)).toEqual({ kind: 'RESERVED', stockLeft: 4 });
      // The kept reservation still releases into the new stock.
      expect(await cache.release(GOOD, ['uuid-2'])).toBe(1);
      expect(await cache.read(GOOD)).toEqual({ preStock: 5, inFlight: 1 });
    });

    it('a large buyer list (12,345 buyers) → every one of them is known', async () => {
      const buyers = range(12_345, 1_000_000);
      expect(await cache.load(GOOD, 20_000, buyers, { onlyIfMissing: true })).toBe(true);
      for (const user of [1_000_000, 1_004_999, 1_005_000, 1_010_000, 1_012_344]) {
        expect(await cache.reserve(GOOD, user, `uuid-${user}`, T0)).toEqual({ kind: 'DUPLICATE' });
      }
      expect(await cache.reserve(GOOD, 1, 'uuid-1', T0)).toEqual({ kind: 'RESERVED', stockLeft: 19_999 });
      expect(await cache.load(GOOD, 1, buyers, { onlyIfMissing: true })).toBe(false);
      expect(await cache.load(GOOD, 5, range(9_000, 2_000_000), { onlyIfMissing: false })).toBe(true);
      expect(await cache.reserve(GOOD, 1_000_000, 'uuid-again', T0)).toEqual({ kind: 'RESERVED', stockLeft: 4 });
      expect(await cache.reserve(GOOD, 2_008_999, 'uuid-last', T0)).toEqual({ kind: 'DUPLICATE' });
      expect(await cache.reserve(GOOD, 1, 'uuid-1b', T0)).toEqual({ kind: 'DUPLICATE' });
    });

    it('a negative or fractional stock, or a bad buyer id → refused, nothing written', async () => {
      await expect(load(-1)).rejects.toThrow(RangeError);
      await expect(load(1.5)).rejects.toThrow(RangeError);
      await expect(load(1, [Number.NaN])).rejects.toThrow(RangeError);
      expect(await cache.read(GOOD)).toEqual({ preStock: null, inFlight: 0 });
    });
  });

  describe('load as a compare-and-set (ifUnchangedFrom)', () => {
    const cas = (stock: number, buyers: number[], from: number | null) =>
      cache.load(GOOD, stock, buyers, { onlyIfMissing: false, ifUnchangedFrom: from });

    it('pre-stock as read and nothing in flight → written', async () => {
      await load(5, [1]);
      expect(await cas(7, [2], 5)).toBe(true);
      expect(await cache.read(GOOD)).toEqual({ preStock: 7, inFlight: 0 });
      expect(await cache.reserve(GOOD, 1, 'uuid-1', T0)).toMatchObject({ kind: 'RESERVED' });
      expect(await cache.reserve(GOOD, 2, 'uuid-2', T0)).toEqual({ kind: 'DUPLICATE' });
    });

    it('pre-stock changed since it was read, or a reservation in flight → refused, nothing written', async () => {
      await load(5);
      expect(await cache.reserve(GOOD, 1, 'uuid-1', T0)).toMatchObject({ kind: 'RESERVED' });
      expect(await cas(9, [], 5)).toBe(false); // stock moved to 4
      expect(await cas(9, [], 4)).toBe(false); // a reservation is in flight
      await cache.settle(GOOD, ['uuid-1']);
      expect(await cas(9, [], 4)).toBe(true);
      expect(await cache.read(GOOD)).toEqual({ preStock: 9, inFlight: 0 });
    });

    it('null means "not loaded": refused once the good is loaded, written while it is not', async () => {
      expect(await cas(3, [], null)).toBe(true);
      expect(await cas(4, [], null)).toBe(false);
      expect((await cache.read(GOOD)).preStock).toBe(3);
    });
  });

  describe('reads', () => {
    it('readStocks of several goods, one missing → each pre-stock, null for the missing', async () => {
      await load(3, [], 1);
      await load(0, [], 2);
      await cache.reserve(1, 1, 'uuid-1', T0);
      const stocks = await cache.readStocks([1, 2, 3]);
      expect([...stocks]).toEqual([[1, 2], [2, 0], [3, null]]);
      expect((await cache.readStocks([])).size).toBe(0);
    });

    it('reservations → oldest first, each with its buyer and time', async () => {
      await load(10);
      await cache.reserve(GOOD, 1, 'uuid-c', T0 + 300);
      await cache.reserve(GOOD, 2, 'uuid-a', T0 + 100);
      await cache.reserve(GOOD, 3, 'uuid-b', T0 + 200);
      await cache.reserve(GOOD, 4, 'uuid-d', T0 + 100);
      expect(await cache.reservations(GOOD)).toEqual([
        { uuid: 'uuid-a', userId: 2, at: T0 + 100 },
        { uuid: 'uuid-d', userId: 4, at: T0 + 100 },
        { uuid: 'uuid-b', userId: 3, at: T0 + 200 },
        { uuid: 'uuid-c', userId: 1, at: T0 + 300 },
      ]);
    });
  });

  describe('reservationOf', () => {
    it('a uuid holding a unit → its reservation; unknown, settled, released or on another good → null', async () => {
      await load(10);
      await cache.reserve(GOOD, 1, 'uuid-1', T0 + 1);
      await cache.reserve(GOOD, 2, 'uuid-2', T0 + 2);
      await cache.reserve(GOOD, 3, 'uuid-3', T0 + 3);
      expect(await cache.reservationOf(GOOD, 'uuid-1')).toEqual({ uuid: 'uuid-1', userId: 1, at: T0 + 1 });
      await cache.settle(GOOD, ['uuid-2']);
      await cache.release(GOOD, ['uuid-3']);
      expect(await cache.reservationOf(GOOD, 'uuid-2')).toBeNull();
      expect(await cache.reservationOf(GOOD, 'uuid-3')).toBeNull();
      expect(await cache.reservationOf(GOOD, 'uuid-none')).toBeNull();
      expect(await cache.reservationOf(GOOD + 1, 'uuid-1')).toBeNull();
    });
  });

  describe('forget and cache loss', () => {
    it('a good forgotten → not loaded, no buyers, no reservations; other goods untouched', async () => {
      await load(5, [1], 1);
      await load(5, [], 2);
      await cache.reserve(1, 2, 'uuid-2', T0);
      await cache.forget(1);
      expect(await cache.read(1)).toEqual({ preStock: null, inFlight: 0 });
      expect(await cache.reservations(1)).toEqual([]);
      expect(await cache.release(1, ['uuid-2'])).toBe(0);
      expect(await cache.read(2)).toEqual({ preStock: 5, inFlight: 0 });
      await cache.forget(3);
    });

    it('a cache flush → NOT_LOADED; a load onlyIfMissing from the database → sales resume', async () => {
      await load(5);
      await cache.reserve(GOOD, 1, 'uuid-1', T0);
      await cache.settle(GOOD, ['uuid-1']);
      await cache.forget(GOOD);
      expect(await cache.reserve(GOOD, 2, 'uuid-2', T0)).toEqual({ kind: 'NOT_LOADED' });
      // The database still has 4 units and buyer 1's order.
      expect(await cache.load(GOOD, 4, [1], { onlyIfMissing: true })).toBe(true);
      expect(await cache.reserve(GOOD, 1, 'uuid-1b', T0)).toEqual({ kind: 'DUPLICATE' });
      expect(await cache.reserve(GOOD, 2, 'uuid-2', T0)).toEqual({ kind: 'RESERVED', stockLeft: 3 });
    });
  });
}
