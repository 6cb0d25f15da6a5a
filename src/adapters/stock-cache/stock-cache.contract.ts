/**
 * The StockCache contract: every behaviour the sale relies on, races included.
 * Run against each adapter by a file of a couple of lines (memory-stock-cache.test.ts,
 * redis-stock-cache.int.test.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ReserveOutcome, StockCache } from '../../core/ports.ts';

export type MakeFreshStockCache = () => Promise<{ cache: StockCache; cleanup: () => Promise<void> }>;

const GOOD = 42;
const T0 = 1_700_000_000_000;

function count(outcomes: ReserveOutcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const outcome of outcomes) counts[outcome.kind] = (counts[outcome.kind] ?? 0) + 1;
  return counts;
}

const range = (n: number, from = 1): number[] => Array.from({ length: n }, (_, i) => from + i);

export function describeStockCache(label: string, makeFresh: MakeFreshStockCache): void {
  describe(`StockCache contract: ${label}`, () => {
    let cache: StockCache;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ cache, cleanup } = await makeFresh());
    });
    afterEach(async () => {
      await cleanup();
    });

    const load = (stock: number, buyers: number[] = [], good = GOOD) =>
      cache.load(good, stock, buyers, { onlyIfMissing: false });

    describe('reserve', () => {
      it('a good never loaded → NOT_LOADED, nothing recorded', async () => {
        expect(await cache.reserve(GOOD, 1, 'uuid-1', T0)).toEqual({ kind: 'NOT_LOADED' });
        expect(await cache.read(GOOD)).toEqual({ preStock: null, inFlight: 0 });
        expect(await cache.reservations(GOOD)).toEqual([]);
      });

      it('a loaded good → RESERVED with the stock left, the unit held in flight', async () => {
        await load(10);
        expect(await cache.reserve(GOOD, 1, 'uuid-1', T0)).toEqual({ kind: 'RESERVED', stockLeft: 9 });
        expect(await cache.reserve(GOOD, 2, 'uuid-2', T0)).toEqual({ kind: 'RESERVED', stockLeft: 8 });
        expect(await cache.read(GOOD)).toEqual({ preStock: 8, inFlight: 2 });
        expect(await cache.reservations(GOOD)).toEqual([
          { uuid: 'uuid-1', userId: 1, at: T0 },
          { uuid: 'uuid-2', userId: 2, at: T0 },
        ]);
      });

      it('stock 0 → SOLD_OUT, nothing taken', async () => {
        await load(0);
        expect(await cache.reserve(GOOD, 1, 'uuid-1', T0)).toEqual({ kind: 'SOLD_OUT' });
        expect(await cache.read(GOOD)).toEqual({ preStock: 0, inFlight: 0 });
      });

      it('a buyer loaded as holding an order → DUPLICATE, even when sold out', async () => {
        await load(1, [7]);
        expect(await cache.reserve(GOOD, 7, 'uuid-7', T0)).toEqual({ kind: 'DUPLICATE' });
        await load(0, [7]);
        expect(await cache.reserve(GOOD, 7, 'uuid-7', T0)).toEqual({ kind: 'DUPLICATE' });
      });

      it('stock 50 and 500 distinct buyers at once → exactly 50 RESERVED, the rest SOLD_OUT, never negative', async () => {
        await load(50);
        const outcomes = await Promise.all(range(500).map((user) => cache.reserve(GOOD, user, `uuid-${user}`, T0)));
        expect(count(outcomes)).toEqual({ RESERVED: 50, SOLD_OUT: 450 });
        const left = outcomes.flatMap((o) => (o.kind === 'RESERVED' ? [o.stockLeft] : []));
        expect(new Set(left)).toEqual(new Set(range(50, 0)));
        expect(await cache.read(GOOD)).toEqual({ preStock: 0, inFlight: 50 });
        expect(await cache.reservations(GOOD)).toHaveLength(50);
      });

      it('one buyer with many uuids at once → exactly one RESERVED, the rest DUPLICATE', async () => {
        await load(10);
        const outcomes = await Promise.all(range(100).map((i) => cache.reserve(GOOD, 5, `uuid-${i}`, T0)));
        expect(count(outcomes)).toEqual({ RESERVED: 1, DUPLICATE: 99 });
        expect(await cache.read(GOOD)).toEqual({ preStock: 9, inFlight: 1 });
      });

      it('the same uuid sent many times at once → one unit taken, the repeats ALREADY_RESERVED', async () => {
        await load(10);
        const outcomes = await Promise.all(range(100).map(() => cache.reserve(GOOD, 5, 'uuid-same', T0)));
        expect(count(outcomes)).toEqual({ RESERVED: 1, ALREADY_RESERVED: 99 });
        expect(await cache.read(GOOD)).toEqual({ preStock: 9, inFlight: 1 });
        expect(await cache.reservations(GOOD)).toEqual([{ uuid: 'uuid-same', userId: 5, at: T0 }]);
      });

      it('a repeated uuid once sold out → still ALREADY_RESERVED, not SOLD_OUT', async () => {
        await load(1);
        await cache.reserve(GOOD, 5, 'uuid-5', T0);
        expect(await cache.reserve(GOOD, 5, 'uuid-5', T0 + 1)).toEqual({ kind: 'ALREADY_RESERVED' });
      });

      it('a uuid held by another buyer → UUID_TAKEN, nothing taken', async () => {
        await load(10);
        await cache.reserve(GOOD, 1, 'uuid-x', T0);
        expect(await cache.reserve(GOOD, 2, 'uuid-x', T0)).toEqual({ kind: 'UUID_TAKEN' });
        expect(await cache.read(GOOD)).toEqual({ preStock: 9, inFlight: 1 });
        expect(await cache.reserve(GOOD, 2, 'uuid-y', T0)).toEqual({ kind: 'RESERVED', stockLeft: 8 });
      });

      it('goods are independent: a reservation of one leaves the others as they were', async () => {
        await load(5, [], 1);
        await load(5, [], 2);
        await cache.reserve(1, 9, 'uuid-a', T0);
        expect(await cache.reserve(2, 9, 'uuid-b', T0)).toEqual({ kind: 'RESERVED', stockLeft: 4 });
        expect(await cache.read(1)).toEqual({ preStock: 4, inFlight: 1 });
      });
    });

    it('a working cache answers ping', async () => {
      await expect(cache.ping()).resolves.toBeUndefined();
    });

    describe('release', () => {
      it('a reservation released → the unit returns and the buyer may reserve again', async () => {
        await load(1);
        await cache.reserve(GOOD, 1, 'uuid-1', T0);
        expect(await cache.release(GOOD, ['uuid-1'])).toBe(1);
        expect(await cache.read(GOOD)).toEqual({ preStock: 1, inFlight: 0 });
        expect(await cache.reservations(GOOD)).toEqual([]);
        expect(await cache.reserve(GOOD, 1, 'uuid-1b', T0)).toEqual({ kind: 'RESERVED', stockLeft: 0 });
      });

      it('released twice → the second is a no-op answering 0', async () => {
        await load(5);
        await cache.reserve(GOOD, 1, 'uuid-1', T0);
        await cache.reserve(GOOD, 2, 'uuid-2', T0);
        expect(await cache.release(GOOD, ['uuid-1'])).toBe(1);
        expect(await cache.release(GOOD, ['uuid-1'])).toBe(0);
        expect(await cache.read(GOOD)).toEqual({ preStock: 4, inFlight: 1 });
      });

      it('an unknown uuid, or a good not loaded → 0, nothing changes', async () => {
        expect(await cache.release(GOOD, ['uuid-none'])).toBe(0);
        await load(5, [3]);
        expect(await cache.release(GOOD, ['uuid-none'])).toBe(0);
        expect(await cache.read(GOOD)).toEqual({ preStock: 5, inFlight: 0 });
        expect(await cache.reserve(GOOD, 3, 'uuid-3', T0)).toEqual({ kind: 'DUPLICATE' });
      });

      it('the same reservation released many times at once → the unit returns once', async () => {
        await load(5);
        await cache.reserve(GOOD, 1, 'uuid-1', T0);
        const released = await Promise.all(range(50).map(() => cache.release(GOOD, ['uuid-1'])));
        expect(released.filter(Boolean)).toHaveLength(1);
        expect(await cache.read(GOOD)).toEqual({ preStock: 5, inFlight: 0 });
      });

      it('a batch of held, unknown and repeated uuids → each held unit returns once, in one step', async () => {
        await load(10);
        for (const i of range(6, 0)) await cache.reserve(GOOD, i + 1, `uuid-${i}`, T0);
        expect(await cache.release(GOOD, ['uuid-0', 'uuid-1', 'uuid-none', 'uuid-1', 'uuid-2'])).toBe(3);
        expect(await cache.read(GOOD)).toEqual({ preStock: 7, inFlight: 3 });
        expect((await cache.reservations(GOOD)).map((r) => r.uuid)).toEqual(['uuid-3', 'uuid-4', 'uuid-5']);
        // The released buyers may buy again; the others still hold their units.
        expect(await cache.reserve(GOOD, 2, 'uuid-1b', T0)).toMatchObject({ kind: 'RESERVED' });
        expect(await cache.reserve(GOOD, 4, 'uuid-3b', T0)).toEqual({ kind: 'DUPLICATE' });
        expect(await cache.release(GOOD, [])).toBe(0);
      });

      it('overlapping batches released at once → every unit returns exactly once', async () => {
        await load(300);
        const uuids = range(300, 0).map((i) => `uuid-${i}`);
        await Promise.all(uuids.map((uuid, i) => cache.reserve(GOOD, i + 1, uuid, T0)));
        const released = await Promise.all(range(10, 0).map((k) => cache.release(GOOD, uuids.slice(k * 20, k * 20 + 100))));
        expect(released.reduce((a, b) => a + b, 0)).toBe(280);
        expect(await cache.read(GOOD)).toEqual({ preStock: 280, inFlight: 20 });
      });
    });

    describe('settle and restock', () => {
      it('a settled reservation → unit stays taken, buyer stays known, no longer in flight', async () => {
        await load(5);
        await cache.reserve(GOOD, 1, 'uuid-1', T0);
        await cache.settle(GOOD, ['uuid-1']);
        expect(await cache.read(GOOD)).toEqual({ preStock: 4, inFlight: 0 });
        expect(await cache.reservations(GOOD)).toEqual([]);
        expect(await cache.reserve(GOOD, 1, 'uuid-1b', T0)).toEqual({ kind: 'DUPLICATE' });
        // The settled uuid itself is no longer a reservation: its buyer holds an order now.
        expect(await cache.reserve(GOOD, 1, 'uuid-1', T0)).toEqual({ kind: 'DUPLICATE' });
      });

      it('settled twice, or unknown, or release after settle → no change', async () => {
        await load(5);
        await cache.reserve(GOOD, 1, 'uuid-1', T0);
        await cache.settle(GOOD, ['uuid-1']);
        await cache.settle(GOOD, ['uuid-1']);
        await cache.settle(GOOD, ['uuid-none']);
        await cache.settle(7, ['uuid-none']);
        expect(await cache.release(GOOD, ['uuid-1'])).toBe(0);
        expect(await cache.read(GOOD)).toEqual({ preStock: 4, inFlight: 0 });
      });

      it('a closed order restocked after settle → the unit returns and the buyer may reserve again', async () => {
        await load(1);
        await cache.reserve(GOOD, 1, 'uuid-1', T0);
        await cache.settle(GOOD, ['uuid-1']);
        expect(await cache.reserve(GOOD, 2, 'uuid-2', T0)).toEqual({ kind: 'SOLD_OUT' });
        await cache.restock(GOOD, [1]);
        expect(await cache.read(GOOD)).toEqual({ preStock: 1, inFlight: 0 });
        expect(await cache.reserve(GOOD, 1, 'uuid-1c', T0)).toEqual({ kind: 'RESERVED', stockLeft: 0 });
      });

      it('a batch settled, then its closed orders restocked in one call → every unit and buyer returns', async () => {
        await load(4);
        for (const i of range(4, 0)) await cache.reserve(GOOD, i + 1, `uuid-${i}`, T0);
        await cache.settle(GOOD, ['uuid-0', 'uuid-1', 'uuid-2', 'uuid-3', 'uuid-none']);
        expect(await cache.read(GOOD)).toEqual({ preStock: 0, inFlight: 0 });
        expect(await cache.restock(GOOD, [1, 3])).toBe(2);
        expect(await cache.read(GOOD)).toEqual({ preStock: 2, inFlight: 0 });
        expect(await cache.reserve(GOOD, 3, 'uuid-3b', T0)).toMatchObject({ kind: 'RESERVED' });
        expect(await cache.reserve(GOOD, 2, 'uuid-2b', T0)).toEqual({ kind: 'DUPLICATE' });
        expect(await cache.restock(GOOD, [])).toBe(0);
      });

      it('restock of a good not loaded → it stays not loaded (no half-loaded good)', async () => {
        await cache.restock(GOOD, [1]);
        expect(await cache.read(GOOD)).toEqual({ preStock: null, inFlight: 0 });
        expect(await cache.load(GOOD, 3, [], { onlyIfMissing: true })).toBe(true);
        expect(await cache.read(GOOD)).toEqual({ preStock: 3, inFlight: 0 });
      });
    });

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
  });
}
